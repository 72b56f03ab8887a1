"""Latent map: the 10,000 MNIST test digits placed in 2-D by PCA, t-SNE or UMAP of each representation."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import numpy as np
import streamlit as st

from rep_models import exports
from rep_models.codes import as_batch
from rep_models.images import tile
from ui import common as ui
from ui import downloads, latent, links, live

METHODS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
MAX_SHOWN = 48  # selected digits shown as images
PLACES = {"none": "None", "draw": "Draw", "upload": "Upload", "test": "Test digit"}  # a link's place=… -> ui.digit_input's source

ui.page_header(
    "Latent map",
    "Every dot is one of the 10,000 MNIST test digits, placed so that digits with similar codes land close together. "
    "The map is a 2-D picture of a high-dimensional space: PCA keeps the directions of largest spread (faithful, but "
    "classes overlap); t-SNE and UMAP keep each digit's neighbours (tight clusters, but distances between clusters mean little).",
    "compare raw pixels, the conv AE and the contrastive encoder under UMAP; draw a lasso around a cluster to see its digits; "
    "draw a digit and find where it lands.",
)

try:
    from rep_models import projections as P
except ImportError:  # the projections module is not installed yet
    P = None


def _title(rep: str) -> str:
    return "raw pixels" if rep == "pixels" else (ui.MODEL_INFO[rep].title if rep in ui.MODEL_INFO else rep)


def available_maps() -> dict[str, list[str]]:
    """``{rep: [methods with a shipped map]}`` for the representations whose files are installed."""
    out = {}
    for rep in P.REPS:
        methods = [m for m in METHODS if P.path_for(rep, m).is_file()]
        if methods:
            out[rep] = methods
    return out


@st.cache_resource(show_spinner="Loading the map…", max_entries=64)
def load_map(rep: str, method: str) -> dict[str, np.ndarray]:
    m = dict(P.load_projection(rep, method))
    m["coords"] = m["coords"].astype(np.float32)  # stored as float16, which plotly cannot send as a typed array
    return m


@st.cache_resource(show_spinner="Preparing to place new digits in this map (once per server)…", max_entries=32)
def placer(rep: str, method: str):
    p = P.placer(rep, method)
    dim = len(p.mean)
    p(np.zeros(dim, np.float32))  # warm up (t-SNE's first placement compiles and allocates)
    return p


def quality_table(report: dict, avail: dict[str, list[str]]) -> list[dict]:
    proj = report.get("projections", {}) if isinstance(report.get("projections"), dict) else {}
    rows = []
    for rep, methods in avail.items():
        row = {"representation": _title(rep)}
        for m in METHODS:
            q = proj.get(rep, {}).get(m, {}) if isinstance(proj.get(rep), dict) else {}
            knn, tw = q.get("knn10_accuracy"), q.get("trustworthiness")
            row[f"{METHODS[m]} 10-NN"] = f"{100 * knn:.1f} %" if isinstance(knn, (int, float)) else ("…" if m in methods else "—")
            row[f"{METHODS[m]} trust."] = f"{tw:.3f}" if isinstance(tw, (int, float)) else ("…" if m in methods else "—")
        rows.append(row)
    return rows


@ui.fragment
def map_panel(rep: str, method: str, colour: bool, image: np.ndarray | None) -> None:
    """The scatter and what is selected in it: a selection reruns only this fragment."""
    m = load_map(rep, method)
    mark = None
    if image is not None:
        try:
            code = P.codes_for(rep, as_batch(image), model=None if rep == "pixels" else ui.load_model(rep))
            mark = placer(rep, method)(code[0])
        except (ValueError, FileNotFoundError) as e:
            st.caption(f"Your digit cannot be placed in this map ({e}).")
    c_map, c_sel = st.columns([3, 2], gap="medium")
    with c_map:
        rows = sorted(set(live.scatter_map(m["coords"], m["labels"], m["indices"], COLOURS if colour else None, mark,
                                           key=f"map_chart_{rep}_{method}")))
        st.caption("Hover a dot to name it; drag a lasso around a group or click a dot to see the digits; double-click "
                   "to clear; the wheel zooms.")
    with c_sel:
        if not rows:
            st.info("Drag a lasso around some points, or click one, to see those digits.",
                    icon=":material/gesture_select:")
            return
        x, y = ui.test_set()
        labels = y[rows].numpy()
        counts = np.bincount(labels, minlength=10)
        st.markdown(f"**{len(rows):,} digits selected** · most are **{counts.argmax()}s** ({100 * counts.max() / len(rows):.0f} %)")
        shown = rows[:MAX_SHOWN]
        latent.show_image(tile(x[shown, 0].numpy(), ncols=8), scale=2)
        if len(rows) > MAX_SHOWN:
            st.caption(f"the first {MAX_SHOWN} of {len(rows):,}")
        st.bar_chart({"digits": counts}, height=160, x_label="digit", y_label="selected")
        c_csv, c_png = st.columns(2)
        with c_csv:
            downloads.button("Selection (CSV)", lambda: exports.map_selection_csv(rows, m["indices"], m["labels"], m["coords"]),
                             f"{rep}_{method}_selection.csv", key="map_dl_csv",
                             help="One row per selected digit: its index in the MNIST test set, its label and its place (x, y) on this map.")
        with c_png:
            downloads.button("Digits (PNG)", lambda: exports.png(tile(x[shown, 0].numpy(), ncols=8)), f"{rep}_{method}_selection.png",
                             key="map_dl_png", help=f"The first {MAX_SHOWN} selected digits, as shown here.")


with ui.page_guard("the latent map"):
    avail = available_maps() if P is not None else {}
    if not avail:
        st.info("The precomputed maps are not installed yet (`python -m rep_models.evaluate --projections` writes them to "
                "`pretrained/`). This page shows them as soon as they are there.", icon=":material/hourglass_top:")
    else:
        left, right = st.columns([1.4, 4], gap="large")
        with left:
            rep = links.selectbox("Representation", list(avail), format_func=_title, key="map_rep", param="rep",
                                  index=list(avail).index("conv_ae") if "conv_ae" in avail else 0)
            methods = avail[rep]
            method = links.segmented_control("Method", methods, format_func=METHODS.get, key=f"map_method_{rep}", param="method",
                                             default="umap" if "umap" in methods else methods[0]) or methods[0]
            colour = links.toggle("Colour by label", value=True, key="map_colour", param="colour")
            st.markdown("##### Your digit")
            src = links.radio("Place in the map", list(PLACES), key="map_src", param="place", horizontal=True, format_func=PLACES.get)
            image = ui.digit_input("map_in", sources=(PLACES[src],), canvas_size=200) if src != "none" else None
        report = ui.metrics()
        q = report.get("projections", {}).get(rep, {}).get(method, {}) if isinstance(report.get("projections"), dict) else {}
        with right:
            c1, c2, c3 = st.columns(3)
            knn, tw = q.get("knn10_accuracy"), q.get("trustworthiness")
            c1.metric("10-NN accuracy in 2-D", f"{100 * knn:.1f} %" if isinstance(knn, (int, float)) else "—",
                      help="Each digit labelled by the majority of its 10 nearest dots on the map: how well the map keeps classes apart.")
            c2.metric("Trustworthiness (k = 10)", f"{tw:.3f}" if isinstance(tw, (int, float)) else "—",
                      help="1.0 = the neighbours you see on the map are real neighbours in the code space (no false neighbours).")
            c3.metric("Points", f"{len(load_map(rep, method)['coords']):,}")
            map_panel(rep, method, colour, image)
        with st.expander("Compare every map (10-NN accuracy and trustworthiness)", expanded=False):
            st.dataframe(quality_table(report, avail), hide_index=True)
            st.caption("From the evaluation report (`pretrained/metrics.json`); “…” = map installed, quality not measured yet.")
