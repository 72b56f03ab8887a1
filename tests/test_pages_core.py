"""AppTest (no browser) for Home, Draw & reconstruct and Denoise.

The page logic is tested against a *tiny zoo*: small untrained models saved in a temporary pretrained
directory, so these tests do not wait for (or depend on the quality of) the shipped models. One test
runs the pages against an empty directory: they must degrade to "not available yet", not crash.
Pages are run through ``app.py`` (``switch_page``), as in the real app, so ``st.navigation`` is tested too.
"""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from rep_models import checkpoint
from rep_models.models import build

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
DRAW = "pages/2_draw.py"
DENOISE = "pages/3_denoise.py"
TINY = {  # name -> (registered model, config): small and untrained, only the mechanics matter here
    "classifier": ("classifier", {"channels": 4, "features": 16}),
    "conv_ae": ("conv_ae", {"channels": 4}),
    "linear_ae": ("linear_ae", {}),
    "denoising_ae": ("denoising_ae", {"channels": 4}),
    "vae_2d": ("vae", {"latent_dim": 2, "channels": 4, "hidden": 32}),
    "rbm": ("rbm", {"n_hidden": 16, "n_chains": 8}),
}


def _clear_ui_caches():
    from ui import resources

    resources.load_model.clear()
    resources._anomaly_reference.clear()
    resources._free_energy_reference.clear()


@pytest.fixture(scope="module")
def tiny_zoo(tmp_path_factory):
    import torch

    d = tmp_path_factory.mktemp("tiny_zoo")
    torch.manual_seed(0)
    for name, (model, config) in TINY.items():
        checkpoint.save(build(model, **config), d / name)
    return d


@pytest.fixture(scope="module")
def zoo(tiny_zoo):
    """Point the app at the tiny zoo for this module (cached models from other directories dropped before and after)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(checkpoint, "PRETRAINED_DIR", tiny_zoo)
        _clear_ui_caches()
        yield tiny_zoo
    _clear_ui_caches()


def page(path: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    if path:
        at.switch_page(path).run()
        assert not at.exception, at.exception
    return at


def drawing_url(draw) -> str:
    """A 280x280 canvas PNG (white ink on black) as the data URL the canvas component sends."""
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    draw(ImageDraw.Draw(img))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def seven(d):
    d.line([(80, 60), (200, 60), (120, 230)], fill=(255, 255, 255, 255), width=22)


def feed_canvas(at: AppTest, key: str, url: str) -> AppTest:
    at.session_state[key] = {"drawing": {"raw": {"objects": []}, "data": url}, "backgroundFit": None}
    return at.run()


def texts(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def test_home_lists_pages_and_models(zoo):
    at = page()
    assert not at.error
    md = " ".join(texts(at, "markdown"))
    assert "Latent Lab" in " ".join(texts(at, "title"))
    for title in ("Convolutional autoencoder", "DCGAN", "Digit classifier"):
        assert title in md
    assert "parameters" in md  # the installed tiny models show their size
    assert "Not installed yet" in md  # the rest say so
    assert any("Running on" in c for c in texts(at, "caption"))


def test_draw_page_waits_for_a_drawing_then_shows_results(zoo):
    at = page(DRAW)
    assert any("Draw a digit" in i for i in texts(at, "info"))
    (canvas,) = [e.proto for e in at.main.get("bidi_component") if e.proto.component_name == "latent_lab.digit_canvas"]
    assert json.loads(canvas.json)["brush"] == at.slider(key="draw_brush").value > 0
    assert not at.metric  # nothing computed before a drawing
    feed_canvas(at, "draw_canvas", drawing_url(seven))
    assert not at.exception and not at.error
    labels = [m.label for m in at.metric]
    assert "The classifier says" in labels and any("Anomaly" in m for m in labels)
    captions = " ".join(texts(at, "caption"))
    assert "Closest:" in captions and "Not installed yet" in captions
    assert "The RBM's free energy of your digit" in captions  # the second anomaly score, beside the autoencoder's
    images = at.image
    assert len(images) >= 5 + 1 + 3  # 5 preprocessing steps, the input, one reconstruction per tiny AE
    assert len(at.progress) == 3  # top-3 digits


def test_draw_page_blank_canvas_says_draw_a_digit(zoo):
    at = page(DRAW)
    feed_canvas(at, "draw_canvas", drawing_url(lambda d: None))
    assert any("draw or upload a digit" in i for i in texts(at, "info"))
    assert not at.metric and not at.exception


def test_draw_page_cleared_canvas_asks_for_a_digit(zoo):
    """Clear and Undo live in the canvas; an emptied canvas sends no image, and the page asks for a digit."""
    at = page(DRAW)
    feed_canvas(at, "draw_canvas", drawing_url(seven))
    assert at.metric
    at.session_state["draw_canvas"] = {"drawing": {"data": None}}
    at.run()
    assert not at.metric and any("Draw a digit" in i for i in texts(at, "info"))
    at.session_state["draw_canvas"] = {"drawing": {"data": "data:text/html;base64,PHNjcmlwdD4="}}  # not an image
    at.run()
    assert not at.exception and not at.metric and any("not arrive as an image" in w.value for w in at.warning)


def test_draw_page_upload_good_and_bad_files(zoo):
    at = page(DRAW)
    at.segmented_control(key="draw_src").set_value("Upload").run()
    img = Image.new("L", (120, 160), 255)
    ImageDraw.Draw(img).line([(30, 30), (90, 30), (50, 140)], fill=0, width=12)
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    at.file_uploader(key="draw_upload").upload("seven.jpg", buf.getvalue(), "image/jpeg").run()
    assert not at.exception and "The classifier says" in [m.label for m in at.metric]
    at.file_uploader(key="draw_upload").clear().upload("evil.png", b"%PDF-1.4 not an image", "image/png").run()
    assert not at.exception and not at.error
    assert any("PDF" in w for w in texts(at, "warning")) and not at.metric


def test_denoise_page_sliders_change_the_result(zoo):
    at = page(DENOISE)
    assert not at.error
    slider = at.slider(key="denoise_level_gaussian")
    assert slider.label == "Noise level σ"
    before = [c for c in texts(at, "caption") if "dB" in c]
    assert len(at.image) == 4  # clean, noisy, denoised, classical
    slider.set_value(0.7).run()
    after = [c for c in texts(at, "caption") if "dB" in c]
    assert before != after
    assert at.download_button(key="denoise_download") is not None
    improvement = [m.value for m in at.metric]
    at.segmented_control(key="denoise_kind").set_value("mask").run()
    assert at.slider(key="denoise_level_mask").label == "Fraction of pixels erased"
    at.number_input(key="denoise_test_index").set_value(7).run()
    assert not at.exception and [m.value for m in at.metric] != improvement


def test_denoise_page_uploaded_photo_is_denoised_directly(zoo):
    at = page(DENOISE)
    at.segmented_control(key="denoise_src").set_value("Upload").run()
    rng = np.random.default_rng(0)
    a = np.full((140, 140), 200.0)
    a[30:110, 62:76] = 40
    a = np.clip(a + rng.normal(0, 25, a.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    at.file_uploader(key="denoise_upload").upload("noisy.png", buf.getvalue(), "image/png").run()
    assert not at.exception
    assert at.toggle(key="denoise_direct").value is True
    assert any("no clean original" in c for c in texts(at, "caption"))
    at.toggle(key="denoise_direct").set_value(False).run()
    assert at.slider(key="denoise_level_gaussian")


def test_pages_degrade_without_models(zoo, tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "PRETRAINED_DIR", tmp_path)  # restored to the tiny zoo afterwards
    _clear_ui_caches()
    try:
        at = page(DRAW)
        feed_canvas(at, "draw_canvas", drawing_url(seven))
        assert not at.exception and not at.error
        infos = " ".join(texts(at, "info"))
        assert "not available yet" in infos and "No autoencoder is installed yet" in infos
        at = page(DENOISE)
        assert not at.exception and not at.error
        assert "not available yet" in " ".join(texts(at, "info"))
    finally:
        _clear_ui_caches()


def test_page_files_are_named_after_their_url_paths():
    # Streamlit resolves a first visit's URL against pages/ by file name ("2_draw.py" -> "draw") before
    # app.py has declared st.navigation, and ui.nav.leave_legacy_mode's rerun keeps that page's identity (a
    # hash of its url_path): a mismatch would land the first visitor on "Page not found" or on Home.
    import re

    from ui import common as ui_common

    for spec in ui_common.PAGES:
        assert re.sub(r"^\d+_", "", Path(spec.path).stem) == spec.url_path, spec
