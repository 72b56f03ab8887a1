"""Boltzmann machines: watch a restricted Boltzmann machine dream (Gibbs sampling step by step, from noise or from
your own drawing) and see the filters it learned. The computation is in rep_models.gibbs."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import time
import zlib

import numpy as np
import streamlit as st

from rep_models import exports, gibbs
from rep_models.images import tile
from ui import common as ui
from ui import downloads, latent, links, live
from ui.i18n import t

MODEL = "rbm"
FPS = 10  # frames a second the page's player shows: steady, and slow enough to follow one chain
CHUNK = 20  # frames per server round trip (a fragment run every CHUNK / FPS seconds); the player keeps one in hand
MAX_FRAMES = 3_000  # a dream stops by itself after this many frames (5 minutes at FPS)
CHAINS = [1, 4, 16]
STEPS = [1, 5, 20]  # Gibbs steps between two frames
N_FILTERS = 100

ui.page_header(t("nav.boltzmann"), t("rbm.what"), t("rbm.try"))


def _restart() -> None:
    st.session_state["rbm_run"] = st.session_state.get("rbm_run", 0) + 1
    st.session_state.pop("rbm_state", None)


def dream_chunk(rbm, start, chains: int, steps: int, run: str) -> None:
    """The dream, run as a fragment: while playing, each run advances the chains CHUNK frames (kept in the session)
    and queues the frames in the page's player, which shows them at FPS."""
    playing = bool(st.session_state.get("rbm_play"))
    state = st.session_state.get("rbm_state")
    if state is None or state["run"] != run:  # a new start, chain count or restart: chains from the start again
        v = gibbs.start_chains(rbm, chains, seed=st.session_state.get("rbm_run", 0), digit=start)
        state = {"run": run, "v": v, "frame": 0}
        first = True
    else:
        first = False
    going = playing and state["frame"] < MAX_FRAMES
    n = (CHUNK if st.session_state.get("rbm_was_playing") and not first else 2 * CHUNK) if going else 1  # one in hand
    st.session_state["rbm_was_playing"] = going
    t0 = time.perf_counter()
    v, frames = gibbs.run_chains(rbm, state["v"], n, steps, seed=zlib.crc32(f"{run}/{state['frame']}".encode()))
    ms = 1000 * (time.perf_counter() - t0) / n
    start_frame = state["frame"]
    if going or first:
        state.update(v=v, frame=start_frame + n)
    st.session_state["rbm_state"] = state
    sheet = np.stack([tile(f, ncols=int(np.ceil(np.sqrt(chains)))) for f in frames])
    live.frame_player(sheet, start_frame, FPS, playing, walk=run, key="rbm_player", px=360 if chains > 1 else 240,
                      note=t("rbm.per_frame", steps=steps, ms=f"{ms:.1f}", device=ui.device_label()), aria=t("rbm.aria"))
    st.caption(t("rbm.step", step=f"{(start_frame + n) * steps:,}"))


def dream_panel(rbm) -> None:
    c_ctl, c_out = st.columns([1, 2], gap="large")
    with c_ctl:
        start = links.radio(t("rbm.start"), list(gibbs.STARTS), horizontal=True, key="rbm_start", param="start",
                            format_func=lambda s: t(f"rbm.start.{s}"), help=t("rbm.start_help"))
        digit = None
        if start == "digit":
            digit = ui.digit_input("rbm")
            if digit is None:
                return
        chains = links.select_slider(t("rbm.chains"), CHAINS, value=4, key="rbm_chains", param="chains")
        steps = links.select_slider(t("rbm.steps"), STEPS, value=1, key="rbm_steps", param="steps", help=t("rbm.steps_help"))
        st.toggle(t("rbm.play"), key="rbm_play")
        st.button(t("rbm.restart"), icon=":material/restart_alt:", on_click=_restart, key="rbm_restart")
        st.caption(t("rbm.dream_caption"))
    with c_out:
        # The chains restart when what they start from changes: a new drawing, another start or chain count.
        drawn = "" if digit is None else f"{zlib.crc32(np.asarray(digit).tobytes()):08x}"
        run = f"{start}/{chains}/{st.session_state.get('rbm_run', 0)}/{drawn}"
        run_every = CHUNK / FPS if st.session_state.get("rbm_play") else None
        ui.fragment(dream_chunk, run_every=run_every)(rbm, digit, chains, steps, run)


def filters_panel(rbm) -> None:
    img = tile(gibbs.filters(rbm, N_FILTERS), ncols=10)
    latent.show_image(img, width=480)
    st.caption(t("rbm.filters_caption", n=N_FILTERS, hidden=rbm.W.shape[1]))
    downloads.button(t("rbm.dl_filters"), lambda: exports.png(img), "rbm_filters.png", key="rbm_dl_filters")


with ui.page_guard("Boltzmann machines"):
    rbm = ui.require_model(MODEL, t("nav.boltzmann"))
    if rbm is not None:
        sections = {"dream": dream_panel, "filters": filters_panel}
        section = links.segmented_control(t("common.section"), list(sections), default="dream", key="rbm_section", param="section",
                                          format_func=lambda k: t(f"rbm.section.{k}"), label_visibility="collapsed") or "dream"
        sections[section](rbm)
