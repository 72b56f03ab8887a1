"""The interface's words in two languages: English (the default) and 简体中文.

Every title, explanation, label, caption and message a page shows comes from one strings table per language
(``ui/strings/en.py``, ``ui/strings/zh.py``: ``STRINGS = {key: text}``), through :func:`t`. The language is the
sidebar's picker (``ui.nav.sidebar``), which is also the URL's ``?lang=zh``. A key missing in a language falls back
to English (and ``tests/test_i18n.py`` fails). The models' names and one-line descriptions are keys too
(``model.NAME.title`` …): English takes them from ``rep_models.catalogue``.

Words that ``rep_models`` produces (a preprocessing step's name, the not-a-digit verdict, a metric's label) are
English; :func:`tr` looks them up in the language's ``FROM_ENGLISH`` table, whose entries may hold ``{fields}``
for the numbers inside them. Light: no torch, so app.py draws the picker before the slow imports.
"""
from __future__ import annotations

import functools
import re

import streamlit as st

LANGS = {"en": "English", "zh": "简体中文"}
DEFAULT = "en"
KEY = "lang"  # the picker's session-state key and its URL parameter


@functools.cache
def tables() -> dict[str, dict[str, str]]:
    from ui.strings import en, zh

    return {"en": en.STRINGS, "zh": zh.STRINGS}


@functools.cache
def _from_english(lang: str) -> tuple[dict[str, str], list[tuple[re.Pattern, str]]]:
    """The language's ``FROM_ENGLISH`` table: exact entries, and those with ``{fields}`` as patterns."""
    from ui.strings import en, zh

    table = {"en": getattr(en, "FROM_ENGLISH", {}), "zh": getattr(zh, "FROM_ENGLISH", {})}[lang]
    exact, patterns = {}, []
    for source, target in table.items():
        if "{" not in source:
            exact[source] = target
            continue
        rx = "".join(f"(?P<{m[1:-1]}>.+?)" if m.startswith("{") else re.escape(m) for m in re.split(r"(\{\w+\})", source) if m)
        patterns.append((re.compile(rx + r"\Z", re.S), target))
    return exact, patterns


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


class Later(str):
    """A strings-table key that becomes its text when shown, not when written: a cached function's spinner
    (``st.cache_resource(show_spinner=Later(key))``) is set once at import, before any session has a language.
    Streamlit shows a spinner's text through ``str()``, which looks the key up in the session's language."""

    def __str__(self) -> str:
        key = str.__str__(self)
        try:
            return t(key)
        except Exception:  # no session (a warm-up thread): English
            return tables()[DEFAULT][key]


def tr(text: str | None) -> str | None:
    """A sentence made in ``rep_models`` (English), in the session's language when its table has it."""
    if not text or lang() == DEFAULT:
        return text
    exact, patterns = _from_english(lang())
    if text in exact:
        return exact[text]
    for rx, target in patterns:
        m = rx.match(text)
        if m:
            return target.format(**{k: tr(v) for k, v in m.groupdict().items()})
    return text


def model(name: str, field: str = "title") -> str:
    """A shipped model's ``title``, ``short``, ``picker`` (label in a model picker) or ``what`` (one line)."""
    key = f"model.{name}.{field}"
    if key in tables()[DEFAULT]:
        return t(key)
    from rep_models import catalogue  # a model registered after the tables were written: its English

    e = catalogue.entry(name)
    return {"title": e.title, "short": e.short, "picker": e.picker_label, "what": e.what}[field]


def has(key: str) -> bool:
    return key in tables()[DEFAULT]
