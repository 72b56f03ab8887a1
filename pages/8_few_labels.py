"""Few labels: how much does an encoder trained without labels help a classifier that sees only a few?"""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from rep_models.catalogue import ENCODERS, FINE_TUNED
from rep_models.evaluate import few_label_draws
from rep_models.few_label_curves import FEW_LABEL_METHODS, few_label_curve, few_label_results
from ui import charts, latent, links
from ui import common as ui

LIVE_COUNTS = [10, 20, 50, 100, 200, 500, 1000, 5000]  # at most half the pool, so random subsets still differ
N_POOL = latent.FEW_POOL  # training digits the labelled subsets are drawn from (their codes also set the scaling)
N_TEST = latent.FEW_TEST
RAW = "pixels"  # the name rep_models.evaluate and rep_models.projections use


def _title(rep: str) -> str:
    if rep in (RAW, "raw", "pixels"):
        return "raw pixels"
    return ui.MODEL_INFO[rep].title if rep in ui.MODEL_INFO else rep


ui.page_header(
    "Few labels",
    "Each encoder was trained on 55,000 digits **without** their labels. Freeze it, then fit a simple linear classifier "
    "on its codes of just a few labelled digits: a representation that already groups digits by class needs far fewer "
    "labels than raw pixels. The contrastive encoder never redraws a digit: it only learns which two randomly moved copies "
    "came from the same one, and that is what groups digits best. The fine-tuned stacked denoising autoencoder (SdA) shows "
    "what training the whole network adds.",
    "compare the curves at 100 labels (10 per digit); then re-run the small counts yourself with other random labelled subsets.",
)


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
                                     name=f"{_title(rep)} (your re-run{', spreading' if live_method == 'spreading' else ''})", legendgroup=rep,
                                     line=dict(color=color, dash="dot", width=1.5), marker=dict(symbol="circle-open", size=10)))
    for points in sorted(sda.values()):  # one fine-tuned network per label count it was trained with, fewest first
        n, acc, _ = map(np.array, zip(*points, strict=True))
        fig.add_trace(go.Scatter(x=n, y=100 * acc, mode="markers", name=f"SdA fine-tuned, {', '.join(f'{k:,}' for k in n)} labels",
                                 marker=dict(symbol="star", size=16, color="#222"),
                                 hovertemplate="%{x:,} labels: %{y:.2f} %<extra></extra>"))
    return charts.styled(fig, 460, xaxis_type="log", xaxis_title="labelled training digits", yaxis_title="test accuracy (%)",
                         legend=dict(orientation="v", x=1.01, y=1))


with ui.page_guard("Few labels"):
    report = ui.metrics()
    pre = few_label_results(report)  # rep_models.evaluate's curves
    sda = {name: pre.pop(name) for name in FINE_TUNED if name in pre}
    if not pre:
        st.info("The precomputed results appear here once the evaluation report `pretrained/metrics.json` is installed. "
                "You can still run the label counts yourself below.", icon=":material/hourglass_top:")
    live = st.session_state.get("few_live", {})
    live_method = st.session_state.get("few_live_method", "logistic")
    charts.show(_figure(pre, live, sda, live_method), key="few_chart")
    setup = report.get("meta", {}).get("few_label_curves", {}) if pre else {}
    n_train, n_test = setup.get("n_train", 55_000), setup.get("n_test", 10_000)
    st.caption(f"Lines: a logistic regression on the frozen codes of n labelled digits (n/10 per class) of the {n_train:,} "
               f"training digits, scored on {n_test:,} test digits; the last point uses every label. Error bars: the spread "
               f"(standard deviation) over {few_label_draws(1000, n_train)} random labelled subsets up to 1,000 labels, "
               f"{few_label_draws(3000, n_train)} at 3,000, {few_label_draws(10_000, n_train)} at 10,000. "
               "Stars: the SdA, whose whole network was fine-tuned with the labels its recipe keeps (accuracy on the same test digits).")

    st.subheader("Re-run it yourself")
    options = [RAW] + [n for n in ENCODERS if ui.is_available(n)]
    c1, c2, c3 = st.columns([3, 3, 1])
    with c1:
        reps = links.multiselect("Representations", options, default=[r for r in (RAW, *latent.FEW_LABEL_DEFAULTS) if r in options],
                                 format_func=_title, key="few_reps", param="reps")
    with c2:
        counts = links.multiselect("Label counts", LIVE_COUNTS, default=[10, 50, 100, 500], key="few_counts", param="counts")
    with c3:
        draws = links.number_input("Draws", 1, 5, 3, key="few_draws", param="draws", help="Random labelled subsets per count")
    st.caption(f"Your re-runs draw their labelled digits from the {N_POOL:,} training digits that come with the app "
               f"({N_POOL // 10:,} of each digit), so the label counts stop at {max(LIVE_COUNTS):,}: half of them, so that "
               "each draw is a different subset. The curves above were measured by the evaluation on the full training set.")
    method = links.radio("Classifier", list(FEW_LABEL_METHODS), format_func=FEW_LABEL_METHODS.get, horizontal=True,
                         key="few_method", param="classifier", help="Spreading uses the unlabelled digits too: each label flows to its neighbours' "
                      "neighbours, so it works where the classes are connected clusters rather than linearly separable.")
    seed = st.session_state.get("few_seed", 100)
    if st.button("Run with new random labelled subsets", icon=":material/play_arrow:", key="few_run", disabled=not (reps and counts)):
        bar = st.progress(0.0, text="Encoding digits…")
        results = {}
        for i, rep in enumerate(reps):
            bar.progress(i / len(reps), text=f"{_title(rep)}: encoding {N_POOL:,} + {N_TEST:,} digits, then fitting…")
            results[rep] = few_label_curve(*_codes(rep), sorted(counts), draws=int(draws), seed=seed, method=method)
        bar.progress(1.0, text="Done")
        st.session_state["few_live"] = results
        st.session_state["few_live_method"] = method
        st.session_state["few_seed"] = seed + 10
        st.rerun()
    if live:
        rows = [{"representation": _title(r), **{f"{n} labels": f"{100 * a:.1f} ± {100 * s:.1f} %" for n, a, s in v}} for r, v in live.items()]
        st.dataframe(rows, hide_index=True)
