"""The pages' downloads (ui/downloads.py over rep_models/exports.py), in AppTest: each file is made only when its
button is clicked (never during a run), and what a click makes is a valid PNG, GIF, CSV or model archive."""
from __future__ import annotations

import csv
import io
import zipfile

import pytest
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager
from test_pages_explore import _wait, ok, run, tiny_zoo, zoo  # noqa: F401 - fixtures

from rep_models import checkpoint, exports

pytestmark = pytest.mark.usefixtures("zoo")


@pytest.fixture
def clicks(monkeypatch):
    """Records each deferred download's callable by its file id, and counts the exports made, so a test can
    check that a run made none and then 'click' a button (call what Streamlit would call)."""
    made: dict[str, object] = {}
    calls = {"n": 0}
    real_add = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, *args, **kwargs):
        file_id = real_add(self, data_callable, *args, **kwargs)
        made[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    for name in ("png", "gif", "map_selection_csv", "model_archive"):
        real = getattr(exports, name)

        def counted(*a, _real=real, **k):
            calls["n"] += 1
            return _real(*a, **k)

        monkeypatch.setattr(exports, name, counted)

    def click(at, key: str) -> bytes:
        (button,) = [b for b in at.get("download_button") if b.proto.id.endswith(f"-{key}")]
        assert button.proto.deferred_file_id, "the file must be made on click, not on every run"
        return made[button.proto.deferred_file_id]()

    click.calls = calls
    return click


def image(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_gan_grid_interpolation_and_walk_downloads(clicks):
    at = run("6_gan.py")
    assert clicks.calls["n"] == 0  # nothing encoded while the page ran
    grid = image(clicks(at, "gan_dl_grid"))
    assert grid.format == "PNG" and min(grid.size) >= 280
    at.segmented_control(key="gan_section").set_value("interpolate").run()
    ok(at)
    steps = at.slider(key="gan_interp_steps").value
    assert image(clicks(at, "gan_dl_interp_png")).format == "PNG"
    anim = image(clicks(at, "gan_dl_interp_gif"))
    assert anim.format == "GIF" and anim.n_frames == 2 * steps - 2  # there and back
    at.segmented_control(key="gan_section").set_value("walk").run()
    at.select_slider(key="gan_period").set_value(40).run()
    walk = image(clicks(at, "gan_dl_walk"))
    assert walk.format == "GIF" and walk.n_frames == 40 and walk.info["loop"] == 0


def test_vae_digit_morph_and_map_downloads(clicks):
    at = run("4_vae.py")
    at.toggle(key="vae_in_browser").set_value(False).run()
    digit = image(clicks(at, "vae_dl_digit_vae_principal"))
    assert digit.size == (560, 560)
    at.segmented_control(key="vae_kind").set_value("class").run()
    morph = image(clicks(at, "vae_dl_morph_gif_vae"))
    assert morph.format == "GIF" and morph.n_frames == 2 * 24 - 2
    at.segmented_control(key="vae_section").set_value("map").run()
    ok(at)
    assert image(clicks(at, "vae_dl_map")).format == "PNG"
    at.segmented_control(key="vae_section").set_value("interpolate").run()
    assert image(clicks(at, "vae_dl_interp_spherical")).n_frames == 2 * at.slider(key="vae_interp_steps").value - 2
    assert clicks.calls["n"] == 4  # only what was clicked


def test_latent_map_selection_csv(clicks):
    at = run("5_latent_map.py")
    at.session_state["map_chart_pixels_pca"] = {"selection": {"ids": [7, 3, 11]}}
    at.run()
    ok(at)
    rows = list(csv.DictReader(io.StringIO(clicks(at, "map_dl_csv").decode("utf-8"))))
    assert [int(r["test_index"]) for r in rows] == [3, 7, 11] and list(rows[0]) == ["test_index", "label", "x", "y"]
    from ui import common as ui

    _, y = ui.test_set()
    assert [int(r["label"]) for r in rows] == [int(y[i]) for i in (3, 7, 11)]
    assert image(clicks(at, "map_dl_png")).format == "PNG"


def test_train_live_offers_the_model_it_trained(clicks, tmp_path):
    from ui import latent

    at = run("9_train_live.py")
    at.selectbox(key="train_model").set_value("linear_ae")
    at.select_slider(key="train_samples").set_value(1000)
    at.slider(key="train_epochs").set_value(1).run()  # the start button's arguments are the last run's values
    at.button(key="train_start").click().run()
    job = latent.train_slot().current()
    _wait(job)
    at.run()
    ok(at)
    with zipfile.ZipFile(io.BytesIO(clicks(at, "train_dl_model"))) as z:
        assert sorted(z.namelist()) == ["linear_ae_trained_here.json", "linear_ae_trained_here.safetensors"]
        z.extractall(tmp_path)
    card = checkpoint.read_card(tmp_path / "linear_ae_trained_here")
    assert card["trained_live"]["epochs"] == 1 and card["trained_live"]["training_digits"] == 1000
    assert checkpoint.load(tmp_path / "linear_ae_trained_here").family == job.model.family
