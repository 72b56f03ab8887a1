"""Few labels: how much does an encoder trained without labels help a classifier that sees only a few?"""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from rep_models.catalogue import FEW_LABEL_ENCODERS, FINE_TUNED
from rep_models.few_label_curves import FEW_LABEL_METHODS, few_label_curve, few_label_results
from rep_models.model_measures import few_label_draws
from ui import charts, i18n, latent, links
from ui import common as ui
from ui.i18n import t

LIVE_COUNTS = [10, 20, 50, 100, 200, 500, 1000, 5000]  # at most half the pool, so random subsets still differ
N_POOL = latent.FEW_POOL  # training digits the labelled subsets are drawn from (their codes also set the scaling)
N_TEST = latent.FEW_TEST
RAW = "pixels"  # the name rep_models.evaluate and rep_models.projections use


def _title(rep: str) -> str:
    if rep in (RAW, "raw", "pixels"):
        return t("map.pixels")
    return i18n.model(rep) if rep in ui.MODEL_INFO else rep


ui.page_header(t("nav.few_labels"), t("few.what"), t("few.try"))


def _codes(rep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pool codes, pool labels, test codes, test labels) of a representation (cached per server, and computed
    in the background after a start: ui.warmup)."""
    return latent.few_label_codes(rep)


def _figure(pre: dict, live: dict, sda: dict, live_method: str = "logistic") -> go.Figure:
    fig = go.Figure()
    palette = charts.PALETTE
    reps = list(dict.fromkeys([*pre, *live]))
    for i, rep in enumerate(reps):
        color = palette[i % len(palette)]
        if rep in pre:
            n, acc, sd = map(np.array, zip(*pre[rep], strict=True))
            fig.add_trace(go.Scatter(x=n, y=100 * acc, error_y=dict(array=100 * sd, visible=True), mode="lines+markers", name=_title(rep),
                                     legendgroup=rep, line=dict(color=color, width=3 if rep == RAW else 2, dash="dash" if rep == RAW else "solid")))
        if rep in live:
            n, acc, sd = map(np.array, zip(*live[rep], strict=True))
            fig.add_trace(go.Scatter(x=n, y=100 * acc, error_y=dict(array=100 * sd, visible=True), mode="markers+lines",
                                     name=t("few.rerun_spreading" if live_method == "spreading" else "few.rerun", rep=_title(rep)), legendgroup=rep,
                                     line=dict(color=color, dash="dot", width=1.5), marker=dict(symbol="circle-open", size=10)))
    for points in sorted(sda.values()):  # one fine-tuned network per label count it was trained with, fewest first
        n, acc, _ = map(np.array, zip(*points, strict=True))
        fig.add_trace(go.Scatter(x=n, y=100 * acc, mode="markers", name=t("few.sda", n=", ".join(f"{k:,}" for k in n)),
                                 marker=dict(symbol="star", size=16, color="#222"),
                                 hovertemplate=t("few.sda_hover") + "<extra></extra>"))
    return charts.styled(fig, 460, xaxis_type="log", xaxis_title=t("few.x"), yaxis_title=t("few.y"),
                         legend=dict(orientation="v", x=1.01, y=1))


with ui.page_guard("Few labels"):
    report = ui.metrics()
    pre = few_label_results(report)  # rep_models.evaluate's curves
    sda = {name: pre.pop(name) for name in FINE_TUNED if name in pre}
    if not pre:
        st.info(t("few.not_installed"), icon=":material/hourglass_top:")
    live = st.session_state.get("few_live", {})
    live_method = st.session_state.get("few_live_method", "logistic")
    charts.show(_figure(pre, live, sda, live_method), key="few_chart")
    setup = report.get("meta", {}).get("few_label_curves", {}) if pre else {}
    n_train, n_test = setup.get("n_train", 55_000), setup.get("n_test", 10_000)
    st.caption(t("few.caption", train=f"{n_train:,}", test=f"{n_test:,}", d1=few_label_draws(1000, n_train),
                 d3=few_label_draws(3000, n_train), d10=few_label_draws(10_000, n_train)))

    st.subheader(t("few.rerun_title"))
    options = [RAW] + [n for n in FEW_LABEL_ENCODERS if ui.is_available(n)]
    c1, c2, c3 = st.columns([3, 3, 1])
    with c1:
        reps = links.multiselect(t("few.reps"), options, default=[r for r in (RAW, *latent.FEW_LABEL_DEFAULTS) if r in options],
                                 format_func=_title, key="few_reps", param="reps")
    with c2:
        counts = links.multiselect(t("few.counts"), LIVE_COUNTS, default=[10, 50, 100, 500], key="few_counts", param="counts")
    with c3:
        draws = links.number_input(t("few.draws"), 1, 5, 3, key="few_draws", param="draws", help=t("few.draws_help"))
    st.caption(t("few.pool", pool=f"{N_POOL:,}", each=f"{N_POOL // 10:,}", top=f"{max(LIVE_COUNTS):,}"))
    method = links.radio(t("few.classifier"), list(FEW_LABEL_METHODS), format_func=lambda m: t(f"few.method.{m}"), horizontal=True,
                         key="few_method", param="classifier", help=t("few.classifier_help"))
    seed = st.session_state.get("few_seed", 100)
    if st.button(t("few.run"), icon=":material/play_arrow:", key="few_run", disabled=not (reps and counts)):
        bar = st.progress(0.0, text=t("few.encoding"))
        results = {}
        for i, rep in enumerate(reps):
            bar.progress(i / len(reps), text=t("few.encoding_rep", rep=_title(rep), pool=f"{N_POOL:,}", test=f"{N_TEST:,}"))
            results[rep] = few_label_curve(*_codes(rep), sorted(counts), draws=int(draws), seed=seed, method=method)
        bar.progress(1.0, text=t("few.done"))
        st.session_state["few_live"] = results
        st.session_state["few_live_method"] = method
        st.session_state["few_seed"] = seed + 10
        st.rerun()
    if live:
        rows = [{t("map.representation_col"): _title(r), **{t("few.n_labels", n=n): f"{100 * a:.1f} ± {100 * s:.1f} %" for n, a, s in v}}
                for r, v in live.items()]
        st.dataframe(rows, hide_index=True)
