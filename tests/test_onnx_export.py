"""The networks the page runs (rep_models.onnx_export): each in-page model exports from its shipped weights to a graph
of the page's signature, the same bytes every time, that gives what the PyTorch model gives; the seeded latents
the page draws (portable_normal) are a proper, repeatable normal."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rep_models import catalogue, checkpoint, onnx_export
from rep_models.models.base import portable_normal, seeded_normal, share_bucket

ort = pytest.importorskip("onnxruntime", reason="onnxruntime comes with requirements-dev.txt")
IN_PAGE = catalogue.with_role(onnx_export.ROLE)


@pytest.fixture(scope="module")
def graphs():
    """``{name: (model, onnx bytes)}`` for every shipped in-page model."""
    out = {}
    for name in onnx_export.exportable():
        model = checkpoint.load_pretrained(name).eval()
        out[name] = (model, onnx_export.export_bytes(name, model))
    return out


def test_every_in_page_model_is_shipped_and_exports_repeatably(graphs):
    assert sorted(graphs) == sorted(IN_PAGE), "a model with the in_page role is not shipped"
    for name, (model, blob) in graphs.items():
        assert len(blob) < 8_000_000, name  # sent to the page once per session (server.maxMessageSize 16 MB)
        layers = [type(m) for m in model.modules()]
        again = onnx_export.export_bytes(name, model)
        assert again == blob, f"{name}: two exports differ (the page's id for a network is its graph's hash)"
        assert [type(m) for m in model.modules()] == layers, f"{name}: the export rewrote the model it was given"


@pytest.mark.parametrize("name", IN_PAGE)
def test_the_graph_gives_what_the_model_gives(graphs, name):
    model, blob = graphs[name]
    sig = onnx_export.signature(name, model)
    s = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    assert [i.name for i in s.get_inputs()] == sig["inputs"] and s.get_outputs()[0].name == sig["output"]
    with torch.no_grad():
        if sig["kind"] == "classifier":
            x = np.random.default_rng(0).random((33, 28, 28), dtype=np.float32)
            want = torch.softmax(model(torch.from_numpy(x)[:, None]), 1).numpy()
            got = s.run(None, {"x": x})[0]
        elif sig["style"]:  # truncation in W and the fixed noise maps on or off, as the page asks
            z = seeded_normal((33, sig["latent_dim"]), 5).numpy()
            for psi, gain, mode in ((1.0, 1.0, "const"), (0.6, 1.0, "const"), (0.8, 0.0, "none")):
                want = model.synthesis(model.broadcast(model.truncate(model.mapping(torch.from_numpy(z)), psi)), noise=mode)[:, 0].numpy()
                got = s.run(None, {"z": z, "psi": np.float32([psi]), "noise": np.float32([gain])})[0]
                np.testing.assert_allclose(got, want, atol=1e-4, err_msg=f"psi {psi}, noise {mode}")
            assert np.abs(got - s.run(None, {"z": z, "psi": np.float32([0.8]), "noise": np.float32([1.0])})[0]).mean() > 1e-3
        else:
            z = seeded_normal((33, sig["latent_dim"]), 5).numpy()  # 33: the batch size is free
            y = np.arange(33) % 10
            feeds = {"z": z, **({"y": y.astype(np.int64)} if sig["conditional"] else {})}
            want = model.decode(torch.from_numpy(z), torch.from_numpy(y) if sig["conditional"] else None)[:, 0].numpy()
            got = s.run(None, feeds)[0]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-4)  # measured: at most 1.2e-6


def test_exports_from_several_threads_at_once_all_succeed(graphs):
    """The server exports from the warm-up thread and page threads at once; torch's exporter keeps global state."""
    from concurrent.futures import ThreadPoolExecutor

    names = [n for n in ("gan", "cvae", "beta_vae", "dcgan") if n in graphs] * 3
    with ThreadPoolExecutor(len(names)) as pool:
        blobs = list(pool.map(lambda n: onnx_export.export_bytes(n, graphs[n][0]), names))
    assert blobs == [graphs[n][1] for n in names]


def test_the_command_writes_the_same_graphs_and_refuses_other_models(tmp_path, graphs):
    written = onnx_export.export(["gan", "cvae"], tmp_path)
    for name in ("gan", "cvae"):
        assert (tmp_path / f"{name}.onnx").read_bytes() == graphs[name][1]
        assert written[name]["conditional"] == (name == "cvae")
    with pytest.raises(ValueError, match="not exportable"):
        onnx_export.export(["linear_ae"], tmp_path)


def test_portable_normal_is_a_repeatable_standard_normal():
    z = portable_normal(200_000, 11)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01  # 0.0026 / 0.002 off for this seed
    assert abs(np.mean(np.abs(z) > 2) - 0.0455) < 0.003
    assert np.array_equal(z[:1000], portable_normal(1000, 11))  # a prefix of the same stream
    assert not np.allclose(portable_normal(64, 1), portable_normal(64, 2))
    assert np.corrcoef(portable_normal(5000, 3)[:-1], portable_normal(5000, 3)[1:])[0, 1] < 0.05
    t = portable_normal(50_000, 4, truncation=0.5)
    assert np.abs(t).max() <= 0.5 and t.std() > 0.25  # redrawn, not clamped: a flat-ish spread inside ±0.5
    assert np.mean(np.abs(t) == 0.5) < 1e-3
    g = seeded_normal((3, 4), 11)
    assert g.dtype == torch.float32 and np.allclose(g.numpy().ravel(), z[:12].astype(np.float32))


def test_share_bucket_follows_the_shares_quantiles():
    z = torch.from_numpy(portable_normal(100_000, 2).astype(np.float32))
    shares = [0.1, 0.3, 0.6]
    counts = np.bincount(share_bucket(z, shares).numpy(), minlength=3) / len(z)
    np.testing.assert_allclose(counts, shares, atol=0.01)
    assert share_bucket(torch.tensor([-5.0, 5.0]), [1.0] * 10).tolist() == [0, 9]
