"""The latent map inspector's nearest neighbours (rep_models/neighbours.py), without Streamlit."""
from __future__ import annotations

import re

import numpy as np
import pytest
from test_pages_explore import ok, run, texts, tiny_zoo, zoo  # noqa: F401 - fixtures

from rep_models.neighbours import nearest


def test_euclidean_neighbours_nearest_first_without_itself():
    codes = np.array([[0.0, 0], [1, 0], [0, 3], [0.5, 0], [10, 10]])
    idx, dist = nearest(codes, 0, k=3)
    assert idx.tolist() == [3, 1, 2] and np.allclose(dist, [0.5, 1, 3])
    assert nearest(codes, 4, k=10)[0].tolist()[-1] == 0 and len(nearest(codes, 4, k=10)[0]) == 4  # k beyond N - 1


def test_cosine_ignores_length():
    codes = np.array([[1.0, 0], [100, 1], [0, 1], [-1, 0], [0, 0]])
    idx, dist = nearest(codes, 0, k=4, metric="cosine")
    assert idx.tolist()[:2] == [1, 2] and np.isclose(dist[0], 1 - 100 / np.hypot(100, 1))
    assert np.isclose(dist[list(idx).index(3)], 2.0)  # opposite direction
    with pytest.raises(ValueError):
        nearest(codes, 0, metric="manhattan")


@pytest.mark.usefixtures("zoo")
def test_the_latent_map_shows_a_picked_digits_neighbours():
    """A click on one dot (a selection of one) shows its k nearest neighbours in the code space with their distances."""
    at = run("5_latent_map.py")
    at.session_state["map_chart_pixels_pca"] = {"selection": {"ids": [7]}}  # what a click sends
    at.run()
    ok(at)
    assert "Nearest neighbours of test digit #7" in texts(at, "markdown")
    captions = [c for i in at.image for c in i.captions if c]
    near = [c for c in captions if re.fullmatch(r"#\d+: [\d.e+-]+", c)]
    assert len(near) == 8 and captions[captions.index(near[0]) - 1].startswith("picked")
    dists = [float(c.split(": ")[1]) for c in near]
    assert dists == sorted(dists) and dists[0] > 0
    at.slider(key="map_nb_k").set_value(4).run()
    at.radio(key="map_nb_metric").set_value("cosine").run()
    ok(at)
    assert len([c for i in at.image for c in i.captions if c and re.fullmatch(r"#\d+: [\d.e+-]+", c)]) == 4
    assert at.query_params.get("k") == "4" and at.query_params.get("metric") == "cosine"


@pytest.mark.usefixtures("zoo")
def test_the_inspector_in_chinese():
    from streamlit.testing.v1 import AppTest
    from test_i18n import english_words, page_texts
    from test_pages_explore import ROOT

    at = AppTest.from_file(str(ROOT / "pages" / "5_latent_map.py"), default_timeout=120)
    at.query_params["lang"] = "zh"
    at.run()
    at.session_state["map_chart_pixels_pca"] = {"selection": {"ids": [7]}}
    at.run()
    ok(at)
    assert "测试集数字 #7 的最近邻" in texts(at, "markdown")
    assert {s: w for s in page_texts(at) if (w := english_words(s))} == {}
