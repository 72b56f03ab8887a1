"""The server-side paths on a GPU (issue 18): when the server has CUDA, ``ui.resources.device()`` is ``cuda`` and the
pages' work runs there -- Draw's reconstructions and classifier, the Denoise page, the VAE explorer's server-side
decoders (the fallback when the browser does not decode), GAN grids and latent-walk frames, Train live and its
"Step a GAN". Each must move its model and inputs to the device and bring results back with ``.cpu()``, and give
what the CPU gives: latents are drawn on the CPU (``models.base.seeded_normal``) and moved, so a seed means the same
samples on either device.

The GPU tests skip without CUDA (``needs_cuda``); the device choice itself (``rep_models.device.pick_device`` and the
training CLI's ``--device``) is checked everywhere. Each GPU test's body is a helper taking the device, so the same
code can be run on ``cpu`` against itself.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rep_models import checkpoint, fast
from rep_models.device import pick_device

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
TOL = 1e-4  # the GPU's results against the CPU's (different kernels, the same fp32 arithmetic up to rounding)


# ------------------------------------------------------------------------------------------- the device choice

def _no_accelerators(monkeypatch, cuda: bool = False, mps: bool = False) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    if getattr(torch.backends, "mps", None) is not None:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


def test_pick_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    _no_accelerators(monkeypatch)
    assert pick_device() == torch.device("cpu") and pick_device("auto") == torch.device("cpu")
    _no_accelerators(monkeypatch, cuda=True)
    assert pick_device() == torch.device("cuda") and pick_device("auto") == torch.device("cuda")
    assert pick_device("cpu") == torch.device("cpu")  # asked for: honoured even with a GPU there
    _no_accelerators(monkeypatch, cuda=True, mps=True)
    assert pick_device() == torch.device("cuda")
    _no_accelerators(monkeypatch, mps=True)
    assert pick_device() == torch.device("mps")


def test_the_training_cli_honours_device(monkeypatch):
    """``python -m rep_models.train ... --device cpu`` trains on the CPU even where there is a GPU; without
    ``--device`` it is auto (the GPU when there is one). ``train`` passes ``opts.device`` to ``pick_device``."""
    from rep_models.training.cli import parser
    from rep_models.training.options import resolve

    _no_accelerators(monkeypatch, cuda=True)
    _, _, opts, _ = resolve("conv_ae", parser().parse_args(["conv_ae", "--device", "cpu"]))
    assert opts.device == "cpu" and pick_device(opts.device) == torch.device("cpu")
    _, _, opts, _ = resolve("conv_ae", parser().parse_args(["conv_ae", "--device", "cuda:1"]))
    assert pick_device(opts.device) == torch.device("cuda", 1)
    _, _, opts, _ = resolve("conv_ae", parser().parse_args(["conv_ae"]))
    assert opts.device == "auto" and pick_device(opts.device) == torch.device("cuda")


# -------------------------------------------------------------------------------------------------- helpers

@pytest.fixture
def full_fp32():
    """cuDNN convolutions in full fp32 for the comparisons: PyTorch lets them use TF32 by default on Ampere and later
    GPUs (about 1e-3 from the CPU's result, invisible in a digit but not within :data:`TOL`). Matrix products are
    fp32 by default already; set here too in case something changed the default."""
    cudnn, matmul = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = cudnn, matmul


_CPU: dict[str, torch.nn.Module] = {}


def reference(name: str) -> torch.nn.Module:
    """The shipped model as the CPU serves it, loaded once."""
    if name not in _CPU:
        _CPU[name] = fast.optimize(checkpoint.load_pretrained(name, "cpu"))
    return _CPU[name]


def served(name: str, device) -> torch.nn.Module:
    """The shipped model as ``ui.resources.load_model`` serves it on ``device``: loaded there, then the fast path."""
    return fast.optimize(checkpoint.load_pretrained(name, device=device))


def on(module: torch.nn.Module, device) -> bool:
    dev = torch.device(device)
    return all(t.device.type == dev.type for t in [*module.parameters(), *module.buffers()])


def close(a, b, tol: float = TOL) -> None:
    a = a.detach().float().cpu() if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a, dtype=np.float32))
    b = b.detach().float().cpu() if isinstance(b, torch.Tensor) else torch.as_tensor(np.asarray(b, dtype=np.float32))
    torch.testing.assert_close(a, b, rtol=0, atol=tol)


@pytest.fixture(scope="module")
def digits():
    """Ten MNIST test digits, one of each class (the shipped sample, as tests/test_train_live.py reads it)."""
    from rep_models.data import load_tensors

    x, y = load_tensors("mnist", "test", source="sample")
    idx = [int((y == d).nonzero()[0, 0]) for d in range(10)]
    return x[idx], y[idx]


@pytest.fixture(scope="module")
def train_digits():
    """A few hundred training digits: the shipped sample's validation split (tests/test_train_live.py's ``mnist_val``)."""
    from rep_models.data import load_tensors

    x, y = load_tensors("mnist", "val", source="sample")
    return x[:256], y[:256], (x[-16:], y[-16:])


# ------------------------------------------------------------------------- the bodies (a device in, checks out)

def check_loading(device) -> None:
    """Every shipped model loads on ``device`` and goes through the fast path there, nothing left on the CPU."""
    for name in checkpoint.available():
        m = checkpoint.load_pretrained(name, device=device)
        assert on(m, device) and not m.training, name
        assert on(fast.optimize(m), device), f"{name}: the fast path left weights off {device}"


def check_draw(device, x: torch.Tensor) -> None:
    """Draw: each autoencoder's reconstruction of a digit (a conv AE and the VAE), its error, the classifier's top
    digits and the not-a-digit detector's features, as on the CPU."""
    from rep_models import ood, precomputed
    from rep_models.predict import reconstruct_all, top_k

    names = ("conv_ae", "vae")
    for digit in x[:3]:
        mine = reconstruct_all({n: served(n, device) for n in names}, digit[0].numpy())
        ref = reconstruct_all({n: reference(n) for n in names}, digit[0].numpy())
        for a, b in zip(mine, ref, strict=True):
            assert a.name == b.name and isinstance(a.image, np.ndarray) and a.image.shape == (28, 28)
            close(a.image, b.image)
            assert a.mse == pytest.approx(b.mse, abs=TOL)
    clf, clf_ref = served("classifier", device), reference("classifier")
    for digit in x:
        mine, ref = top_k(clf, digit[0].numpy()), top_k(clf_ref, digit[0].numpy())
        assert [d for d, _ in mine] == [d for d, _ in ref]
        close([p for _, p in mine], [p for _, p in ref])
    for f, g in zip(ood.layer_features(clf, x), ood.layer_features(clf_ref, x), strict=True):
        np.testing.assert_allclose(f, g, rtol=1e-4, atol=1e-4)
    arrays = precomputed.load(ood.ITEM)
    if arrays is not None:
        det = ood.detectors(arrays)["draw"]
        np.testing.assert_allclose(det.score(clf, x), det.score(clf_ref, x), rtol=1e-3)


def check_denoise(device, x: torch.Tensor) -> None:
    from rep_models.denoising import denoise_compare, denoise_direct

    m, ref = served("denoising_ae", device), reference("denoising_ae")
    a, b = denoise_compare(m, x[0, 0].numpy(), "gaussian", 0.5, seed=3), denoise_compare(ref, x[0, 0].numpy(), "gaussian", 0.5, seed=3)
    close(a.noisy, b.noisy, 0)
    close(a.denoised, b.denoised)
    close(denoise_direct(m, a.noisy).denoised, denoise_direct(ref, a.noisy).denoised)


def check_vae_explorer(device, x: torch.Tensor, y: torch.Tensor) -> None:
    """The VAE page's server-side work: encode a digit, decode codes (sliders, paths), the 2-D manifold, the CVAE's
    digit in each label's style, VAE samples for a seed."""
    from rep_models.codes import decode_at, encode_all
    from rep_models.manifold import manifold_grid

    for name in ("vae", "beta_vae"):
        m, ref = served(name, device), reference(name)
        z = encode_all(m, x)
        assert isinstance(z, np.ndarray)
        close(z, encode_all(ref, x))
        out = decode_at(m, z)
        assert isinstance(out, np.ndarray) and out.shape == (10, 28, 28)
        close(out, decode_at(ref, z))
        close(decode_at(m, z[0]), decode_at(ref, z[0]))  # one code: the slider's decode
        close(m.sample(8, seed=5), ref.sample(8, seed=5))
    m, ref = served("vae_2d", device), reference("vae_2d")
    close(manifold_grid(m, 5).image, manifold_grid(ref, 5).image)
    m, ref = served("cvae", device), reference("cvae")
    z = encode_all(m, x, y)
    close(z, encode_all(ref, x, y))
    row = np.repeat(z[:1], 10, 0)
    close(decode_at(m, row, y=np.arange(10)), decode_at(ref, row, y=np.arange(10)))


def check_gan(device) -> None:
    """GAN grids (``sampling.gan_samples``: the same seed, the same samples, truncated or not, a chosen digit) and
    latent-walk frames (``sampling.walk_frames``)."""
    from rep_models.codes import decode_at
    from rep_models.sampling import gan_samples, walk_frames

    for name in ("dcgan", "cdcgan", "gan"):
        m, ref = served(name, device), reference(name)
        a = gan_samples(m, 16, seed=11)
        assert isinstance(a, np.ndarray) and a.shape == (16, 28, 28)
        close(a, gan_samples(ref, 16, seed=11))
        close(gan_samples(m, 8, seed=2, truncation=1.0), gan_samples(ref, 8, seed=2, truncation=1.0))
        close(m.latent(4, seed=9), ref.latent(4, seed=9), 0)  # drawn on the CPU, then moved: bit for bit
        close(walk_frames(m, 3, 4, walkers=2, seed=1), walk_frames(ref, 3, 4, walkers=2, seed=1))
        z = ref.latent(3, seed=4).numpy()
        y = [7, 7, 7] if m.conditional else None
        close(decode_at(m, z, y=y), decode_at(ref, z, y=y))
    m, ref = served("cdcgan", device), reference("cdcgan")
    close(gan_samples(m, 10, seed=0, digit=4), gan_samples(ref, 10, seed=0, digit=4))


def check_fast_path(device, x: torch.Tensor) -> None:
    """The fast path the app serves (``rep_models.fast.optimize`` of the model loaded on ``device``) against the
    plain model on the CPU, verb by verb."""
    from rep_models.models.base import seeded_normal

    for name in ("conv_ae", "vae", "classifier", "dcgan", "cdcgan"):
        plain = checkpoint.load_pretrained(name, "cpu")
        m = served(name, device)
        assert on(m, device)
        with torch.inference_mode():
            if plain.family == "gan":
                z = seeded_normal((8, plain.config.z_dim), 0)
                yy = (torch.arange(8) % 10) if plain.conditional else None
                close(m.decode(z.to(device), None if yy is None else yy.to(device)), plain.decode(z, yy))
            elif plain.family == "classifier":
                close(m.predict_proba(x.to(device)), plain.predict_proba(x))
            else:
                close(m.reconstruct(x.to(device)), plain.reconstruct(x))
                close(m.encode(x.to(device)), plain.encode(x))


def _train(device, name: str, data) -> object:
    from rep_models.training.live import TrainJob

    x, y, val = data
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # the same initial weights on either device (built on the CPU, then moved)
        job = TrainJob(name, x, y, val, epochs=1, batch_size=128, seed=0, device=device, heartbeat_timeout=600.0)
        job._run()  # in this thread: the test is one job, start-to-end
    return job


def check_train_live(device, data) -> None:
    """One bounded Train live epoch (256 digits, 2 batches) of an autoencoder, the VAE and the DCGAN on ``device``:
    it finishes, its model is on ``device``, its losses are finite and the first batch's loss is the CPU's (the same
    initial weights, batches and noise)."""
    for name in ("conv_ae", "vae", "dcgan"):
        job = _train(device, name, data)
        s = job.state()
        assert s.status == "done", s.message
        assert s.batches_done == s.batches_total == 2 and len(s.records) == 1
        assert on(job.model, device), name
        assert all(math.isfinite(v) for _, _, v in s.losses)
        assert s.snapshot is not None and s.snapshot.dtype == np.float32 and np.isfinite(s.snapshot).all()
        if torch.device(device).type != "cpu":
            cpu = _train("cpu", name, data).state()
            assert [n for _, n, _ in s.losses] == [n for _, n, _ in cpu.losses]
            assert s.losses[0][2] == pytest.approx(cpu.losses[0][2], rel=1e-3, abs=1e-4), name


def check_gan_stepper(device, data) -> None:
    """Train live's "Step a GAN" on ``device``: a step of each player, the scores, the sample grid and the histogram
    (the classifier on the same device); the first step as on the CPU."""
    from rep_models.training.gan_stepper import GanStepper

    x = data[0]

    def stepper(dev):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return GanStepper("dcgan", x, seed=0, device=dev)

    g = stepper(device)
    assert on(g.model, device)
    recs = g.step("both") + g.step("discriminator") + g.step("generator")
    assert [r.player for r in recs] == ["both", "discriminator", "generator"] and g.steps == 3
    for r in recs:
        assert all(math.isfinite(v) for v in (r.d_real, r.d_fake, *(v for v in (r.d_loss, r.g_loss) if v is not None)))
    s = g.samples(8)
    assert isinstance(s, np.ndarray) and s.shape == (8, 28, 28) and np.isfinite(s).all()
    h = g.histogram(served("classifier", device), n=64)
    assert h["counts"].sum() == 64 and math.isfinite(h["kl_to_uniform"])
    if torch.device(device).type != "cpu":
        first = stepper("cpu").step("both")[0]
        assert recs[0].d_loss == pytest.approx(first.d_loss, abs=1e-3)
        assert recs[0].g_loss == pytest.approx(first.g_loss, abs=1e-3)


def check_app_device(device) -> None:
    """The app's own loader (``ui.resources``) on a GPU machine: the device is the GPU, the models are served there."""
    from ui import resources

    resources.device.clear()
    resources.load_model.clear()
    try:
        assert resources.device().type == torch.device(device).type
        assert on(resources.load_model("conv_ae"), device)
    finally:
        resources.load_model.clear()
        resources.device.clear()


# ---------------------------------------------------------------------------------------------- on the GPU

@needs_cuda
def test_the_app_serves_on_the_gpu():
    check_app_device("cuda")


@needs_cuda
def test_shipped_models_load_on_the_gpu():
    check_loading("cuda")


@needs_cuda
def test_draw_reconstructions_on_the_gpu_match_the_cpu(full_fp32, digits):
    check_draw("cuda", digits[0])


@needs_cuda
def test_denoise_on_the_gpu_matches_the_cpu(full_fp32, digits):
    check_denoise("cuda", digits[0])


@needs_cuda
def test_vae_explorer_decoders_on_the_gpu_match_the_cpu(full_fp32, digits):
    check_vae_explorer("cuda", *digits)


@needs_cuda
def test_gan_grids_and_walk_frames_on_the_gpu_match_the_cpu(full_fp32):
    check_gan("cuda")


@needs_cuda
def test_fast_path_on_the_gpu_matches_the_plain_model(full_fp32, digits):
    check_fast_path("cuda", digits[0])


@needs_cuda
def test_train_live_epoch_on_the_gpu(full_fp32, train_digits):
    check_train_live("cuda", train_digits)


@needs_cuda
def test_gan_stepper_on_the_gpu(full_fp32, train_digits):
    check_gan_stepper("cuda", train_digits)
