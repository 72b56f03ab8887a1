"""Every view is a link: a page's main controls live in the URL's query string under readable names
(``/gan?model=dcgan&seed=42&truncation=0.7``), and opening such a link restores the view.

Pages create those controls through the wrappers here (``links.slider``, ``links.selectbox``, …: the same
arguments as the ``st.*`` widget, plus ``param``, the name in the URL). Each wrapper

1. on the control's first appearance in a session, seeds its session-state ``key`` from ``st.query_params``
   when the URL holds a valid value for ``param``; an invalid or out-of-range value is dropped from the URL
   and noted under the control (a short caption), never an error;
2. draws the widget, then writes its value back to ``st.query_params`` (left out while it is the default),
   so the address bar always holds the view and "Share this view" (:func:`share_button`) shows it.

:func:`prune` (called by ``ui.page_guard`` at the end of a full page run) drops the parameters of controls
that were not drawn in that run, e.g. those of a section the user left.

Why not the widgets' own ``bind="query-params"`` (streamlit 1.67): for option widgets it writes the option's
*displayed label* into the URL (``model=DCGAN+(conv)``), which is neither readable nor the same in two
languages, and it drops an out-of-range number silently, where the page should say so. Importing this module
does not import torch (app.py uses it before the slow imports).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from ui import i18n

GLOBAL = ("lang", "present")  # app-wide parameters (ui.i18n, ui.layout): kept on every page, never pruned
_DRAWN = "_links_drawn"  # session-state: the parameters drawn in the current script run
_RUN = "_links_run"  # ... and which run that was


def _run_id() -> int | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return None if ctx is None else id(ctx.cursors)  # a new dict at the start of every script run


def _in_fragment_run() -> bool:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def _drawn() -> set[str]:
    """The parameters drawn so far in this script run (a fresh set at the start of each run)."""
    run = _run_id()
    if st.session_state.get(_RUN) != run:
        st.session_state[_RUN] = run
        st.session_state[_DRAWN] = set()
    return st.session_state[_DRAWN]


def _raw(param: str) -> str | None:
    """The URL's value of ``param`` (the last one if repeated), or None."""
    return st.query_params.get(param) if param in st.query_params else None


def _drop(param: str) -> None:
    if param in st.query_params:
        del st.query_params[param]


def restore(key: str, param: str, parse: Callable[[str], Any]) -> str | None:
    """Seed ``st.session_state[key]`` from the URL's ``param`` on the control's first appearance in the session.
    Returns a short note when the URL's value was unusable (``parse`` raised ValueError with the reason)."""
    if key in st.session_state:  # the session already has this control: its value wins over the URL
        return None
    raw = _raw(param)
    if raw is None:
        return None
    try:
        st.session_state[key] = parse(raw)
    except ValueError as e:
        _drop(param)
        return i18n.t("links.ignored", param=param, value=raw[:40], why=str(e))
    return None


def publish(param: str, value: Any, default: Any, text: str) -> None:
    """Write ``param=text`` to the URL, or remove it while ``value`` is the default; note it as drawn."""
    _drawn().add(param)
    if value == default:
        _drop(param)
    elif _raw(param) != text:
        st.query_params[param] = text


def prune() -> None:
    """Drop the URL parameters of controls that were not drawn in this (full) run. Fragment runs draw only
    their own controls, so they leave the URL's other parameters alone."""
    if _in_fragment_run():
        return
    drawn = _drawn()
    for param in [p for p in st.query_params if p not in drawn and p not in GLOBAL]:
        _drop(param)


def _note(note: str | None) -> None:
    if note:
        st.caption(f":material/link_off: {note}")


# ------------------------------------------------------------------------------------- option controls


def _choice_parser(options: Sequence, name: Callable[[Any], str] = str) -> Callable[[str], Any]:
    names = {name(o): o for o in options}

    def parse(raw: str):
        if raw not in names:
            shown = ", ".join(list(names)[:12]) + (" …" if len(names) > 12 else "")
            raise ValueError(i18n.t("links.not_option", options=shown))
        return names[raw]

    return parse


def _labels(kwargs: dict, options: list) -> None:
    """Each option's label, made now: a widget's ``format_func`` can be called again later, outside this script run
    (AppTest does), where the session's language is not known."""
    fmt = kwargs.get("format_func")
    if fmt is not None:
        made = {o: fmt(o) for o in options}
        kwargs["format_func"] = lambda o: made.get(o, str(o))


def _choice(widget: Callable, label: str, options: Sequence, default: Any, key: str, param: str, index_arg: str | None,
            name: Callable[[Any], str] | None = None, **kwargs) -> Any:
    """An option widget whose URL value is ``name(option)`` (default ``str``: options are short names, and
    ``format_func`` shows them in the user's language)."""
    options = list(options)
    _labels(kwargs, options)
    name = name or str
    note = restore(key, param, _choice_parser(options, name))
    if key in st.session_state and st.session_state[key] not in options:  # options changed since (another model)
        del st.session_state[key]
    if key in st.session_state:  # the value comes from the state: passing a default too only earns a warning
        pass
    elif index_arg == "index":
        kwargs["index"] = options.index(default) if default in options else 0
    elif index_arg:
        kwargs[index_arg] = default
    value = widget(label, options, key=key, **kwargs)
    _note(note)
    publish(param, value, default, "" if value is None else name(value))
    return value


def selectbox(label: str, options: Sequence, *, key: str, param: str, index: int = 0, **kwargs) -> Any:
    options = list(options)
    return _choice(st.selectbox, label, options, options[index] if options else None, key, param, "index", **kwargs)


def radio(label: str, options: Sequence, *, key: str, param: str, index: int = 0, **kwargs) -> Any:
    options = list(options)
    return _choice(st.radio, label, options, options[index] if options else None, key, param, "index", **kwargs)


def segmented_control(label: str, options: Sequence, *, key: str, param: str, default: Any, **kwargs) -> Any:
    kwargs.setdefault("required", True)
    return _choice(st.segmented_control, label, options, default, key, param, "default", **kwargs)


def select_slider(label: str, options: Sequence, *, key: str, param: str, value: Any, **kwargs) -> Any:
    return _choice(st.select_slider, label, options, value, key, param, "value", **kwargs)


def multiselect(label: str, options: Sequence, *, key: str, param: str, default: Sequence = (), **kwargs) -> list:
    """A multiselect whose URL value is its options' names joined by commas (``reps=pixels,conv_ae``)."""
    options = list(options)
    _labels(kwargs, options)
    one = _choice_parser(options)

    def parse(raw: str) -> list:
        return [one(part) for part in raw.split(",") if part] if raw else []

    note = restore(key, param, parse)
    if key in st.session_state:
        st.session_state[key] = [v for v in st.session_state[key] if v in options]
    default = [d for d in default if d in options]
    value = st.multiselect(label, options, default=None if key in st.session_state else default, key=key, **kwargs)
    _note(note)
    publish(param, list(value), default, ",".join(map(str, value)))
    return value


# ------------------------------------------------------------------------------------------ numbers


def _number_text(v: float | int) -> str:
    return str(v) if isinstance(v, int) else f"{v:g}"


def _number_parser(lo: float | int, hi: float | int, whole: bool) -> Callable[[str], Any]:
    def parse(raw: str):
        try:
            v = int(raw) if whole else float(raw)
        except ValueError:
            v = None
        if v is None or (not whole and not math.isfinite(v)) or not lo <= v <= hi:
            key = "links.not_whole" if whole else "links.not_number"
            raise ValueError(i18n.t(key, lo=_number_text(lo), hi=_number_text(hi)))
        return v

    return parse


def _number(widget: Callable, label: str, lo, hi, value, key: str, param: str, **kwargs):
    whole = (value is None or isinstance(value, int)) and isinstance(lo, int) and isinstance(hi, int)  # None: left empty
    note = restore(key, param, _number_parser(lo, hi, whole))
    out = widget(label, lo, hi, None if key in st.session_state else value, key=key, **kwargs)
    _note(note)
    publish(param, out, value, "" if out is None else _number_text(out))
    return out


def slider(label: str, min_value, max_value, value, step=None, *, key: str, param: str, **kwargs):
    if step is not None:
        kwargs["step"] = step
    return _number(st.slider, label, min_value, max_value, value, key, param, **kwargs)


def number_input(label: str, min_value, max_value, value, *, key: str, param: str, **kwargs):
    return _number(st.number_input, label, min_value, max_value, value, key, param, **kwargs)


# ----------------------------------------------------------- controls drawn in the page (no Streamlit widget)


def page_number(key: str, param: str, lo, hi, default, reported=None):
    """A number set by a control the page draws itself (the GAN grid's seed, decoded in the page): the component's
    ``reported`` value when it sent one, else the session's, else the URL's (checked as a widget's: an unusable value
    is dropped and noted), else ``default``. Kept in ``st.session_state[key]`` and written back to the URL."""
    whole = isinstance(default, int) and isinstance(lo, int) and isinstance(hi, int)
    parse = _number_parser(lo, hi, whole)
    note = restore(key, param, parse)
    if reported is not None:
        try:
            st.session_state[key] = parse(str(reported))
        except ValueError:
            pass  # the page sends only values it offers; anything else leaves the last good one
    value = st.session_state.get(key, default)
    _note(note)
    publish(param, value, default, _number_text(value))
    return value


def page_choice(key: str, param: str, options: Sequence, default, reported=None):
    """:func:`page_number` for one of ``options`` (URL value ``str(option)``)."""
    options = list(options)
    parse = _choice_parser(options)
    note = restore(key, param, parse)
    if reported is not None and reported in options:
        st.session_state[key] = reported
    value = st.session_state.get(key, default)
    if value not in options:
        value = default
    _note(note)
    publish(param, value, default, str(value))
    return value


def toggle(label: str, value: bool = False, *, key: str, param: str, **kwargs) -> bool:
    """A toggle whose URL value is ``1`` or ``0``."""
    def parse(raw: str) -> bool:
        if raw.lower() in ("1", "true", "on", "yes"):
            return True
        if raw.lower() in ("0", "false", "off", "no"):
            return False
        raise ValueError(i18n.t("links.not_flag"))

    note = restore(key, param, parse)
    out = st.toggle(label, None if key in st.session_state else value, key=key, **kwargs)
    _note(note)
    publish(param, bool(out), bool(value), "1" if out else "0")
    return bool(out)


# ------------------------------------------------------------------------------------------- sharing


def _page_path() -> str:
    """The current page's url path (``gan``), or "" for Home."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return ""
    info = ctx.pages_manager.get_pages().get(ctx.page_script_hash, {})
    return "" if info.get("is_default") else str(info.get("url_pathname", "") or "")


def current_link() -> str:
    """The link to this view: the app's address, the page and the controls' parameters."""
    base = (st.context.url or "http://localhost:8501").rstrip("/")
    path = _page_path()
    if path and base.endswith("/" + path):
        base = base[: -len(path) - 1]
    query = urlencode({k: st.query_params[k] for k in st.query_params})
    return f"{base}/{path}" + (f"?{query}" if query else "")


@st.dialog(" ", width="large")
def _share_dialog() -> None:
    st.markdown(f"**{i18n.t('links.share_title')}**")
    st.code(current_link(), language=None, wrap_lines=True)
    st.caption(i18n.t("links.share_hint"))


def share_button() -> None:
    """A "Share this view" button: a dialog with this view's link, ready to copy (the code box's copy icon)."""
    if st.button(i18n.t("links.share"), icon=":material/share:", key="links_share", type="tertiary"):
        _share_dialog()
