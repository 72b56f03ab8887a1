"""In-browser pieces: networks that run in the page (no server round trip per slider move) and a frame player.

- :func:`send_net` ships one network (its ONNX graph, ``rep_models.onnx_export``) to the page, once per session:
  Streamlit caches large, unchanged messages in the browser and afterwards sends only their hash. The page runs
  it on onnxruntime-web (``ui/js/ort_runtime.js``), whose files the app serves from ``static/ort/``.
- :func:`gan_grid` and :func:`walk_player` make a GAN's sample grid and its latent walk in the page, from the
  server's seeded latents (``portable_normal``); :func:`runtime_failed` says when the page could not start the
  runtime, and the page then draws them on the server (and says so).
- :func:`digit_canvas` is the drawing canvas: it sends the drawing the moment a stroke ends.
- :func:`scatter_map` draws the latent map with WebGL in the page, with hover, lasso, click and zoom, a label
  filter, a found digit, isolating the selection and, zoomed in, each point as its digit (sent when asked for).
- :func:`frame_player` plays frames at a steady rate in the page while the server sends them in chunks.
- :func:`latent_sliders` draws sliders over latent directions whose decoded digit (and the classifier's
  reading of it) is recomputed in the browser on every move.
"""
from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from rep_models import catalogue, checkpoint, onnx_export
from rep_models.directions import Directions
from rep_models.images import png_bytes, tile
from ui.i18n import t

JS = Path(__file__).resolve().parent / "js"
# Streamlit's static serving names a file's type from Python's table, which lacks these on some systems; a module
# script or WebAssembly served as application/octet-stream (with nosniff) is refused or compiled slowly.
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/wasm", ".wasm")


def _asset(*names: str) -> str:
    """The JS files as one module; a ``.css`` file becomes the constant ``CSS`` (the module adds a <style>
    to its shadow root: the ``css=`` argument of inline components did not reach the page here)."""
    parts = []
    for n in names:
        text = (JS / n).read_text(encoding="utf-8")
        parts.append(f"const CSS = {json.dumps(text)};" if n.endswith(".css") else text)
    return "\n".join(parts)


_FAILED = "_ort_failed"  # session state: why the page's runtime could not start (see runtime_failed)
_RUNTIME = ("dom.js", "theme.js", "ort_runtime.js")  # what every component that runs a network includes
_net_loader = st.components.v2.component("latent_lab.net_loader", js=_asset("ort_runtime.js", "net_loader.js"))
_digit_canvas = st.components.v2.component("latent_lab.digit_canvas", js=_asset("dom.js", "theme.js", "digit_canvas.js"))
_scatter_map = st.components.v2.component("latent_lab.scatter_map", js=_asset("dom.js", "theme.js", "map_points.js", "scatter_map.js"))
_map_points = st.components.v2.component("latent_lab.map_points", js=_asset("map_points.js", "map_points_loader.js"))
_frame_player = st.components.v2.component("latent_lab.frame_player", js=_asset("dom.js", "theme.js", "frame_player.js"))
_latent_sliders = st.components.v2.component("latent_lab.latent_sliders", js=_asset(*_RUNTIME, "latent_sliders.css", "latent_sliders.js"))
_gan_grid = st.components.v2.component("latent_lab.gan_grid", js=_asset(*_RUNTIME, "gan_grid.js"))
_walk_player = st.components.v2.component("latent_lab.walk_player", js=_asset(*_RUNTIME, "walk_player.js"))
_runtime_start = st.components.v2.component("latent_lab.runtime_start", js=_asset("ort_runtime.js", "runtime_start.js"))


def _state(result, name: str):
    """A component's state value ``name`` (the mount result is a dict-like object)."""
    return result.get(name) if hasattr(result, "get") else getattr(result, name, None)


def runtime_base() -> str:
    """The URL path of the vendored runtime (``static/ort/``, served by ``server.enableStaticServing``), under the
    server's ``baseUrlPath`` when it has one."""
    prefix = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{prefix}/app/static/ort/" if prefix else "/app/static/ort/"


@st.cache_resource(show_spinner=False, max_entries=16)
def net_blob(name: str) -> tuple[str, bytes]:
    """``(id, blob)`` of shipped model ``name`` for the page: ``LLO1``, the header's length, a JSON header (id, the
    runtime's URL, inputs, output, latent_dim, conditional: ``onnx_export.signature``) and the ONNX graph, made
    from the shipped weights (``onnx_export.export_bytes``, once per process). The id carries the graph's hash, so a
    retrained model never reuses a stale session in the page."""
    model = checkpoint.load_pretrained(name)  # its own CPU copy: the export must not touch the pages' shared model
    onnx = onnx_export.export_bytes(name, model)
    net_id = f"{name}:{hashlib.sha256(onnx).hexdigest()[:12]}"
    head = json.dumps({"id": net_id, "base": runtime_base(), **onnx_export.signature(name, model)}).encode()
    return net_id, b"LLO1" + len(head).to_bytes(4, "little") + head + onnx


def in_page(name: str) -> bool:
    """Whether model ``name`` runs in the page: its catalogue role, and its weights shipped."""
    return name in catalogue.with_role(onnx_export.ROLE) and checkpoint.is_shipped(name)


def browser_decodable(name: str) -> bool:
    """Whether model ``name``'s decoder can drive the VAE sliders in the page (an unconditional VAE run in the page)."""
    return name in catalogue.with_role("browser_decodable") and in_page(name)


def start_runtime() -> None:
    """Start the page's runtime now (an invisible element): a page that will run a network calls this first, so the
    runtime compiles in the browser while the server makes the rest of the page."""
    if not st.session_state.get(_FAILED):
        _runtime_start(data={"base": runtime_base()}, key="runtime_start", height=0)


def send_net(name: str) -> str:
    """Ship model ``name`` to the page (an invisible element) and return the id the page knows it by."""
    net_id, blob = net_blob(name)
    _net_loader(data=blob, key=f"net_{name}", height=0)
    return net_id


def runtime_failed(key: str) -> str | None:
    """Why the page could not start its runtime, as the component under ``key`` (or any before it in this session)
    reported; None while it runs. Kept for the session: the component is no longer drawn once the server takes
    over, and a browser that cannot run one network cannot run the others."""
    runtime = reported(key, "runtime")
    if isinstance(runtime, dict) and not runtime.get("ok", True):
        st.session_state[_FAILED] = str(runtime.get("reason") or "unknown")
    return st.session_state.get(_FAILED)


def latent_sliders(name: str, z0: np.ndarray, dirs: Directions, labels: list[str], key: str,
                   lo: float = -3.0, hi: float = 3.0, step: float = 0.1, px: int = 168) -> None:
    """Sliders over ``dirs`` starting from code ``z0 (d,)``, decoded by model ``name`` in the browser."""
    data = {
        "net": send_net(name), "base": runtime_base(),
        "classifier": send_net("classifier") if in_page("classifier") else None,
        "z0": np.asarray(z0, dtype=np.float64).round(5).tolist(),
        "vectors": np.asarray(dirs.vectors, dtype=np.float64).round(6).tolist(),
        "scales": np.asarray(dirs.scales, dtype=np.float64).round(6).tolist(),
        "labels": list(labels), "min": lo, "max": hi, "step": step, "px": px, "state_key": key,
        "text": {"aria": t("js.sliders.aria"), "reset": t("js.sliders.reset"), "loading": t("js.sliders.loading"), "classifier": t("js.sliders.classifier"),
                 "decoded": t("js.sliders.decoded")},
    }
    _latent_sliders(data=data, key=key, default={"runtime": None}, on_runtime_change=lambda: None)


def gan_grid(name: str, view: dict, digit: int | None, key: str, counts=(16, 36, 64, 100), max_seed: int = 9_999,
             cols: int | None = None, px: int = 520, noise: str | None = None) -> None:
    """The samples of GAN ``name`` made in the page, with the page's own seed, count and truncation controls, which
    start at ``view`` ({seed, n, truncation}) and report changes as the state ``view`` (:func:`reported`).
    ``digit`` for a conditional GAN (None cycles 0..9); tiled ``cols`` wide (None: square-ish), ``px`` wide at most.
    ``noise`` ("const" or "none") for a style-based generator, whose truncation is then psi in W (1: none)."""
    style = noise is not None
    if style and noise not in ("const", "none"):
        raise ValueError(f"in the page a style generator's noise is 'const' or 'none', got {noise!r}")
    data = {"net": send_net(name), "base": runtime_base(), "style": style, "noise": 0.0 if noise == "none" else 1.0,
            "noise_label": t(f"gan.noise.{noise}") if style else "",
            "init": {"seed": int(view["seed"]), "n": int(view["n"]), "truncation": float(view["truncation"])},
            "counts": [int(c) for c in counts], "max_seed": int(max_seed), "digit": None if digit is None else int(digit),
            "cols": int(cols or 0), "px": int(px),
            "text": {"aria": t("js.grid.aria"), "made": t("js.grid.made"), "loading": t("js.runtime.loading"), "seed": t("gan.seed"),
                     "dice": t("gan.dice"), "samples": t("gan.samples"),
                     "truncation": t("gan.psi" if style else "gan.truncation"),
                     "truncation_help": t("gan.psi_help" if style else "gan.truncation_help"), "truncated": t("gan.truncated"),
                     "untruncated": t("gan.untruncated"), "psi_caption": t("gan.psi_caption"), "per_digit": t("gan.per_digit")}}
    _gan_grid(data=data, key=key, default={"runtime": None, "view": None}, on_runtime_change=lambda: None,
              on_view_change=lambda: None)


def reported(key: str, name: str):
    """The state value ``name`` that the component under ``key`` last reported (None before it has)."""
    return _state(st.session_state.get(key), name) if key in st.session_state else None


def walk_player(name: str, walkers: int, period: int, method: str, seed: int, playing: bool, fps: float, key: str,
                px: int = 336) -> None:
    """The latent walk of GAN ``name`` (``rep_models.sampling.walk_latents``: ``walkers`` on ``method`` paths,
    ``period`` frames a turn) made and played in the page at ``fps``."""
    data = {"net": send_net(name), "base": runtime_base(), "walkers": int(walkers), "period": int(period), "method": method,
            "seed": int(seed), "playing": bool(playing), "fps": float(fps), "px": int(px),
            "text": {"aria": t("js.player.aria"), "frame": t("js.player.frame"), "shown": t("js.player.shown"),
                     "paused": t("js.player.paused"), "per_frame": t("js.player.per_frame"), "loading": t("js.runtime.loading")}}
    _walk_player(data=data, key=key, default={"runtime": None}, on_runtime_change=lambda: None)


def frame_player(frames: np.ndarray, start: int, fps: float, playing: bool, walk: str, key: str, px: int = 336,
                 note: str = "", aria: str | None = None) -> None:
    """Queue ``frames (F, H, W)`` in [0, 1] (global indices ``start …``) in the page's player, shown at ``fps``.
    ``walk`` names the path: a new value empties the queue. The player reports the frame rate it shows."""
    frames = np.asarray(frames, dtype=np.float32)
    n, h, w = frames.shape
    sheet = np.concatenate(list(frames), axis=1)  # (H, F*W): one PNG per chunk, cut up in the page
    data = {"sheet": "data:image/png;base64," + base64.b64encode(png_bytes(sheet, 1)).decode("ascii"), "n": int(n),
            "start": int(start), "fw": int(w), "fh": int(h), "fps": float(fps), "px": int(px), "playing": bool(playing),
            "walk": walk, "note": note,
            "text": {"aria": aria or t("js.player.aria"), "frame": t("js.player.frame"), "shown": t("js.player.shown"), "paused": t("js.player.paused")}}
    _frame_player(data=data, key=key)


def digit_canvas(size: int, brush: int, key: str) -> str | None:
    """A black ``size``-pixel square canvas drawn on in white with a ``brush``-pixel round brush, with Undo and
    Clear. Returns the drawing as a PNG ``data:`` URL, or None while it is empty."""
    res = _digit_canvas(data={"size": int(size), "brush": int(brush), "text": {"aria": t("js.canvas.aria"), "undo": t("js.canvas.undo"), "clear": t("js.canvas.clear")}},
                        key=key, default={"drawing": None},
                        on_drawing_change=lambda: None)
    drawing = _state(res, "drawing")
    return drawing.get("data") if isinstance(drawing, dict) else None


@dataclass
class MapState:
    """What the map sent back: the selected test-set ids, and the ids whose thumbnails it asks for (zoomed in)."""
    selection: list[int]
    want: list[int]


THUMB_BATCH = 400  # at most this many thumbnails per answer (the map asks for at most 300 at a time)
THUMB_COLS = 20


def thumb_sheet(images: np.ndarray, ids) -> dict:
    """``{ids, sheet, cols}``: the 28x28 digits ``images (K, 28, 28)`` of test ids ``ids`` as one grey PNG data URL,
    :data:`THUMB_COLS` a row without gaps, as the map cuts it up."""
    ids = [int(i) for i in ids][:THUMB_BATCH]
    imgs = np.asarray(images, dtype=np.float32)[: len(ids)]
    cols = min(THUMB_COLS, max(1, len(ids)))
    sheet = tile(imgs, ncols=cols, pad=0) if len(ids) else np.zeros((28, 28), np.float32)
    return {"ids": ids, "cols": cols, "sheet": "data:image/png;base64," + base64.b64encode(png_bytes(sheet, 1)).decode("ascii")}


def map_points(coords: np.ndarray, labels: np.ndarray, ids: np.ndarray, key: str) -> str:
    """Ship the points to the page in an element of their own and return the id the map knows them by: an unchanged
    element is sent once, then by its hash, so the map's small changes (filter, search, thumbnails) do not resend it."""
    c = np.asarray(coords, dtype=np.float64).round(3)
    labels, ids = np.asarray(labels).astype(int), np.asarray(ids).astype(int)
    pid = hashlib.sha256(c.tobytes() + labels.tobytes() + ids.tobytes()).hexdigest()[:16]
    _map_points(data={"id": pid, "x": c[:, 0].tolist(), "y": c[:, 1].tolist(), "labels": labels.tolist(), "ids": ids.tolist()},
                key=key, height=0)
    return pid


def map_asks(key: str) -> list[int]:
    """The test ids whose thumbnails the map under ``key`` asked for last (its ``want`` state), read before it is drawn."""
    want = _state(st.session_state.get(key), "want") if key in st.session_state else None
    return [int(i) for i in want.get("ids", [])] if isinstance(want, dict) else []


def scatter_map(coords: np.ndarray, labels: np.ndarray, ids: np.ndarray, colours: list[str] | None, mark, key: str,
                height: int = 620, visible=None, focus: int | None = None, thumbs: dict | None = None,
                on_select=None, live_run: bool = False) -> MapState:
    """Points ``coords (N, 2)`` with ``labels (N,)`` and test-set ``ids (N,)``, coloured by label when ``colours``
    (10 CSS colours) is given, the user's digit as a star at ``mark (2,)``. ``visible``: the labels shown (None: all);
    ``focus``: a test id found by search (selected, ringed and zoomed to); ``thumbs``: a :func:`thumb_sheet` answering
    the map's last ask; ``on_select``: called when the user selects in the map; ``live_run``: a layout redrawn as it
    iterates (the view is kept). Returns the selection (lasso or click) and the thumbnails asked for."""
    pid = map_points(coords, labels, ids, key=f"{key}_points")
    data = {"points": pid, "colour": colours is not None, "colours": list(colours or ["#4c78a8"] * 10),
            "mark": None if mark is None else [float(mark[0]), float(mark[1])], "height": int(height),
            "visible": None if visible is None else sorted(int(v) for v in visible),
            "focus": None if focus is None else int(focus), "thumbs": thumbs, "live": bool(live_run),
            "text": {"aria": t("js.map.aria"), "tip": t("js.map.tip"), "reset": t("js.map.reset"), "mark": t("js.map.mark"),
                     "isolate": t("js.map.isolate"), "show_all": t("js.map.show_all")}}
    res = _scatter_map(data=data, key=key, default={"selection": None, "want": None},
                       on_selection_change=on_select or (lambda: None), on_want_change=lambda: None)
    sel, want = _state(res, "selection"), _state(res, "want")
    return MapState([int(i) for i in sel.get("ids", [])] if isinstance(sel, dict) else [],
                    [int(i) for i in want.get("ids", [])] if isinstance(want, dict) else [])
