"""GAN studio: sample grids, an animated latent walk, interpolation, the conditional GAN, style mixing and mode collapse."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from rep_models import catalogue, exports
from rep_models.codes import decode_at, latent_dim
from rep_models.images import tile
from rep_models.paths import interpolate
from rep_models.sampling import gan_samples, mode_summary, walk_frames
from rep_models.style_mixing import NOISE_MODES, is_style_based, mixing_grid, style_samples, w_path
from ui import charts, downloads, i18n, latent, links, live
from ui import common as ui
from ui.i18n import t

GANS = list(catalogue.with_role("generator"))
PAGE_FPS = 32  # the latent walk's frames per second when the page makes them (onnxruntime-web): 30 and a margin
FPS = 15  # ... and when the server sends them (the fallback), shown by the page's frame player
CHUNK = 15  # frames per server round trip (one fragment run a second); the player keeps one chunk in hand

ui.page_header(t("nav.gan"), t("gan.what"), t("gan.try"))
live.start_runtime()  # the grid and the walk run in the page: its runtime compiles while the server works


def _new_seed() -> None:
    st.session_state["gan_seed"] = int(np.random.default_rng().integers(0, 10_000))


def _pick_model(key: str, options=None) -> str | None:
    names = [n for n in (options or GANS) if ui.is_available(n)]
    if not names:
        ui.require_model("dcgan", t("nav.gan"))
        return None
    return links.selectbox(t("gan.generator"), names, format_func=lambda n: i18n.model(n, "picker"), key=key, param="model")


COUNTS = [16, 36, 64, 100]  # the grid's sizes


def _styled(name: str) -> bool:
    return is_style_based(ui.load_model(name))


def _noise_control(key: str) -> tuple[str, int]:
    """A style-based generator's noise inputs: (noise mode, noise seed), with a button that re-draws the noise."""
    noise = links.radio(t("gan.noise"), list(NOISE_MODES), horizontal=True, key=f"{key}_noise", param="noise",
                        format_func=lambda m: t(f"gan.noise.{m}"), help=t("gan.noise_help"))
    if noise == "random" and st.button(t("gan.noise_redraw"), icon=":material/refresh:", key=f"{key}_redraw"):
        st.session_state[f"{key}_noise_seed"] = st.session_state.get(f"{key}_noise_seed", 0) + 1
    return noise, st.session_state.get(f"{key}_noise_seed", 0)


def _style_controls(key: str) -> tuple[float | None, str, int]:
    """Truncation in W and the noise inputs, for a style-based generator: (psi or None, noise mode, noise seed)."""
    psi = links.slider(t("gan.psi"), 0.0, 1.0, 1.0, 0.05, key=f"{key}_psi", param="psi", help=t("gan.psi_help"))
    return (psi if psi < 1 else None), *_noise_control(key)


@ui.fragment
def samples_panel() -> None:
    c_ctl, c_grid = st.columns([1, 2], gap="large")
    with c_ctl:
        name = _pick_model("gan_model")
        if name is None:
            return
        digit = None
        if name == "cdcgan":
            pick = links.segmented_control(t("gan.digit"), ["all", *range(10)], default="all", key="gan_digit", param="digit",
                                           format_func=lambda d: t("gan.all") if d == "all" else str(d))
            digit = None if pick in (None, "all") else int(pick)
        styled = _styled(name)
        grid_key = "gan_grid_style" if styled else "gan_grid"  # its own reported view: psi is not z's truncation
        failed = live.runtime_failed(grid_key)
        # Re-drawn noise is drawn by the server's generator; fixed or off, a style generator runs in the page too.
        noise, noise_seed = _noise_control("gan") if styled else (None, 0)
        in_page = live.in_page(name) and not failed and noise != "random"
        style = None
        if not in_page:  # the server decodes: Streamlit's controls, each change a run here
            c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
            with c1:
                seed = links.number_input(t("gan.seed"), 0, 9_999, 0, key="gan_seed", param="seed")
            c2.button("", icon=":material/casino:", on_click=_new_seed, key="gan_dice", help=t("gan.dice"))
            n = links.select_slider(t("gan.samples"), COUNTS, value=64, key="gan_n", param="samples")
            if styled:
                psi = links.slider(t("gan.psi"), 0.0, 1.0, 1.0, 0.05, key="gan_psi", param="psi", help=t("gan.psi_help"))
                style = ((psi if psi < 1 else None), noise, noise_seed)
            trunc = 0.0 if style else links.slider(t("gan.truncation"), 0.0, 3.0, 0.0, 0.1, key="gan_trunc", param="truncation",
                                                   help=t("gan.truncation_help"))
    cols = 10 if (name == "cdcgan" and digit is None) else None
    with c_grid:
        if in_page:  # the page decodes, with its own controls: a new seed, count or truncation waits for no run here
            view = live.reported(grid_key, "view") or {}
            seed = links.page_number("gan_seed", "seed", 0, 9_999, 0, view.get("seed"))
            n = links.page_choice("gan_n", "samples", COUNTS, 64, view.get("n"))
            if styled:  # psi in W, 1 = none
                trunc = links.page_number("gan_psi", "psi", 0.0, 1.0, 1.0, view.get("truncation"))
                style = ((trunc if trunc < 1 else None), noise, 0)
            else:
                trunc = links.page_number("gan_trunc", "truncation", 0.0, 3.0, 0.0, view.get("truncation"))
            live.gan_grid(name, {"seed": seed, "n": n, "truncation": trunc}, digit, key=grid_key, counts=COUNTS, cols=cols,
                          noise=noise)

        def make() -> np.ndarray:
            if style:
                return tile(style_samples(ui.load_model(name), n, seed, *style))
            return tile(gan_samples(ui.load_model(name), n, seed, trunc, digit), ncols=cols)

        if not in_page:
            t0 = time.perf_counter()
            grid = make()
            ms_model = 1000 * (time.perf_counter() - t0)
            latent.show_image(grid, width=520)
            how = (t("gan.psi_caption", psi=f"{style[0]:g}" if style[0] is not None else "1", noise=t(f"gan.noise.{style[1]}")) if style
                   else t("gan.truncated", t=f"{trunc:g}") if trunc > 0 else t("gan.untruncated"))
            st.caption(t("gan.grid_caption", n=n, ms=f"{ms_model:.0f}", device=ui.device_label(), seed=seed) + how
                       + (t("gan.per_digit") if cols else ""))
            if failed:
                st.caption(t("live.fallback", reason=failed))
        downloads.button(t("gan.dl_grid"), lambda: exports.png(make()), f"{name}_seed{seed}.png", key="gan_dl_grid")


def walk_chunk(name: str, walkers: int, period: int, method: str) -> None:
    """The animation, run as a fragment: while playing, Streamlit reruns only it every CHUNK / FPS seconds and
    each run sends the next CHUNK frames (decoded in one batch); the page plays them at FPS frames/s."""
    model = ui.load_model(name)
    playing = bool(st.session_state.get("gan_play"))
    start = st.session_state.get("gan_frame", 0)
    n = (2 * CHUNK if start == 0 or not st.session_state.get("gan_was_playing") else CHUNK) if playing else 1
    t0 = time.perf_counter()
    frames = walk_frames(model, start, n, walkers, st.session_state.get("gan_walk_seed", 0), period, method)
    ms = 1000 * (time.perf_counter() - t0) / n
    if playing:
        st.session_state["gan_frame"] = start + n
    st.session_state["gan_was_playing"] = playing
    live.frame_player(frames, start, FPS, playing, walk=f"{name}/{walkers}/{period}/{method}", key="gan_player",
                      px=360 if walkers > 1 else 240, note=t("gan.per_frame", ms=f"{ms:.1f}", device=ui.device_label()))


def _walk_gif(name: str, walkers: int, period: int, method: str) -> bytes:
    """One whole turn of the walk as a looping GIF, at most 120 frames (fewer, further apart, for long turns)."""
    step = max(1, period // 120)
    frames = walk_frames(ui.load_model(name), 0, period, walkers, st.session_state.get("gan_walk_seed", 0), period, method)
    return exports.gif(frames[::step], fps=FPS / step)


def walk_panel() -> None:
    c_ctl, c_out = st.columns([1, 2], gap="large")
    with c_ctl:
        name = _pick_model("gan_walk_model")
        if name is None:
            return
        st.toggle(t("gan.play"), key="gan_play", help=t("gan.play_help"))
        walkers = links.select_slider(t("gan.walkers"), [1, 4, 9, 16], value=9, key="gan_walkers", param="walkers")
        period = links.select_slider(t("gan.period"), [40, 80, 120, 240], value=120, key="gan_period", param="frames",
                                  help=t("gan.period_help"))
        method = links.radio(t("gan.path"), ["circle", "random"], horizontal=True, key="gan_walk_method", param="path",
                          format_func=lambda m: t(f"gan.path.{m}"))
        st.caption(t("gan.walk_caption"))
        downloads.button(t("gan.dl_walk"), lambda: _walk_gif(name, walkers, period, method), f"{name}_walk.gif",
                         key="gan_dl_walk", help=t("gan.dl_walk_help"))
    with c_out:
        failed = live.runtime_failed("gan_walk")
        if live.in_page(name) and not failed:  # every frame made in the page, at the page's rate
            live.walk_player(name, walkers, period, method, st.session_state.get("gan_walk_seed", 0), bool(st.session_state.get("gan_play")),
                             PAGE_FPS, key="gan_walk", px=360 if walkers > 1 else 240)
        else:
            run_every = CHUNK / FPS if st.session_state.get("gan_play") else None
            ui.fragment(walk_chunk, run_every=run_every)(name, walkers, period, method)
            if failed:
                st.caption(t("live.fallback", reason=failed))


@ui.fragment
def interpolation_panel() -> None:
    name = _pick_model("gan_interp_model")
    if name is None:
        return
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        a = links.number_input(t("gan.seed_a"), 0, 9_999, 1, key="gan_interp_a", param="a")
    with c2:
        b = links.number_input(t("gan.seed_b"), 0, 9_999, 2, key="gan_interp_b", param="b")
    with c3:
        steps = links.slider(t("gan.steps"), 5, 15, 10, key="gan_interp_steps", param="steps")
    with c4:
        method = links.radio(t("gan.path"), ["spherical", "linear"], key="gan_interp_method", param="path", horizontal=True,
                             format_func=lambda m: t(f"gan.path.{m}"))
    model = ui.load_model(name)
    d = latent_dim(model)
    if is_style_based(model):  # a straight line in W: the mapping network has unfolded Z
        imgs = w_path(model, a, b, steps)
        latent.show_image(tile(imgs, ncols=steps), scale=3)
        st.caption(t("gan.interp_w_caption"))
    else:
        za, zb = model.latent(1, a)[0].cpu().numpy(), model.latent(1, b)[0].cpu().numpy()
        path = interpolate(za, zb, steps, method)
        digit = None
        if model.conditional:
            digit = links.segmented_control(t("gan.digit"), list(range(10)), default=3, key="gan_interp_digit", param="digit")
            digit = 3 if digit is None else int(digit)
        imgs = decode_at(model, path, y=digit)
        latent.show_image(tile(imgs, ncols=steps), scale=3)
        st.caption(t("gan.interp_caption", mid=f"{np.linalg.norm(path[steps // 2]):.2f}", typical=f"{np.sqrt(d):.1f}"))
    strip = tile(imgs, ncols=steps)
    c_png, c_gif = st.columns(2)
    with c_png:
        downloads.button(t("gan.dl_strip"), lambda: exports.png(strip), f"{name}_{a}_to_{b}.png", key="gan_dl_interp_png")
    with c_gif:
        downloads.button(t("gan.dl_interp_gif"), lambda: exports.gif(imgs, fps=6, bounce=True, hold=2),
                         f"{name}_{a}_to_{b}.gif", key="gan_dl_interp_gif")


def _histogram(counts: np.ndarray, title: str) -> go.Figure:
    share = counts / max(1, counts.sum())
    fig = go.Figure(go.Bar(x=[str(i) for i in range(10)], y=100 * share, marker_color=charts.BLUE,
                           hovertemplate=t("gan.hist_hover") + "<extra></extra>"))
    fig.add_hline(y=10, line_dash="dot", line_color="#888", annotation_text=t("gan.hist_balanced"), annotation_position="top left")
    return charts.styled(fig, 230, title, yaxis_title=t("gan.hist_y"), xaxis_title=t("gan.hist_x"), xaxis_type="category",
                         yaxis_range=[0, max(30, 105 * share.max())])


def collapse_panel() -> None:
    st.markdown(t("gan.collapse_intro"))
    if ui.require_model("classifier", t("gan.histograms")) is None:
        return
    names = [n for n in catalogue.with_role("mode_collapse") if ui.is_available(n)]
    cols = st.columns(len(names), gap="large")
    for col, name in zip(cols, names, strict=True):
        with col:
            st.markdown(f"**{i18n.model(name, 'picker')}**")
            if ui.require_model(name, t("gan.this_side")) is None:
                continue
            latent.show_image(tile(gan_samples(ui.load_model(name), 64, 7), ncols=8), width=300)
            counts, conf = latent.gan_histogram(name)
            s = mode_summary(counts)
            charts.show(_histogram(counts, t("gan.hist_title")), key=f"gan_hist_{name}")
            m1, m2, m3 = st.columns(3)
            m1.metric(t("gan.covered"), f"{s['digits_covered']} / 10")
            m2.metric(t("gan.entropy"), t("gan.bits", n=f"{s['entropy_bits']:.2f}"), help=t("gan.entropy_help"))
            m3.metric(t("gan.confidence"), f"{100 * conf:.0f} %", help=t("gan.confidence_help"))


MIX_ROWS, MIX_COLS = 4, 5


@ui.fragment
def mixing_panel() -> None:
    st.markdown(t("gan.mix_intro"))
    names = [n for n in GANS if ui.is_available(n) and _styled(n)]
    if not names:
        ui.require_model("stylegan", t("gan.section.mixing"))
        return
    name = _pick_model("gan_mix_model", names)
    model = ui.load_model(name)
    c_ctl, c_out = st.columns([1, 2], gap="large")
    with c_ctl:
        rows = links.number_input(t("gan.mix_rows"), 0, 9_999 - MIX_ROWS, 10, key="gan_mix_rows", param="rows", help=t("gan.mix_rows_help"))
        cols = links.number_input(t("gan.mix_cols"), 0, 9_999 - MIX_COLS, 20, key="gan_mix_cols", param="cols", help=t("gan.mix_cols_help"))
        k = links.select_slider(t("gan.crossover"), list(range(1, model.n_styles)), value=model.coarse_styles, key="gan_mix_k",
                                param="crossover", help=t("gan.crossover_help", n=model.n_styles),
                                format_func=lambda k: t("gan.crossover_k", k=k, rest=model.n_styles - k))
        psi, noise, noise_seed = _style_controls("gan_mix")
    with c_out:
        grid = mixing_grid(model, range(rows, rows + MIX_ROWS), range(cols, cols + MIX_COLS), k, psi, noise, noise_seed)
        img = tile(grid.reshape(-1, 28, 28), ncols=MIX_COLS + 1)
        latent.show_image(img, width=480)
        st.caption(t("gan.mix_caption", k=k, rest=model.n_styles - k))
        downloads.button(t("gan.dl_grid"), lambda: exports.png(img), f"{name}_mix_{rows}_{cols}_k{k}.png", key="gan_dl_mix")
    measured = ui.metrics().get(name)
    measured = measured if isinstance(measured, dict) else {}
    by_k = measured.get("style_mixing_by_crossover")
    if by_k:
        st.markdown(t("gan.mix_measured", pairs=f"{measured.get('style_mixing_pairs', 0):,}"))
        st.dataframe([{t("gan.crossover"): t("gan.crossover_k", k=r["crossover"], rest=model.n_styles - r["crossover"]),
                       t("gan.mix_as_a"): f"{100 * r['agreement_a']:.1f} %", t("gan.mix_as_b"): f"{100 * r['agreement_b']:.1f} %",
                       t("gan.mix_diff"): f"{r['pixel_diff']:.3f}"} for r in by_k], hide_index=True)
    table = ui.stylegan_ablation()
    if table:
        st.markdown(f"#### {t('gan.tricks')}")
        st.markdown(t("gan.tricks_intro", steps=f"{table['meta']['steps']:,}"))
        st.dataframe([{t("gan.trick"): t(f"gan.trick.{r['variant']}"), t("gan.tricks_fd"): r["frechet_distance"],
                       t("gan.tricks_shares"): f"{100 * r['min_class_fraction']:.1f}–{100 * r['max_class_fraction']:.1f} %",
                       t("gan.tricks_top"): round(r["mean_top_prob"], 3), t("gan.tricks_s"): round(r["train_seconds"])}
                      for r in table["rows"]], hide_index=True)


with ui.page_guard("the GAN studio"):
    # A section picker rather than st.tabs: only the section shown is computed (and only it animates).
    sections = {"samples": samples_panel, "walk": walk_panel, "interpolate": interpolation_panel, "mixing": mixing_panel,
                "collapse": collapse_panel}

    section = links.segmented_control(t("common.section"), list(sections), default="samples", key="gan_section", param="section",
                                      format_func=lambda k: t(f"gan.section.{k}"), label_visibility="collapsed") or "samples"
    sections[section]()
