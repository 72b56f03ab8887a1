"""The latent map's inspector on the page (AppTest): filter by label, find a digit by its index, thumbnails on ask."""
from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from test_pages_explore import component_data, components, ok, run, texts, tiny_zoo, zoo  # noqa: F401 - fixtures

from ui import live

pytestmark = pytest.mark.usefixtures("zoo")
KEY = "map_chart_pixels_pca"


def chart(at) -> dict:
    return component_data(components(at, "latent_lab.scatter_map")[0])


def points(at) -> dict:
    return component_data(components(at, "latent_lab.map_points")[0])


def test_label_filter_goes_to_the_map_and_the_link_without_resending_the_points():
    at = run("5_latent_map.py")
    before = points(at)
    at.multiselect(key="map_labels").set_value([1, 7]).run()
    ok(at)
    assert chart(at)["visible"] == [1, 7] and at.query_params.get("labels") == "1,7"
    assert points(at) == before  # the same element: Streamlit sends it by its hash


def test_labels_from_a_link_and_a_bad_one_ignored_with_a_note():
    from streamlit.testing.v1 import AppTest
    from test_pages_explore import ROOT

    at = AppTest.from_file(str(ROOT / "pages" / "5_latent_map.py"), default_timeout=120)
    at.query_params["labels"] = "3,8"
    at.run()
    ok(at)
    assert chart(at)["visible"] == [3, 8]
    at = AppTest.from_file(str(ROOT / "pages" / "5_latent_map.py"), default_timeout=120)
    at.query_params["labels"] = "3,x"
    at.query_params["find"] = "99999"
    at.run()
    ok(at)
    assert chart(at)["visible"] is None and chart(at)["focus"] is None
    assert "labels" not in at.query_params and "find" not in at.query_params
    notes = texts(at, "caption")
    assert "labels=3,x was ignored" in notes and "find=99999 was ignored" in notes


def test_find_a_digit_selects_it_and_shows_its_neighbours_then_the_map_takes_over():
    at = run("5_latent_map.py")
    at.number_input(key="map_find").set_value(1234).run()
    ok(at)
    assert chart(at)["focus"] == 1234 and at.query_params.get("find") == "1234"
    assert "Nearest neighbours of test digit #1234" in texts(at, "markdown")
    at.session_state[KEY] = {"selection": {"ids": [3, 7]}}  # then a lasso in the map
    at.session_state["map_pick_from"] = "map"  # what the map's on-change callback sets (AppTest does not call it)
    at.run()
    ok(at)
    assert chart(at)["focus"] is None and "2 digits selected" in texts(at, "markdown")


def test_thumbnails_are_sent_only_when_the_map_asks_for_them():
    at = run("5_latent_map.py")
    assert chart(at)["thumbs"] is None
    at.session_state[KEY] = {"selection": None, "want": {"ids": [5, 0, 42]}}  # zoomed in: what the map asks for
    at.run()
    ok(at)
    th = chart(at)["thumbs"]
    assert th["ids"] == [5, 0, 42] and th["cols"] == 3
    sheet = np.asarray(Image.open(io.BytesIO(base64.b64decode(th["sheet"].split(",", 1)[1]))))
    assert sheet.shape == (28, 84)
    from ui import common

    x, _ = common.test_set()
    assert np.abs(sheet[:, 28:56] / 255 - x[0, 0].numpy()).max() < 0.01  # the second cell is test digit #0


def test_thumb_sheet_layout():
    imgs = np.random.default_rng(0).random((45, 28, 28)).astype(np.float32)
    th = live.thumb_sheet(imgs, range(45))
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(th["sheet"].split(",", 1)[1]))))
    assert th["cols"] == live.THUMB_COLS and img.shape == (3 * 28, live.THUMB_COLS * 28)
    assert np.abs(img[28:56, 28 * 4: 28 * 5] / 255 - imgs[24]).max() < 0.01  # row 1, column 4


@pytest.fixture(scope="module")
def with_reference(zoo):  # noqa: F811 - the fixture imported above
    """The raw pixels' reference codes (their top 50 principal components), which the live layout runs on."""
    from rep_models import projections
    from ui import common

    x, _ = common.test_set()
    projections.save_reference("pixels", x.reshape(len(x), -1).numpy(), directory=zoo)
    st.cache_resource.clear()  # the page cached "no reference" before
    yield zoo
    (zoo / "proj_pixels_ref.npz").unlink()
    st.cache_resource.clear()


def _follow(job, seconds: float = 120) -> None:
    t0 = time.monotonic()
    while job.running and time.monotonic() - t0 < seconds:
        job.heartbeat()  # what the page's polling fragment does
        time.sleep(0.1)


@pytest.mark.usefixtures("with_reference")
def test_live_layout_runs_draws_as_it_goes_and_a_second_visitor_waits():
    from streamlit.testing.v1 import AppTest
    from test_pages_explore import ROOT

    at = run("5_latent_map.py")
    assert not components(at, "latent_lab.scatter_map")[1:]  # closed: nothing of it drawn
    at.session_state["map_live"] = True  # what opening the expander sends
    at.run()
    ok(at)
    assert at.slider(key="map_live_perplexity").value == 30.0
    at.slider(key="map_live_n").set_value(2000)
    at.slider(key="map_live_perplexity").set_value(12.0).run()
    at.button(key="map_live_start").click().run()
    ok(at)
    job = at.session_state["map_live_job"]
    assert job.method == "tsne" and len(job.ids) == 2000 and job.perplexity == 12.0 and job.running
    assert at.query_params.get("perplexity") == "12" and at.query_params.get("subset") == "2000"

    other = AppTest.from_file(str(ROOT / "pages" / "5_latent_map.py"), default_timeout=120)
    other.session_state["map_live"] = True
    other.run()
    ok(other)
    assert "Someone else is re-running" in texts(other, "info")
    assert other.button(key="map_live_start").disabled

    _follow(job)
    at.run()
    ok(at)
    s = job.snapshot()
    assert s.error is None and s.step == s.total and s.coords.shape == (2000, 2)
    (live_points,) = [p for p in components(at, "latent_lab.map_points") if len(component_data(p)["x"]) == 2000]
    assert sorted(component_data(live_points)["ids"]) == sorted(job.ids.tolist())
    assert f"{s.total} / {s.total}" in texts(at, "markdown")


@pytest.mark.usefixtures("with_reference")
def test_live_layout_umap_settings_in_chinese():
    from streamlit.testing.v1 import AppTest
    from test_i18n import english_words, page_texts
    from test_pages_explore import ROOT

    at = AppTest.from_file(str(ROOT / "pages" / "5_latent_map.py"), default_timeout=120)
    at.query_params["lang"] = "zh"
    at.query_params["live"] = "umap"
    at.query_params["min_dist"] = "7"  # out of range: ignored with a note
    at.session_state["map_live"] = True
    at.run()
    ok(at)
    assert at.slider(key="map_live_k").label == "近邻数" and at.slider(key="map_live_min_dist").value == 0.1
    assert "min_dist" not in at.query_params
    assert {s: w for s in page_texts(at) if (w := english_words(s))} == {}
