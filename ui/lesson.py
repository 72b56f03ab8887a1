"""The Lesson's steps: the chapter in its order, then its exercises, each a short text, a demo and a task.

A step is an id (its texts are ``lesson.<id>.title``, ``.body``, ``.try`` and, for an exercise, ``.answer`` in the
strings table) and a demo function drawn under the text. The demos are the app's own pieces: the shipped models,
their figures in ``pretrained/metrics.json``, and the experiments of ``rep_models.lesson`` (run on a click, cached).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from rep_models import lesson, noise
from rep_models.catalogue import LESSON_ROWS
from rep_models.images import tile
from ui import charts, display, i18n, latent, links, nav
from ui import common as ui
from ui.i18n import t

N_ROW = 8  # digits in a row of reconstructions
GAN_STEPS = lesson.GAN_STEPS  # the GAN exercise's short run (both players, a record every lesson.GAN_EVERY steps)


@dataclass(frozen=True)
class Step:
    id: str
    demo: Callable[[], None]
    exercise: bool = False


def _m(name: str, key: str, default=None):
    """A measured figure of ``name`` from the evaluation report (None when absent)."""
    v = ui.metrics().get(name, {}).get(key, default)
    return v


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def _num(v, digits: int = 4) -> str:
    return "–" if v is None else f"{v:.{digits}g}"


def _digits(n: int = N_ROW, offset: int = 0) -> torch.Tensor:
    x, _ = ui.test_set()
    return x[offset : offset + n]


def _row(images, caption: str, columns: int = N_ROW) -> None:
    """Digits ``(B, 1, 28, 28)`` or ``(B, 28, 28)`` in a grid of ``columns``, pixel-crisp, three screen pixels a pixel."""
    imgs = images.detach().cpu().numpy()[:, 0] if isinstance(images, torch.Tensor) else np.asarray(images)
    display.show_image(tile(imgs, ncols=min(columns, len(imgs))), caption=caption, scale=3)


def _reconstructions(names, x: torch.Tensor | None = None) -> None:
    """The same test digits and their reconstructions by each of ``names`` (a row each, its test MSE beside)."""
    x = _digits() if x is None else x
    _row(x, t("lesson.row.input"))
    for name in names:
        model = ui.require_model(name, t("lesson.this_demo"))
        if model is not None:
            with torch.no_grad():
                _row(model.reconstruct(x), t("lesson.row.model", model=i18n.model(name), mse=_num(_m(name, "test_mse"), 3)))


def _link(path: str, label: str) -> None:
    """A link to another page of the app (``path`` as in ``ui.nav.PAGES``), keeping the language and presentation
    mode; relative, so it works under any base path."""
    spec = next(p for p in nav.PAGES if p.path == path)
    keep = {k: st.query_params[k] for k in links.GLOBAL if k in st.query_params}
    st.markdown(f":material/arrow_forward: [{label}]({spec.url_path}{'?' + urlencode(keep) if keep else ''})")


def _bars(values: dict[str, list[float]], title: str, key: str, yaxis: str) -> None:
    fig = go.Figure([go.Bar(x=list(range(10)), y=v, name=n) for n, v in values.items()])
    charts.styled(fig, 260, title, xaxis_title=t("lesson.digit"), yaxis_title=yaxis, barmode="group", xaxis_dtick=1)
    charts.show(fig, key=key)


# -------------------------------------------------------------------------------------- the chapter's steps

def _efficient() -> None:
    model = ui.require_model("conv_ae", t("lesson.this_demo"))
    if model is None:
        return
    i = links.slider(t("lesson.pick_digit"), 0, 99, 0, key="lesson_digit", param="digit")
    x = _digits(1, i)
    with torch.no_grad():
        code = model.encode(x)[0].numpy()
        rec = model.decode(torch.from_numpy(code)[None]).clamp(0, 1)
    c1, c2, c3 = st.columns([1, 3, 1])
    with c1:
        _row(x, t("lesson.row.input"))
    with c2:
        fig = go.Figure(go.Bar(x=np.arange(len(code)), y=code, marker_color=charts.BLUE))
        charts.styled(fig, 200, t("lesson.code_title", n=len(code)), xaxis_title=t("lesson.code_unit"))
        charts.show(fig, key="lesson_code")
    with c3:
        _row(rec, t("lesson.row.rebuilt"))


def _pca() -> None:
    st.metric(t("lesson.pca.angle"), f"{_num(_m('linear_ae', 'largest_angle_to_pca_deg'), 2)}°")
    st.metric(t("lesson.pca.ratio"), _num(_m("linear_ae", "mse_over_pca32"), 3))
    _reconstructions(LESSON_ROWS["pca"])
    _link("pages/7_linear_pca.py", t("nav.linear_pca"))


def _stacked() -> None:
    _reconstructions(LESSON_ROWS["stacked"])
    st.caption(t("lesson.stacked.caption"))


def _conv_rnn() -> None:
    _reconstructions(LESSON_ROWS["conv_rnn"])


def _denoising() -> None:
    model = ui.require_model("denoising_ae", t("lesson.this_demo"))
    if model is None:
        return
    sigma = links.slider(t("lesson.noise"), 0.0, 0.8, 0.5, 0.1, key="lesson_sigma", param="noise")
    x = _digits()
    noisy = noise.gaussian(x, sigma, seed=0).clamp(0, 1)
    _row(x, t("lesson.row.input"))
    _row(noisy, t("lesson.row.noisy", sigma=sigma))
    with torch.no_grad():
        _row(model.reconstruct(noisy), t("lesson.row.cleaned"))
    _link("pages/3_denoise.py", t("nav.denoise"))


def _sparse() -> None:
    st.metric(t("lesson.sparse.activation"), _num(_m("sparse_ae", "mean_code_activation"), 3),
              help=t("lesson.sparse.rho", rho=_num(_m("sparse_ae", "rho"), 2)))
    _reconstructions(LESSON_ROWS["sparse"])


def _samples(name: str, n: int = 16) -> None:
    model = ui.require_model(name, t("lesson.this_demo"))
    if model is not None:
        with torch.no_grad():
            imgs = model.sample(n, seed=st.session_state.get("lesson_seed", 0)).float().clamp(0, 1).cpu().numpy()[:, 0]
        _row(imgs, t("lesson.row.samples", model=i18n.model(name)))


def _reseed_button() -> None:
    if st.button(t("lesson.new_samples"), icon=":material/casino:", key="lesson_reseed"):
        st.session_state["lesson_seed"] = st.session_state.get("lesson_seed", 0) + 1


def _vae() -> None:
    _reseed_button()
    _samples("vae")
    _link("pages/4_vae.py", t("nav.vae"))


def _gan() -> None:
    _reseed_button()
    _samples("gan")
    _link("pages/6_gan.py", t("nav.gan"))


def _dcgan() -> None:
    _reseed_button()
    _samples("gan")
    _samples("dcgan")
    c1, c2 = st.columns(2)
    c1.metric(t("lesson.fd", model=i18n.model("gan", "short")), _num(_m("gan", "frechet_distance"), 3))
    c2.metric(t("lesson.fd", model=i18n.model("dcgan", "short")), _num(_m("dcgan", "frechet_distance"), 3))
    st.caption(t("lesson.fd_help"))


def _stylegan() -> None:
    _reseed_button()
    _samples("stylegan")
    table = ui.stylegan_ablation()
    if table:
        rows = [{t("lesson.sg.variant"): r.get("label", r.get("variant")), t("lesson.sg.fd"): r.get("frechet_distance"),
                 t("lesson.sg.minutes"): None if r.get("seconds") is None else round(r["seconds"] / 60, 1)} for r in table["rows"]]
        st.dataframe(rows, hide_index=True)
    _link("pages/6_gan.py", t("nav.gan"))


def _few_labels() -> None:
    names = ["pixels", "conv_ae", "contrastive"]
    cols = st.columns(len(names) + 1)
    for col, name in zip(cols, names, strict=False):
        label = t("lesson.pixels") if name == "pixels" else i18n.model(name, "short")
        col.metric(label, f"{_pct(_m(name, 'few_label_100_accuracy'))} %")
    cols[-1].metric(i18n.model("sda_100", "short"), f"{_pct(_m('sda_100', 'test_accuracy'))} %")
    st.caption(t("lesson.few.caption"))
    _link("pages/8_few_labels.py", t("nav.few_labels"))


# ------------------------------------------------------------------------------------------ the exercises

TASKS = [("features", "pages/8_few_labels.py"), ("pretraining", "pages/8_few_labels.py"),
         ("reduction", "pages/5_latent_map.py"), ("generation", "pages/4_vae.py"), ("anomaly", "pages/2_draw.py")]


def _ex_tasks() -> None:
    for task, path in TASKS:
        _link(path, t(f"lesson.task.{task}"))


@st.cache_data(show_spinner=False, max_entries=4)
def _frozen_vs_fine_tuned(budgets: tuple[int, ...]) -> list[dict]:
    x, y = latent.train_images(lesson.FEW_POOL)
    xt, yt = ui.test_set()
    return lesson.frozen_vs_fine_tuned(ui.load_model("stacked_ae"), x, y, xt[: lesson.FEW_TEST], yt[: lesson.FEW_TEST], budgets=budgets)


def _few_verdict(frozen: float, tuned: float) -> str:
    """Which sentence says what the run showed: fine-tuning ahead or behind by more than a point, or neither."""
    if tuned > frozen + 0.01:
        return "lesson.few.tuned_better"
    return "lesson.few.frozen_better" if tuned < frozen - 0.01 else "lesson.few.same"


def _ex_few_labels() -> None:
    if ui.require_model("stacked_ae", t("lesson.this_demo")) is None:
        return
    if st.button(t("lesson.run"), icon=":material/play_arrow:", key="lesson_run_few") or "lesson_few" in st.session_state:
        with st.spinner(t("lesson.running")):
            rows = st.session_state["lesson_few"] = _frozen_vs_fine_tuned(lesson.FEW_BUDGETS)
        st.dataframe([{t("lesson.few.labels"): r["labels"], t("lesson.few.frozen"): f"{_pct(r['frozen'])} %",
                       t("lesson.few.fine_tuned"): f"{_pct(r['fine_tuned'])} %"} for r in rows], hide_index=True)
        last = rows[-1]
        st.markdown(t("lesson.few.result", n=last["labels"], frozen=_pct(last["frozen"]), tuned=_pct(last["fine_tuned"]),
                      better=t(_few_verdict(last["frozen"], last["fine_tuned"]))))
    _few_labels()


@st.cache_resource(show_spinner=False, max_entries=1)
def _memory() -> torch.Tensor:
    return lesson.memory_digits(ui.card("memoriser_ae") or {})


@st.cache_data(show_spinner=False, max_entries=1)
def _memorised() -> dict:
    xt, _ = ui.test_set()
    return lesson.memorised(ui.load_model("memoriser_ae"), _memory(), xt[: lesson.MEMORY_TEST])


def _ex_perfect() -> None:
    _reconstructions(LESSON_ROWS["ex_perfect"])
    st.markdown(t("lesson.perfect.over", over=_num(_m("overcomplete_ae", "test_mse"), 3), conv=_num(_m("conv_ae", "test_mse"), 3),
                  acc=_pct(_m("overcomplete_ae", "few_label_100_accuracy")), pix=_pct(_m("pixels", "few_label_100_accuracy"))))
    if ui.is_available("memoriser_ae"):
        x = _memory()[:N_ROW]
        with torch.no_grad():
            _row(x, t("lesson.row.memory"))
            _row(ui.load_model("memoriser_ae").reconstruct(x), t("lesson.row.memory_rebuilt"))
        m = _memorised()
        st.markdown(t("lesson.perfect.memory", n=m["n_memory"], recalled=_pct(m["recalled"]), train=_num(m["train_mse"], 2),
                      test=_num(m["test_mse"], 3), share=_pct(m["answered_from_memory"])))


def _ex_complete() -> None:
    rows = []
    for name in LESSON_ROWS["ex_complete"]:
        rows.append({t("lesson.col.model"): i18n.model(name), t("lesson.col.code"): _m(name, "code_dim"),
                     t("lesson.col.mse"): _num(_m(name, "test_mse"), 3),
                     t("lesson.col.few"): f"{_pct(_m(name, 'few_label_100_accuracy'))} %", t("lesson.col.risk"): t(f"lesson.risk.{name}")})
    rows.append({t("lesson.col.model"): t("lesson.pixels"), t("lesson.col.code"): 784, t("lesson.col.mse"): "0",
                 t("lesson.col.few"): f"{_pct(_m('pixels', 'few_label_100_accuracy'))} %", t("lesson.col.risk"): "–"})
    st.dataframe(rows, hide_index=True)


@st.cache_data(show_spinner=False, max_entries=2)
def _tied_vs_untied(epochs: int) -> dict:
    x, _ = latent.train_images(lesson.TIED_DIGITS)
    xt, _ = ui.test_set()
    return lesson.tied_vs_untied(x, xt[: lesson.TIED_TEST], epochs=epochs)


def _ex_tied() -> None:
    if st.button(t("lesson.run"), icon=":material/play_arrow:", key="lesson_run_tied") or "lesson_tied" in st.session_state:
        with st.spinner(t("lesson.running")):
            runs = st.session_state["lesson_tied"] = _tied_vs_untied(lesson.TIED_EPOCHS)
        fig = go.Figure()
        for name, r in runs.items():
            label = t(f"lesson.tied.{name}", n=f"{r.parameters:,}")
            fig.add_scatter(x=list(range(1, len(r.val_mse) + 1)), y=r.val_mse, mode="lines+markers", name=label)
            fig.add_scatter(x=list(range(1, len(r.train_mse) + 1)), y=r.train_mse, mode="lines", line_dash="dot",
                            name=t("lesson.tied.train", label=label))
        charts.styled(fig, 300, t("lesson.tied.title"), xaxis_title=t("lesson.epoch"), yaxis_title=t("lesson.mse"))
        charts.show(fig, key="lesson_tied_fig")
        tied, untied = runs["tied"], runs["untied"]
        gap = {k: r.val_mse[-1] - r.train_mse[-1] for k, r in runs.items()}
        st.markdown(t("lesson.tied.result", tied=f"{tied.parameters:,}", untied=f"{untied.parameters:,}",
                      tv=_num(tied.val_mse[-1], 3), uv=_num(untied.val_mse[-1], 3), tg=_num(gap["tied"], 2), ug=_num(gap["untied"], 2)))
        if untied.val_mse[-1] < tied.val_mse[-1]:
            st.info(t("lesson.tied.disagree"), icon=":material/info:")


@st.cache_data(show_spinner=False, max_entries=4)
def _generated(name: str, seed: int) -> dict:
    _, y = ui.test_set()
    return lesson.generated_vs_data(ui.load_model(name), ui.load_model("classifier"), y.numpy(), n=lesson.GEN_SAMPLES, seed=seed)


def _ex_generative() -> None:
    if ui.require_model("vae", t("lesson.this_demo")) is None or ui.require_model("classifier", t("lesson.this_demo")) is None:
        return
    _reseed_button()
    with st.spinner(t("lesson.sampling")):
        g = _generated("vae", st.session_state.get("lesson_seed", 0))
    _row(g["images"][:16], t("lesson.row.samples", model=i18n.model("vae")))
    _bars({t("lesson.gen.samples"): list(100 * g["samples"]), t("lesson.gen.data"): list(100 * g["data"])},
          t("lesson.gen.title"), "lesson_gen", t("lesson.share"))
    st.markdown(t("lesson.gen.result", gap=_pct(g["gap"]), conf=_pct(g["mean_top_prob"])))


@st.cache_data(show_spinner=False, max_entries=2)
def _gan_run(steps: int) -> dict:
    x, _ = latent.train_images(lesson.GAN_DIGITS)
    return lesson.short_gan_run(x, ui.load_model("classifier"), steps=steps, every=lesson.GAN_EVERY)


def _ex_gan() -> None:
    hists = {}
    for name in ("gan", "dcgan"):
        if ui.is_available(name):
            counts, _ = latent.gan_histogram(name)
            hists[i18n.model(name, "short")] = list(100 * counts / counts.sum())
    if hists:
        _bars(hists, t("lesson.gan.hist_title"), "lesson_gan_hist", t("lesson.share"))
        st.markdown(" ".join(t("lesson.gan.shares", model=m, lo=f"{min(v):.1f}", hi=f"{max(v):.1f}") for m, v in hists.items()))
    if ui.require_model("classifier", t("lesson.this_demo")) is None:
        return
    if st.button(t("lesson.run"), icon=":material/play_arrow:", key="lesson_run_gan") or "lesson_gan" in st.session_state:
        with st.spinner(t("lesson.running")):
            r = st.session_state["lesson_gan"] = _gan_run(GAN_STEPS)
        fig = go.Figure([go.Scatter(x=r["step"], y=r["d_real"], name=t("lesson.gan.real")),
                         go.Scatter(x=r["step"], y=r["d_fake"], name=t("lesson.gan.fake")),
                         go.Scatter(x=r["step"], y=r["kl"], name=t("lesson.gan.kl"), yaxis="y2", line_dash="dot")])
        charts.styled(fig, 300, t("lesson.gan.run_title", steps=GAN_STEPS), xaxis_title=t("lesson.step_n"), yaxis_title=t("lesson.gan.score"),
                      yaxis2={"overlaying": "y", "side": "right", "title": t("lesson.gan.kl")})
        charts.show(fig, key="lesson_gan_fig")
        _row(r["samples"], t("lesson.row.gan_now", n=r["step"][-1]))
        swing = max(r["d_fake"]) - min(r["d_fake"])
        st.markdown(t("lesson.gan.result", swing=_num(swing, 2), kl=_num(r["kl"][-1], 2)))
    _link("pages/9_train_live.py", t("nav.train_live"))


STEPS: list[Step] = [
    Step("efficient", _efficient), Step("pca", _pca), Step("stacked", _stacked), Step("conv_rnn", _conv_rnn),
    Step("denoising", _denoising), Step("sparse", _sparse), Step("vae", _vae), Step("gan", _gan), Step("dcgan", _dcgan),
    Step("stylegan", _stylegan), Step("few_labels", _few_labels),
    Step("ex_tasks", _ex_tasks, True), Step("ex_few_labels", _ex_few_labels, True), Step("ex_perfect", _ex_perfect, True),
    Step("ex_complete", _ex_complete, True), Step("ex_tied", _ex_tied, True), Step("ex_generative", _ex_generative, True),
    Step("ex_gan", _ex_gan, True),
]
