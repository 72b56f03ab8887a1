"""Train live: watch a small model learn, epoch by epoch, on a copy that never replaces the shipped weights."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import uuid

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from rep_models import exports
from rep_models.images import tile
from rep_models.training import activation_race, gan_stepper
from rep_models.training.live import MAX_EPOCHS, MAX_SAMPLES, TRAINABLE, TrainJob, TrainState
from ui import charts, downloads, i18n, latent, links
from ui import common as ui
from ui.i18n import t

TITLES = {name: f"live.{name}.title" for name in TRAINABLE}  # keys of the strings tables
POLL = 0.5  # seconds between progress updates in the page
SLOW_MOTION = 0.5  # seconds between steps in the GAN's slow motion
GAN_DIGITS = 5000  # the training digits a stepped GAN draws its batches from

ui.page_header(t("nav.train_live"), t("train.what"), t("train.try"))

if "train_me" not in st.session_state:
    st.session_state["train_me"] = uuid.uuid4().hex


def _title(name: str) -> str:
    return t(TITLES[name]) if name in TITLES else name


def _loss_figure(state: TrainState) -> go.Figure:
    fig = go.Figure()
    for name, c in state.loss_curves().items():
        fig.add_trace(go.Scatter(x=c.batches, y=c.losses, mode="lines", name=t("train.each_batch", name=i18n.tr(name)), opacity=0.25, line=dict(width=1)))
        fig.add_trace(go.Scatter(x=c.smooth_batches, y=c.smooth, mode="lines", name=t("train.smoothed", name=i18n.tr(name)), line=dict(width=2.5)))
    val = state.held_out()
    if val:
        fig.add_trace(go.Scatter(x=[b for b, _ in val], y=[v for _, v in val], mode="markers", name=t("train.held_out"),
                                 marker=dict(size=10, symbol="diamond", color="#222")))
    charts.styled(fig, 300, xaxis_title=t("train.batch"), yaxis_title=t("train.loss"), xaxis_range=[0, state.batches_total], legend=dict(orientation="h", y=-0.25))
    if not state.adversarial:
        fig.update_yaxes(type="log")
    return fig


def show_job(job: TrainJob, mine: bool) -> None:
    """Progress, loss chart and snapshot of a job; polled as a fragment while it runs."""
    if mine:
        job.heartbeat()
    s = job.state()
    what = _title(s.name)
    label = {"running": t("train.running", what=what, epoch=min(s.epochs, len(s.records) + 1), epochs=s.epochs),
             "done": t("train.done", what=what, epochs=s.epochs, n=f"{s.samples:,}", s=f"{s.seconds:.0f}"),
             "cancelled": t("train.cancelled", n=len(s.records), why=i18n.tr(s.message) or t("train.cancelled_why")),
             "failed": t("train.failed", why=i18n.tr(s.message))}[s.status]
    st.progress(s.progress if s.status != "done" else 1.0, text=label)
    c_loss, c_img = st.columns([3, 2], gap="large")
    with c_loss:
        if s.losses:
            charts.show(_loss_figure(s), key=f"train_loss_{s.status}")
        else:
            st.caption(t("train.curve_soon"))
    with c_img:
        if s.snapshot is not None:
            cap = (t("train.snap_gan") if s.name == "dcgan" else t("train.snap_ae") + (t("train.snap_vae") if s.name == "vae" else ""))
            latent.show_image(s.snapshot, caption=t("train.after_epoch", n=len(s.records), what=cap), width=380)
    if s.records:
        last = s.records[-1]
        st.caption(t("train.speed", rate=f"{last.get('images_per_s', 0):,.0f}", device=ui.device_label(), s=f"{last.get('seconds', 0):.1f}"))
    if s.status == "failed":
        st.error(t("train.error"))
    if mine and s.status in ("done", "cancelled") and s.records and job.model is not None:
        card = {"trained_live": {"epochs": len(s.records), "training_digits": s.samples, "seconds": round(s.seconds, 1), "epochs_log": s.records}}
        c_model, c_png = st.columns(2)
        with c_model:
            downloads.button(t("train.dl_model"), lambda: exports.model_archive(job.model, f"{s.name}_trained_here", card),
                             f"{s.name}_trained_here.zip", key="train_dl_model",
                             help=t("train.dl_model_help"))
        with c_png:
            downloads.button(t("train.dl_png"), lambda: exports.png(s.snapshot), f"{s.name}_after_epoch_{len(s.records)}.png",
                             key="train_dl_png")
    if s.status != "running" and st.session_state.get("train_polling"):
        st.session_state["train_polling"] = False
        st.rerun(scope="app")  # stop polling


def _start(name: str, samples: int, epochs: int) -> None:
    x, y = latent.train_images(samples)
    xt, yt = ui.test_set()
    job = TrainJob(name, x, y, (xt[:1000], yt[:1000]), epochs=epochs, device=ui.device(), owner=st.session_state["train_me"])
    if latent.train_slot().claim(job):
        st.session_state["train_polling"] = True
    else:
        st.session_state["train_busy"] = True


def _gan_scores_figure(g: gan_stepper.GanStepper) -> go.Figure:
    h = g.history
    steps = [r.step for r in h]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=[r.d_real for r in h], mode="lines", name=t("gan_lab.d_real"), line=dict(color=charts.BLUE, width=2.5)))
    fig.add_trace(go.Scatter(x=steps, y=[r.d_fake for r in h], mode="lines", name=t("gan_lab.d_fake"), line=dict(color=charts.ORANGE, width=2.5)))
    marks = {"discriminator": t("gan_lab.d"), "generator": t("gan_lab.g"), "both": t("gan_lab.both")}
    fig.add_trace(go.Scatter(x=steps, y=[-0.04] * len(h), mode="markers", name=t("gan_lab.moved"), hovertext=[marks[r.player] for r in h],
                             marker=dict(size=5, symbol="square", color=[{"discriminator": charts.BLUE, "generator": charts.ORANGE}.get(r.player, "#888") for r in h])))
    fig.add_hline(y=0.5, line_dash="dot", line_color="#999")
    return charts.styled(fig, 280, title=t("gan_lab.scores"), xaxis_title=t("gan_lab.step"), yaxis_title=t("gan_lab.prob"),
                         yaxis_range=[-0.08, 1.02], legend=dict(orientation="h", y=-0.3))


def _gan_histogram_figure(shares) -> go.Figure:
    fig = go.Figure(go.Bar(x=[str(d) for d in range(10)], y=shares, marker_color=charts.BLUE))
    fig.add_hline(y=0.1, line_dash="dot", line_color="#999")
    return charts.styled(fig, 240, title=t("gan_lab.hist"), xaxis_title=t("gan_lab.digit"), yaxis_title=t("gan_lab.share"), yaxis_range=[0, 1])


def _gan_kl_figure(kl: list[tuple[int, float]]) -> go.Figure:
    fig = go.Figure(go.Scatter(x=[s for s, _ in kl], y=[v for _, v in kl], mode="lines+markers", line=dict(color=charts.RED)))
    return charts.styled(fig, 200, title=t("gan_lab.kl_curve"), xaxis_title=t("gan_lab.step"), yaxis_title=t("gan_lab.nats"))


def _gan_move(player: str, n: int) -> None:
    """Move ``player`` ``n`` steps, if no other session on the server is stepping (a button's callback)."""
    g = st.session_state["gan_lab"]
    # Wait out a step in progress (this session's last click, or another's: each is bounded in time), not more.
    if not gan_stepper.SERVER_SLOT.acquire(timeout=2 * gan_stepper.MAX_SECONDS_PER_CALL + 1):
        st.session_state["gan_lab_busy"] = True
        return
    try:
        g.step(player, n)
    finally:
        gan_stepper.SERVER_SLOT.release()


def _gan_reset(name: str) -> None:
    st.session_state["gan_lab"] = gan_stepper.GanStepper(name, latent.train_images(GAN_DIGITS)[0], device=ui.device())
    st.session_state["gan_lab_kl"] = []


def show_gan(slow: bool) -> None:
    """The stepped GAN's samples, the judge's scores, the digits it draws; in slow motion, one more step first."""
    g = st.session_state["gan_lab"]
    if slow and g.steps < gan_stepper.MAX_STEPS:
        _gan_move("both", 1)
    if st.session_state.pop("gan_lab_busy", False):
        st.warning(t("gan_lab.busy"), icon=":material/hourglass_top:")
    if g.steps >= gan_stepper.MAX_STEPS:
        st.info(t("gan_lab.limit", n=f"{gan_stepper.MAX_STEPS:,}"))
    c_img, c_charts = st.columns([2, 3], gap="large")
    with c_img:
        latent.show_image(tile(g.samples(32), ncols=8), caption=t("gan_lab.samples", n=g.steps), width=380)
        if not g.steps:
            st.caption(t("gan_lab.start"))
    with c_charts:
        if g.steps:
            charts.show(_gan_scores_figure(g), key="gan_lab_scores")
        if ui.is_available("classifier"):
            h = g.histogram(ui.load_model("classifier"))
            kl = st.session_state.setdefault("gan_lab_kl", [])
            if not kl or kl[-1][0] != g.steps:
                kl.append((g.steps, h["kl_to_uniform"]))
            charts.show(_gan_histogram_figure(h["shares"]), key="gan_lab_hist")
            st.markdown(t("gan_lab.kl", kl=f"{h['kl_to_uniform']:.2f}", p=f"{h['mean_top_prob']:.2f}"))
            if len(kl) > 1:
                charts.show(_gan_kl_figure(kl), key="gan_lab_kl_chart")
        else:
            st.caption(t("gan_lab.no_classifier"))


def step_a_gan() -> None:
    st.markdown(t("gan_lab.what"))
    left, right = st.columns([1, 3], gap="large")
    with left:
        names = gan_stepper.gan_recipes()
        name = links.selectbox(t("vae.model"), names, format_func=_title, key="gan_lab_model", param="gan")
        g = st.session_state.get("gan_lab")
        if g is None or g.name != name:
            _gan_reset(name)
        n = links.segmented_control(t("gan_lab.steps"), [1, 5, 20], key="gan_lab_n", param="steps", default=1)
        for player, label, icon in (("discriminator", "gan_lab.d", ":material/gavel:"), ("generator", "gan_lab.g", ":material/brush:"),
                                    ("both", "gan_lab.both", ":material/sync:")):
            st.button(t(label), icon=icon, on_click=_gan_move, args=(player, int(n)), key=f"gan_lab_{player}", width="stretch")
        st.button(t("gan_lab.reset"), icon=":material/restart_alt:", on_click=_gan_reset, args=(name,), key="gan_lab_reset",
                  width="stretch")
        slow = st.toggle(t("gan_lab.slow"), key="gan_lab_slow")
        st.caption(t("gan_lab.limits", per=gan_stepper.MAX_STEPS_PER_CALL, n=f"{gan_stepper.MAX_STEPS:,}"))
    with right:
        ui.fragment(show_gan, run_every=SLOW_MOTION if slow else None)(slow)


ACT_DIGITS = 5000  # the training digits the compared copies draw their batches from
ACT_COLOURS = [charts.BLUE, charts.ORANGE, charts.RED, "#2ca02c"]


def _act_reset(names: list[str], preset: str) -> None:
    st.session_state["act_race"] = activation_race.ActivationRace(names, *latent.train_images(ACT_DIGITS), preset=preset,
                                                                   device=ui.device())


def _act_move(n: int) -> None:
    """``n`` steps of every copy, if no other session on the server is running a comparison (a button's callback)."""
    if not activation_race.SERVER_SLOT.acquire(timeout=2 * activation_race.MAX_SECONDS_PER_CALL + 1):
        st.session_state["act_busy"] = True
        return
    try:
        st.session_state["act_race"].step(n)
    finally:
        activation_race.SERVER_SLOT.release()


def _act_figure(race, value, title: str, y_title: str, log: bool = False) -> go.Figure:
    """One line per copy of ``value(record)`` against the step."""
    fig = go.Figure()
    for name, colour in zip(race.names, ACT_COLOURS, strict=False):
        h = race.history[name]
        fig.add_trace(go.Scatter(x=[r.step for r in h], y=[value(r) for r in h], mode="lines", name=t(f"act.{name}"),
                                 line=dict(color=colour, width=2)))
    return charts.styled(fig, 240, title=title, xaxis_title=t("gan_lab.step"), yaxis_title=y_title,
                         legend=dict(orientation="h", y=-0.35), **({"yaxis_type": "log"} if log else {}))


def _act_verdict(v: dict) -> str:
    pct = lambda x: f"{100 * x:.0f} %"  # noqa: E731
    f = v["figures"]
    if v["claim"] == "relu_dies":
        others = ", ".join(f"{t('act.' + n)} {pct(x)}" for n, x in f.items() if n != "relu")
        return t("act.v.relu_dies." + ("yes" if v["supported"] else "no"), relu=pct(f["relu"]), others=others)
    if v["claim"] == "sigmoid_slow":
        others = ", ".join(f"{t('act.' + n)} {x:.2f}" for n, x in f.items() if n != "sigmoid")
        g = v["grads"]
        return t("act.v.sigmoid_slow." + ("yes" if v["supported"] else "no"), sigmoid=f"{f['sigmoid']:.2f}", others=others,
                 grad=f"{g['sigmoid']:.3g}", best=f"{max(x for n, x in g.items() if n != 'sigmoid'):.3g}")
    return t("act.v.zero_centred." + ("yes" if v["supported"] else "no"), tanh=f"{f['tanh']:.2f}", sigmoid=f"{f['sigmoid']:.2f}")


def show_race(auto: bool) -> None:
    """The copies' loss, dead-unit share and first-layer gradient; running, one more call's steps first."""
    race = st.session_state["act_race"]
    if auto and race.steps < activation_race.MAX_STEPS:
        _act_move(10)
    if st.session_state.pop("act_busy", False):
        st.warning(t("gan_lab.busy"), icon=":material/hourglass_top:")
    if race.steps >= activation_race.MAX_STEPS:
        st.info(t("gan_lab.limit", n=f"{activation_race.MAX_STEPS:,}"))
    if not race.steps:
        st.caption(t("act.start"))
        return
    charts.show(_act_figure(race, lambda r: r.loss, t("act.loss"), t("act.loss_axis"), log=True), key="act_loss")
    c1, c2 = st.columns(2)
    with c1:
        charts.show(_act_figure(race, lambda r: 100 * float(np.mean(r.dead)), t("act.dead"), t("act.dead_axis")), key="act_dead")
    with c2:
        charts.show(_act_figure(race, lambda r: max(r.grad_norms[0], 1e-8), t("act.grad"), t("act.grad_axis"), log=True), key="act_grad")
    last = {n: race.history[n][-1] for n in race.names if race.history[n]}
    st.dataframe([{t("act.col.activation"): t(f"act.{n}"),
                   t("act.col.loss"): t("act.diverged_at", step=race.diverged[n]) if n in race.diverged else f"{r.loss:.3f}",
                   **{t("act.col.dead", i=i + 1): f"{100 * d:.0f} %" for i, d in enumerate(r.dead)},
                   **{t("act.col.grad", i=i + 1): f"{g:.3g}" for i, g in enumerate(r.grad_norms)}} for n, r in last.items()],
                 hide_index=True)
    if race.diverged:
        st.caption(t("act.diverged", names=", ".join(t(f"act.{n}") for n in race.diverged), lr=race.lr))
    verdicts = race.verdicts()
    if verdicts:
        st.markdown(f"**{t('act.claims', n=race.steps)}**")
        for v in verdicts:
            st.markdown(("✅ " if v["supported"] else "✖️ ") + _act_verdict(v))
    else:
        st.caption(t("act.claims_wait"))


def compare_activations() -> None:
    st.markdown(t("act.what"))
    left, right = st.columns([1, 3], gap="large")
    with left:
        names = links.multiselect(t("act.pick"), list(activation_race.ACTIVATIONS), key="act_names", param="activations",
                                  default=["relu", "sigmoid", "tanh"], format_func=lambda n: t(f"act.{n}"),
                                  max_selections=activation_race.MAX_COPIES, help=t("act.pick_help"))
        preset = links.radio(t("act.preset"), list(activation_race.PRESETS), horizontal=True, key="act_preset", param="lr",
                             format_func=lambda p: t(f"act.preset.{p}", lr=activation_race.PRESETS[p]), help=t("act.preset_help"))
        if len(names) < activation_race.MIN_COPIES:
            st.info(t("act.need", n=activation_race.MIN_COPIES))
            return
        race = st.session_state.get("act_race")
        if race is None or race.names != names or race.preset != preset:
            _act_reset(names, preset)
        n = links.segmented_control(t("gan_lab.steps"), [10, 50, 100], key="act_n", param="steps", default=50)
        st.button(t("act.step"), icon=":material/play_arrow:", on_click=_act_move, args=(int(n or 50),), key="act_step", width="stretch")
        st.button(t("gan_lab.reset"), icon=":material/restart_alt:", on_click=_act_reset, args=(names, preset), key="act_reset",
                  width="stretch")
        auto = st.toggle(t("act.auto"), key="act_auto")
        st.caption(t("act.limits", per=activation_race.MAX_STEPS_PER_CALL, n=f"{activation_race.MAX_STEPS:,}"))
    with right:
        ui.fragment(show_race, run_every=SLOW_MOTION if auto else None)(auto)


def train_a_model() -> None:
    slot = latent.train_slot()
    job = slot.current()
    running = job is not None and job.running
    mine = job is not None and job.owner == st.session_state["train_me"]
    left, right = st.columns([1, 3], gap="large")
    with left:
        name = links.selectbox(t("vae.model"), list(TRAINABLE), format_func=_title, key="train_model", param="model", disabled=running)
        samples = links.select_slider(t("train.digits"), [1000, 2000, 5000, MAX_SAMPLES], value=2000, key="train_samples",
                                        param="digits", disabled=running)
        epochs = links.slider(t("train.epochs"), 1, MAX_EPOCHS, 3, key="train_epochs", param="epochs", disabled=running)
        if running and mine:
            st.button(t("train.stop"), icon=":material/stop:", on_click=job.cancel, key="train_stop", type="primary")
        else:
            st.button(t("train.start"), icon=":material/play_arrow:", on_click=_start, args=(name, samples, epochs), key="train_start",
                      type="primary", disabled=running)
        st.caption(t("train.limits", n=f"{MAX_SAMPLES:,}", epochs=MAX_EPOCHS))
    with right:
        s = job.state() if running and not mine else None
        ui.job_panel(job, running, mine, someone=t("train.someone", what=_title(s.name), pct=f"{100 * s.progress:.0f}") if s else "",
                     busy_key="train_busy", busy=t("train.busy"), waiting=t("train.waiting"), show=show_job, args=(mine,), poll=POLL)


with ui.page_guard("Train live"):
    section = links.segmented_control(t("train.section"), ["train", "gan", "activations"], key="train_section", param="section",
                                      default="train", format_func=lambda v: t(f"train.section_{v}"), label_visibility="collapsed")
    if section == "gan":
        step_a_gan()
    elif section == "activations":
        compare_activations()
    else:
        train_a_model()
