"""Every page on a machine with nothing beside the clone (AppTest, the real shipped models and data).

No ``LATENT_LAB_MNIST``, an empty cache and home, ``../shared`` hidden, and every network connection refused:
each page must render from the shipped files alone, without an exception or an error box. Then the shipped
digits are damaged or removed, and the pages that read them must say so in plain words (common.failure.data in ui/strings),
never with an exception's name.
"""
from __future__ import annotations

import dataclasses
import shutil
import socket
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rep_models import data
from ui import nav
from ui.strings import en

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 240  # the first runs import torch and load models


def _refuse(*args, **kwargs):
    raise OSError("network access refused by the test")


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """Nothing but the clone: no data variable, empty home and cache, no ../shared, no network."""
    monkeypatch.delenv("LATENT_LAB_MNIST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LATENT_LAB_CACHE", str(tmp_path / "cache"))
    spec = data.DATASETS["mnist"]
    monkeypatch.setitem(data.DATASETS, "mnist", dataclasses.replace(spec, system_dirs=(str(tmp_path / "no_shared"),)))
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    yield tmp_path


def _clear_caches():
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    data._SAMPLE_CACHE.clear()


def _run(url_path: str | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if url_path is not None:
        spec = next(p for p in nav.PAGES if p.url_path == url_path)
        at.switch_page(spec.path).run()
    return at


def _texts(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def test_the_full_dataset_is_really_out_of_reach(offline):
    with pytest.raises(data.DatasetError, match="not found"):
        data.load_arrays("mnist", "train")  # searched, then the download refused
    assert data.load_sample("test")[0].shape == (10000, 28, 28)  # the shipped digits still load


@pytest.mark.parametrize("url_path", [None] + [p.url_path for p in nav.PAGES])
def test_every_page_renders_offline(offline, url_path):
    at = _run(url_path)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, _texts(at, "error")
    if url_path is not None:
        assert at.title and at.title[0].value == next(p.title for p in nav.PAGES if p.url_path == url_path)


@pytest.fixture
def damaged_data(offline, monkeypatch):
    """A copy of data/ whose sample is damaged (the caches dropped before and after, so nothing stale is served)."""
    d = offline / "data"
    shutil.copytree(data.SHIPPED_DIR, d)
    monkeypatch.setattr(data, "SHIPPED_DIR", d)
    _clear_caches()
    yield d
    _clear_caches()


@pytest.mark.parametrize("damage", ["flipped bytes", "missing", "no manifest"])
# The pages that read the digits on their first run (the VAE explorer's first run reads only shipped codes,
# rep_models.precomputed, and opens at the origin).
@pytest.mark.parametrize("url_path", ["denoise", "linear_pca"])
def test_damaged_shipped_data_gives_the_promised_message(damaged_data, damage, url_path):
    sample = damaged_data / data.SAMPLE_FILE
    if damage == "flipped bytes":
        raw = bytearray(sample.read_bytes())
        raw[len(raw) // 2 : len(raw) // 2 + 64] = bytes(64)
        sample.write_bytes(bytes(raw))
    elif damage == "missing":
        sample.unlink()
    else:
        (damaged_data / "manifest.json").unlink()
    at = _run(url_path)
    assert not at.exception, [e.value for e in at.exception]
    errors = _texts(at, "error")
    assert en.STRINGS["common.failure.data"] in errors, errors
    assert not any("Error" in e or "Exception" in e for e in errors), errors  # no exception class names
