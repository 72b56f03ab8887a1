"""Train live: watch a small model learn, epoch by epoch, on a copy that never replaces the shipped weights."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import uuid

import plotly.graph_objects as go
import streamlit as st

from rep_models import exports
from rep_models.training.live import MAX_EPOCHS, MAX_SAMPLES, TRAINABLE, TrainJob, TrainState
from ui import charts, downloads, latent, links
from ui import common as ui

TITLES = {name: recipe.title for name, recipe in TRAINABLE.items()}
POLL = 0.5  # seconds between progress updates in the page

ui.page_header(
    "Train live",
    "Train a small model from scratch on a slice of MNIST and watch it learn: the loss falls batch by batch and the "
    "reconstructions (or samples) sharpen after every epoch. This trains a private copy: the app's models are never touched.",
    "train the linear autoencoder for 2 epochs, then the convolutional one with the same data, and compare how fast each "
    "gets sharp; a DCGAN's samples start as noise and become strokes, then digits.",
)

if "train_me" not in st.session_state:
    st.session_state["train_me"] = uuid.uuid4().hex


def _loss_figure(state: TrainState) -> go.Figure:
    fig = go.Figure()
    for name, c in state.loss_curves().items():
        fig.add_trace(go.Scatter(x=c.batches, y=c.losses, mode="lines", name=f"{name} (each batch)", opacity=0.25, line=dict(width=1)))
        fig.add_trace(go.Scatter(x=c.smooth_batches, y=c.smooth, mode="lines", name=f"{name} (smoothed)", line=dict(width=2.5)))
    val = state.held_out()
    if val:
        fig.add_trace(go.Scatter(x=[b for b, _ in val], y=[v for _, v in val], mode="markers", name="held-out loss (per epoch)",
                                 marker=dict(size=10, symbol="diamond", color="#222")))
    charts.styled(fig, 300, xaxis_title="batch", yaxis_title="loss", xaxis_range=[0, state.batches_total], legend=dict(orientation="h", y=-0.25))
    if not state.adversarial:
        fig.update_yaxes(type="log")
    return fig


def show_job(job: TrainJob, mine: bool) -> None:
    """Progress, loss chart and snapshot of a job; polled as a fragment while it runs."""
    if mine:
        job.heartbeat()
    s = job.state()
    what = TITLES.get(s.name, s.name)
    label = {"running": f"Training the {what}: epoch {min(s.epochs, len(s.records) + 1)} of {s.epochs}",
             "done": f"Finished: {what}, {s.epochs} epochs on {s.samples:,} digits in {s.seconds:.0f} s",
             "cancelled": f"Stopped after {len(s.records)} epoch(s) ({s.message or 'cancelled'})",
             "failed": f"Training failed: {s.message}"}[s.status]
    st.progress(s.progress if s.status != "done" else 1.0, text=label)
    c_loss, c_img = st.columns([3, 2], gap="large")
    with c_loss:
        if s.losses:
            charts.show(_loss_figure(s), key=f"train_loss_{s.status}")
        else:
            st.caption("The loss curve appears after the first batches…")
    with c_img:
        if s.snapshot is not None:
            cap = ("samples from a fixed set of latent codes" if s.name == "dcgan" else
                   "top: held-out digits · middle: reconstructions" + (" · bottom: samples from the prior" if s.name == "vae" else ""))
            latent.show_image(s.snapshot, caption=f"after epoch {len(s.records)} — {cap}", width=380)
    if s.records:
        last = s.records[-1]
        st.caption(f"{last.get('images_per_s', 0):,.0f} images/s on {ui.device_label()} · {last.get('seconds', 0):.1f} s per epoch")
    if s.status == "failed":
        st.error("Training stopped with an error (details in the server log). Try fewer samples or another model.")
    if mine and s.status in ("done", "cancelled") and s.records and job.model is not None:
        card = {"trained_live": {"epochs": len(s.records), "training_digits": s.samples, "seconds": round(s.seconds, 1), "epochs_log": s.records}}
        c_model, c_png = st.columns(2)
        with c_model:
            downloads.button("Download the trained model (.zip)", lambda: exports.model_archive(job.model, f"{s.name}_trained_here", card),
                             f"{s.name}_trained_here.zip", key="train_dl_model",
                             help="Its weights (safetensors) and its card (JSON): rep_models.checkpoint.load reads them back.")
        with c_png:
            downloads.button("Download the last snapshot (PNG)", lambda: exports.png(s.snapshot), f"{s.name}_after_epoch_{len(s.records)}.png",
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
        name = links.selectbox("Model", list(TRAINABLE), format_func=TITLES.get, key="train_model", param="model", disabled=running)
        samples = links.select_slider("Training digits", [1000, 2000, 5000, MAX_SAMPLES], value=2000, key="train_samples",
                                        param="digits", disabled=running)
        epochs = links.slider("Epochs", 1, MAX_EPOCHS, 3, key="train_epochs", param="epochs", disabled=running)
        if running and mine:
            st.button("Stop", icon=":material/stop:", on_click=job.cancel, key="train_stop", type="primary")
        else:
            st.button("Start training", icon=":material/play_arrow:", on_click=_start, args=(name, samples, epochs), key="train_start",
                      type="primary", disabled=running)
        st.caption(f"Limits: up to {MAX_SAMPLES:,} digits and {MAX_EPOCHS} epochs; one training at a time on this server. "
                   "Closing the page stops your training.")
    with right:
        if running and not mine:
            s = job.state()
            st.info(f"Someone else is training a **{TITLES.get(s.name, s.name)}** on this server ({100 * s.progress:.0f} % done). "
                    "One training runs at a time so the app stays fast for everybody: try again in a moment.", icon=":material/hourglass_top:")
        elif st.session_state.pop("train_busy", False):
            st.warning("Another training started just before yours; wait for it to finish.", icon=":material/hourglass_top:")
        elif job is not None and mine:
            ui.fragment(show_job, run_every=POLL if running else None)(job, mine)
        else:
            st.markdown(":gray[Pick a model and press **Start training**. The loss curve, a progress bar and the model's "
                        "reconstructions appear here and update while it learns.]")
