"""rep_models.precomputed: the shipped first-use values match the shipped models and data, match what the pages
would compute, stay small, and a stale, corrupt or missing file is detected and replaced by a computation.
Also ui.warmup's switches (it never runs outside a real server)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rep_models import checkpoint, precomputed
from rep_models.models import build
from rep_models.sample_data import npz_bytes

SHIPPED = [n for n in precomputed.ITEMS if all(checkpoint.PRETRAINED_DIR.joinpath(f"{m}.json").is_file()
                                                 for m in precomputed.ITEMS[n].models)]
ITEM = "linear_ae_test_mse"  # the cheapest item: a linear model on 5,000 digits


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The app's (and the writer's) torch setting, so recomputed values are computed as the shipped ones were."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_every_shipped_file_is_usable():
    assert precomputed.check() == {}, "run: python -m rep_models.precomputed && python -m rep_models.checkpoint manifest"


def test_shipped_files_are_small_and_in_the_manifest():
    manifest = checkpoint.read_manifest()
    sizes = {n: precomputed.path_for(n).stat().st_size for n in SHIPPED}
    assert all(precomputed.path_for(n).name in manifest for n in SHIPPED)
    # The largest, the not-a-digit detector: a whitening matrix per digit class, layer and channel (float16): 805 kB.
    # Before it had one per layer (120 kB), it let a quarter of the letters drawn on the canvas through (README).
    assert max(sizes.values()) <= 900_000, sizes
    assert sum(sizes.values()) <= 1_400_000, sizes  # all of them: 1.27 MB


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_values_are_what_the_page_computes(name):
    """Recomputed now (the app's inference path, one thread), every item agrees with its file: a change in how
    an item is computed that was not followed by a re-run shows here even when the models did not change."""
    shipped, now = precomputed.load(name), precomputed.compute(name)
    assert shipped is not None and set(shipped) == set(now)
    for k, v in now.items():
        if k == "components":  # eigenvectors with rep_models.pca's signs (float32 storage): the same, sign included
            cos = np.sum(shipped[k].astype(np.float64) * v, axis=1)
            assert cos.min() > 1 - 1e-5, (k, cos.min())
        elif k == "counts":  # 2,000 samples classified: a borderline one may flip on another CPU
            assert np.abs(shipped[k] - v).max() <= 3 and shipped[k].sum() == v.sum() == precomputed.N_GAN
        elif shipped[k].dtype == np.float16:  # stored at half precision: another CPU's last bits can round one step away
            # (measured here: 5 of 20,800 whitening entries one float16 step off, 0.000925 relative)
            np.testing.assert_allclose(shipped[k].astype(np.float32), np.asarray(v, np.float32), rtol=2**-9, atol=1e-5,
                                       err_msg=f"{name}.{k}")
        else:
            np.testing.assert_allclose(shipped[k], v, rtol=1e-4, atol=1e-5, err_msg=f"{name}.{k}")
        assert shipped[k].shape == np.shape(v)


def test_shipped_pca_and_codes_have_the_shapes_the_pages_use():
    pca = precomputed.load("train_pca")
    assert pca["mean"].shape == (784,) and pca["eigenvalues"].shape == (784,)
    assert pca["components"].shape == (precomputed.PCA_COMPONENTS, 784) and pca["components"].dtype == np.float32
    card = checkpoint.read_card(checkpoint.PRETRAINED_DIR / "linear_ae")
    assert card["config"]["latent_dim"] <= precomputed.PCA_COMPONENTS  # the page shows that many components
    for name in precomputed.CODE_VAES:
        a = precomputed.load(f"test_codes_{name}")
        d = checkpoint.read_card(checkpoint.PRETRAINED_DIR / name)["config"]["latent_dim"]
        assert a["codes"].shape == (precomputed.N_CODES, d) and a["codes"].dtype == np.float32
        assert np.bincount(a["labels"], minlength=10).min() >= 150  # every digit, for the class means


@pytest.fixture
def model_dir(tmp_path):
    """A pretrained folder with one linear AE (latent 4) and the item written from it."""
    torch.manual_seed(0)
    checkpoint.save(build("linear_ae", latent_dim=4), tmp_path / "linear_ae")
    precomputed.write([ITEM], tmp_path)
    return tmp_path


def test_a_written_file_reads_back_and_is_the_same_bytes_every_time(model_dir):
    path = precomputed.path_for(ITEM, model_dir)
    first = path.read_bytes()
    assert ITEM not in precomputed.check(model_dir)
    np.testing.assert_allclose(precomputed.load(ITEM, model_dir)["mse"], precomputed.compute(ITEM, directory=model_dir)["mse"])
    precomputed.write([ITEM], model_dir)
    assert path.read_bytes() == first


def test_a_retrained_model_makes_its_file_stale_and_the_value_is_computed(model_dir, caplog):
    torch.manual_seed(1)  # "retrained": other weights under the same name
    checkpoint.save(build("linear_ae", latent_dim=4), model_dir / "linear_ae")
    assert "stale" in precomputed.check(model_dir)[ITEM] and "linear_ae" in precomputed.check(model_dir)[ITEM]
    with caplog.at_level("WARNING", logger="rep_models.precomputed"):
        assert precomputed.load(ITEM, model_dir) is None
    assert "python -m rep_models.precomputed --only linear_ae_test_mse" in caplog.text
    got = precomputed.get(ITEM, directory=model_dir)["mse"]  # computed from the new model
    assert float(got) == pytest.approx(float(precomputed.compute(ITEM, directory=model_dir)["mse"]))


def test_other_parameters_or_format_make_a_file_stale(model_dir, monkeypatch):
    monkeypatch.setattr(precomputed, "FORMAT", precomputed.FORMAT + 1)
    assert "format" in precomputed.check(model_dir)[ITEM]
    monkeypatch.undo()
    item = precomputed.ITEMS[ITEM]
    monkeypatch.setitem(precomputed.ITEMS, ITEM, precomputed.Item(item.models, item.split, item.fn, {"n": 100}))
    assert "params" in precomputed.check(model_dir)[ITEM]


def test_a_corrupt_missing_or_unlisted_file_is_not_used(model_dir):
    path = precomputed.path_for(ITEM, model_dir)
    checkpoint.write_manifest(model_dir)
    assert ITEM not in precomputed.check(model_dir)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert "manifest" in precomputed.check(model_dir)[ITEM]
    (model_dir / "manifest.json").unlink()  # without a manifest the damage shows when reading
    path.write_bytes(b"PK\x03\x04 not a zip")
    assert "unreadable" in precomputed.check(model_dir)[ITEM]
    path.unlink()
    assert "not found" in precomputed.check(model_dir)[ITEM]
    assert precomputed.load(ITEM, model_dir) is None
    assert "mse" in precomputed.get(ITEM, directory=model_dir)


def test_a_missing_model_makes_the_file_unusable(model_dir):
    (model_dir / "linear_ae.json").unlink()
    assert "unreadable" in precomputed.check(model_dir)[ITEM]


def test_sources_name_the_weights_and_data_they_came_from(model_dir):
    s = precomputed.sources(ITEM, model_dir)
    card = json.loads((model_dir / "linear_ae.json").read_text())
    assert s["models"] == {"linear_ae": card["weights_sha256"]}
    from rep_models.data import data_checksum

    assert s["data"] == data_checksum("mnist", source="sample") and s["params"] == {"n": precomputed.N_MSE}
    with np.load(precomputed.path_for(ITEM, model_dir), allow_pickle=False) as f:
        assert json.loads(str(f["sources"])) == s


def test_npz_bytes_keeps_scalars_and_arrays(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.int16).reshape(2, 3), "s": np.float64(0.25), "t": np.array("text")}
    (tmp_path / "x.npz").write_bytes(npz_bytes(arrays))
    with np.load(tmp_path / "x.npz", allow_pickle=False) as f:
        assert f["a"].shape == (2, 3) and f["s"].shape == () and float(f["s"]) == 0.25 and str(f["t"]) == "text"
    assert npz_bytes(arrays) == npz_bytes(arrays)


def test_unknown_item_is_an_error():
    with pytest.raises(ValueError, match="unknown precomputed item"):
        precomputed.path_for("nope")


def test_warmup_runs_only_under_a_real_server(monkeypatch):
    from ui import warmup

    assert not warmup.enabled()  # no Streamlit runtime here
    assert warmup.start() is None
    monkeypatch.setenv("LATENT_LAB_WARMUP", "0")
    assert not warmup.enabled()


def _in_warmup_thread(fn):
    """Run ``fn`` in a thread named like the warm-up's (what yield_to_pages and the log filter look for)."""
    import threading

    from ui import warmup

    errors = []

    def run():
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the test
            errors.append(e)

    t = threading.Thread(target=run, name=warmup.THREAD_NAME)
    t.start()
    t.join(120)
    if errors:
        raise errors[0]


def test_yield_to_pages_waits_only_in_the_warmup_thread_while_a_script_runs():
    import threading
    import time

    from ui import warmup

    script = threading.Thread(target=time.sleep, args=(0.5,), name=warmup.SCRIPT_THREAD)  # a page's script run
    script.start()
    t = time.perf_counter()
    warmup.yield_to_pages()  # not the warm-up thread: at once
    assert time.perf_counter() - t < 0.2
    waited = []
    _in_warmup_thread(lambda: (t0 := time.perf_counter(), warmup.yield_to_pages(), waited.append(time.perf_counter() - t0)))
    script.join()
    assert waited[0] >= 0.3  # it waited for the script run to end
    t = time.perf_counter()
    _in_warmup_thread(warmup.yield_to_pages)  # no script running: at once
    assert time.perf_counter() - t < 0.2


def test_warmup_fills_the_caches_the_pages_read(monkeypatch):
    """The warm-up's steps fill the pages' own st.cache_resource entries (a page then computes nothing), and the
    shipped files are only read."""
    from ui import latent, resources, warmup

    def never(*a, **k):
        raise AssertionError("computed although shipped")

    calls = []
    grid = latent.manifold_grid
    monkeypatch.setattr(precomputed, "compute", never)
    monkeypatch.setattr(latent, "manifold_grid", lambda *a, **k: calls.append(a[1:]) or grid(*a, **k))
    for fn in (latent.manifold, latent.test_codes, latent._shipped_pca, latent.gan_histogram, resources._anomaly_reference):
        fn.clear()
    steps = dict(warmup.steps())
    _in_warmup_thread(lambda: (steps["shipped files"](), steps["manifold grids"]()))
    assert sorted(calls) == sorted((n,) for n in latent.MANIFOLD_SIZES)
    assert latent.manifold("vae_2d", 15).n == 15 and len(calls) == len(latent.MANIFOLD_SIZES)  # from the cache
    assert len(resources.anomaly_reference()) == 10_000
    assert latent.test_codes("vae")[0].shape == (precomputed.N_CODES, 32)
    assert latent.gan_histogram("dcgan")[0].sum() == precomputed.N_GAN
    assert latent.train_pca(32).components.shape[0] >= 32
