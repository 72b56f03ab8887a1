"""The interface's words in two languages: English (the default) and 简体中文.

Every title, explanation, label, caption and message a page shows comes from one strings table per language
(``ui/strings/en.py``, ``ui/strings/zh.py``: ``STRINGS = {key: text}``), through :func:`t`. The language is the
sidebar's picker (``ui.nav.sidebar``), which is also the URL's ``?lang=zh``. A key missing in a language falls back
to English (and ``tests/test_i18n.py`` fails). Light: no torch, so app.py draws the picker before the slow imports.
"""
from __future__ import annotations

import functools

import streamlit as st

LANGS = {"en": "English", "zh": "简体中文"}
DEFAULT = "en"
KEY = "lang"  # the picker's session-state key and its URL parameter


@functools.cache
def tables() -> dict[str, dict[str, str]]:
    from ui.strings import en, zh

    return {"en": en.STRINGS, "zh": zh.STRINGS}


def lang() -> str:
    """The language of this session: the picker's value, else the URL's ``lang``, else English."""
    v = st.session_state.get(KEY)
    if v in LANGS:
        return v
    raw = st.query_params.get(KEY) if KEY in st.query_params else None
    return raw if raw in LANGS else DEFAULT


def t(key: str, **values) -> str:
    """The text of ``key`` in the session's language, with ``{name}`` fields filled from ``values``."""
    all_ = tables()
    text = all_[lang()].get(key)
    if text is None:
        text = all_[DEFAULT][key]  # a KeyError here is a key missing in English: a bug the tests catch
    return text.format(**values) if values else text


def has(key: str) -> bool:
    return key in tables()[DEFAULT]

