"""Train live: watch a small model learn, epoch by epoch, on a copy that never replaces the shipped weights."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import uuid

import plotly.graph_objects as go
import streamlit as st

from rep_models import exports
from rep_models.training.live import MAX_EPOCHS, MAX_SAMPLES, TRAINABLE, TrainJob, TrainState
from ui import charts, downloads, i18n, latent, links
from ui import common as ui
from ui.i18n import t

TITLES = {name: f"live.{name}.title" for name in TRAINABLE}  # keys of the strings tables
POLL = 0.5  # seconds between progress updates in the page

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


with ui.page_guard("Train live"):
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
        if running and not mine:
            s = job.state()
            st.info(t("train.someone", what=_title(s.name), pct=f"{100 * s.progress:.0f}"), icon=":material/hourglass_top:")
        elif st.session_state.pop("train_busy", False):
            st.warning(t("train.busy"), icon=":material/hourglass_top:")
        elif job is not None and mine:
            ui.fragment(show_job, run_every=POLL if running else None)(job, mine)
        else:
            st.markdown(f":gray[{t('train.waiting')}]")
