"""One digit through the models without Streamlit (rep_models.predict, .anomaly, .denoising, .images): tiny
untrained models for the mechanics, the shipped models (skipped while their file is absent) for behaviour that
depends on training."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from rep_models import checkpoint, noise
from rep_models.anomaly import ANOMALY_MODEL, anomaly_score, reconstruction_error, reference_errors
from rep_models.codes import as_batch
from rep_models.denoising import denoise_compare, denoise_direct
from rep_models.image_decode import decode_data_url
from rep_models.images import png_bytes
from rep_models.models import build
from rep_models.predict import reconstruct_all, top_k
from rep_models.preprocess import to_mnist


def shipped(name: str):
    if not (checkpoint.PRETRAINED_DIR / f"{name}.json").is_file():
        pytest.skip(f"pretrained {name} not installed yet")
    return checkpoint.load_pretrained(name)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return {
        "linear_ae": build("linear_ae").eval(),
        "denoising_ae": build("denoising_ae", channels=4).eval(),
        "classifier": build("classifier", channels=4).eval(),
    }


def test_reconstruct_all_order_shapes_and_errors(tiny, small_batch):
    x = small_batch[0][0, 0].numpy()
    models = {"denoising_ae": tiny["denoising_ae"], "linear_ae": tiny["linear_ae"]}
    recs = reconstruct_all(models, x)
    assert [r.name for r in recs] == ["denoising_ae", "linear_ae"]
    for r in recs:
        assert r.image.shape == (28, 28) and 0 <= r.image.min() and r.image.max() <= 1
        want = float(((models[r.name].reconstruct(torch.from_numpy(x)[None, None]) - torch.from_numpy(x)) ** 2).mean())
        assert r.mse == pytest.approx(want, rel=1e-5)


def test_as_batch_rejects_wrong_shapes():
    with pytest.raises(ValueError, match="28, 28"):
        as_batch(np.zeros((20, 20)))
    assert as_batch(np.zeros((28, 28))).shape == (1, 1, 28, 28)


def test_reference_errors_sorted_and_consistent(tiny, small_batch):
    x = small_batch[0]
    ref = reference_errors(tiny["linear_ae"], x, batch_size=10)
    assert ref.shape == (len(x),) and np.all(np.diff(ref) >= 0)
    assert np.allclose(ref, np.sort(reconstruction_error(tiny["linear_ae"], x).numpy()))


def test_anomaly_score_percentiles_and_verdicts():
    ref = np.sort(np.random.default_rng(0).random(1000))
    scores = [anomaly_score(e, ref) for e in (0.0, 0.5, 0.97, 0.999, 2.0)]
    pcts = [a.percentile for a in scores]
    assert pcts == sorted(pcts) and pcts[0] == 0 and pcts[-1] == 100
    assert abs(pcts[1] - 50) < 5  # measured 47.3 (2026-12-01)
    assert [a.verdict for a in scores] == ["digit", "digit", "unusual", "not a digit", "not a digit"]
    assert "does not look like a digit" in scores[-1].message
    with pytest.raises(ValueError):
        anomaly_score(0.1, np.array([]))


def test_top_k(tiny, small_batch):
    top = top_k(tiny["classifier"], small_batch[0][:1], k=3)
    assert len(top) == 3 and len({d for d, _ in top}) == 3
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-5
    full = tiny["classifier"].predict_proba(small_batch[0][:1])[0]
    assert top[0][0] == int(full.argmax())


def test_denoise_compare_is_repeatable_and_psnr_matches(tiny, small_batch):
    clean = small_batch[0][:1]
    r1 = denoise_compare(tiny["denoising_ae"], clean, "salt_pepper", 0.2, seed=3)
    r2 = denoise_compare(tiny["denoising_ae"], clean, "salt_pepper", 0.2, seed=3)
    r3 = denoise_compare(tiny["denoising_ae"], clean, "salt_pepper", 0.2, seed=4)
    assert np.array_equal(r1.noisy, r2.noisy) and not np.array_equal(r1.noisy, r3.noisy)
    noisy = noise.corrupt(clean, "salt_pepper", 0.2, seed=3)
    assert r1.psnr["noisy"] == pytest.approx(float(noise.psnr(clean, noisy)[0]), rel=1e-5)
    assert r1.classical_name in noise.CLASSICAL_FILTERS
    assert set(r1.psnr) == {"noisy", "denoised", "classical"}
    assert r1.denoised.shape == r1.classical.shape == (28, 28)


def test_denoise_direct_has_no_psnr(tiny, small_batch):
    r = denoise_direct(tiny["denoising_ae"], small_batch[0][0, 0].numpy())
    assert r.psnr == {} and r.denoised.shape == (28, 28)


def test_png_bytes_upscales_nearest():
    a = np.zeros((28, 28), np.float32)
    a[3, 5] = 1.0
    img = np.asarray(Image.open(io.BytesIO(png_bytes(a, scale=4))))
    assert img.shape == (112, 112)
    assert img[12:16, 20:24].min() == 255 and img[11, 20] == 0 and img[12, 24] == 0
    assert Image.open(io.BytesIO(png_bytes(torch.from_numpy(a)[None, None], scale=1))).size == (28, 28)


# -------------------------------------------------------------------------- with the shipped models


def test_classifier_reads_preprocessed_mnist_digits(mnist_test):
    """Preprocessing an MNIST digit again must keep it readable: what the page does to every input.
    (Test digits: the shipped models never saw them.)"""
    clf = shipped("classifier")
    x, y = mnist_test
    xs = torch.stack([to_mnist(x[i, 0].numpy()).tensor[0] for i in range(300)])
    acc = (clf.predict_proba(xs).argmax(1) == y[:300]).float().mean().item()
    assert acc >= 0.97  # measured 0.990 on test digits 0-299 (2026-12-01)


def test_classifier_reads_a_canvas_drawing_of_a_one():
    clf = shipped("classifier")
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[50:230, 130:152, :3] = 255  # a white vertical stroke on the black canvas
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")  # as the canvas sends it: a PNG data URL
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    top = top_k(clf, to_mnist(decode_data_url(url)).final, 3)
    assert top[0][0] == 1


def test_anomaly_separates_digits_from_noise(mnist_test):
    ae = shipped(ANOMALY_MODEL)
    ref = reference_errors(ae, mnist_test[0][:2000])
    digits = [anomaly_score(e, ref) for e in reconstruction_error(ae, mnist_test[0][-100:]).numpy()]  # other test digits
    assert np.median([a.percentile for a in digits]) < 80  # measured 51.9; the noise images: 100 (2026-12-01)
    junk = torch.rand(20, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert all(anomaly_score(e, ref).verdict == "not a digit" for e in reconstruction_error(ae, junk).numpy())


def test_denoising_ae_beats_noise_and_the_classical_filter(mnist_test):
    dae = shipped("denoising_ae")
    clean = mnist_test[0][-200:]
    noisy = noise.corrupt(clean, "gaussian", 0.3, seed=0)
    denoised = dae.denoise(noisy)
    _, classical = noise.best_classical(noisy, clean)
    p_noisy, p_dae, p_classical = (noise.psnr(clean, v).mean().item() for v in (noisy, denoised, classical))
    assert p_dae > p_noisy + 3 and p_dae > p_classical  # measured 23.7 dB against 13.4 noisy, 17.2 classical (2026-12-01)
