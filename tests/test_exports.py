"""The download files (rep_models/exports.py), without Streamlit: valid PNGs, GIFs with the frames asked for,
the map selection's CSV columns, and a model archive that loads back to the same network."""
from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from rep_models import checkpoint, exports
from rep_models.models import build


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_png_of_a_digit_and_of_a_grid():
    digit = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    img = _open(exports.png(digit))
    assert img.format == "PNG" and img.mode == "L" and img.size == (560, 560)  # 20x: the longer side reaches 560 px
    assert np.array_equal(np.asarray(img)[::20, ::20], (np.clip(digit, 0, 1) * 255 + 0.5).astype(np.uint8))  # whole pixels
    grid = np.zeros((302, 242), np.float32)
    assert _open(exports.png(grid)).size == (242 * 2, 302 * 2)
    assert _open(exports.png(grid, scale=1)).size == (242, 302)
    assert _open(exports.png(np.full((1, 1, 28, 28), np.nan))).size == (560, 560)  # NaN -> black, not an error


def test_gif_has_the_frames_loops_and_bounces():
    frames = np.linspace(0, 1, 9, dtype=np.float32)[:, None, None] * np.ones((9, 28, 28), np.float32)
    img = _open(exports.gif(frames, fps=10))
    assert img.format == "GIF" and img.n_frames == 9 and img.info.get("loop") == 0 and img.info.get("duration") == 100
    assert img.size == (560, 560)
    img.seek(8)
    assert np.asarray(img.convert("L")).mean() > 250  # the last frame is the white one
    assert _open(exports.gif(frames, bounce=True)).n_frames == 9 + 7  # there and back, without repeating the ends
    held = _open(exports.gif(frames, hold=3))
    assert held.n_frames == 9 and held.info["duration"] == 400  # the first frame stays 4 frame-times
    with pytest.raises(ValueError):
        exports.gif(np.zeros((28, 28)))


def test_selection_csv_columns_and_rows():
    data = exports.selection_csv([5, 17, 9999], [3, 8, 1], [[0.5, -1.25], [2, 3], [1e-5, 7.123456]])
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert list(rows[0]) == ["test_index", "label", "x", "y"]
    assert [(int(r["test_index"]), int(r["label"]), float(r["x"]), float(r["y"])) for r in rows] == [
        (5, 3, 0.5, -1.25), (17, 8, 2.0, 3.0), (9999, 1, 0.0, 7.1235)]
    assert exports.selection_csv([], [], np.zeros((0, 2))).decode() == "test_index,label,x,y\n"
    with pytest.raises(ValueError):
        exports.selection_csv([1, 2], [3], [[0, 0]])


def test_model_archive_loads_back(tmp_path):
    torch.manual_seed(0)
    model = build("linear_ae", latent_dim=6).eval()
    data = exports.model_archive(model, "my_linear_ae", card={"trained_live": {"epochs": 2}})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sorted(z.namelist()) == ["my_linear_ae.json", "my_linear_ae.safetensors"]
        z.extractall(tmp_path)
    assert checkpoint.read_card(tmp_path / "my_linear_ae")["trained_live"] == {"epochs": 2}
    again = checkpoint.load(tmp_path / "my_linear_ae").eval()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model.reconstruct(x), again.reconstruct(x))


def test_map_selection_csv_picks_the_selected_points_in_order():
    indices, labels = np.array([40, 10, 30, 20]), np.array([4, 1, 3, 2])
    coords = np.array([[4.0, 0], [1, 0], [3, 0], [2, 0]])
    rows = list(csv.reader(io.StringIO(exports.map_selection_csv([20, 40, 99], indices, labels, coords).decode())))
    assert rows == [["test_index", "label", "x", "y"], ["20", "2", "2.0000", "0.0000"], ["40", "4", "4.0000", "0.0000"]]
