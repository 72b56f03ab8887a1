"""VAE latent explorer: sliders over latent directions, the 2-D VAE's map, interpolation, β-VAE vs VAE, the CVAE."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from rep_models import catalogue, exports
from rep_models.codes import decode_at, latent_dim
from rep_models.directions import active_dims, move
from rep_models.images import png_bytes, tile
from rep_models.manifold import manifold_lattice, manifold_positions, z_to_manifold
from rep_models.paths import interpolate, lerp, traversal
from ui import charts, downloads, i18n, latent, links, live
from ui import common as ui
from ui.i18n import t

VAES = list(catalogue.with_role("latent_explorer"))
N_SLIDERS = 6
SECTIONS = ("sliders", "map", "interpolate", "beta", "cvae")
STARTS = {"origin": None, "test": "Test digit", "draw": "Draw", "upload": "Upload"}  # a link's start=… -> ui.digit_input's source

ui.page_header(t("nav.vae"), t("vae.what"), t("vae.try"))
live.start_runtime()  # the sliders decode in the page: its runtime compiles while the server works


def _reset(keys: list[str]) -> None:
    for k in keys:
        st.session_state[k] = 0.0


def _slider_labels(dirs, kind: str) -> list[str]:
    if kind == "principal":
        return [t("vae.pc_label", name=i18n.tr(dirs.names[i]), pct=f"{100 * dirs.explained[i]:.0f}") for i in range(len(dirs.names))]
    return [i18n.tr(dirs.names[i]) + (t("vae.unused") if dirs.spread[i] < 0.05 else t("vae.spread", s=f"{dirs.spread[i]:.2f}"))
            for i in range(len(dirs.names))]


@ui.fragment
def sliders_panel(name: str, kind: str, z0: np.ndarray, in_browser: bool) -> None:
    """The sliders and the decoded digit. In the browser: every move decodes in the page, no round trip.
    On the server: a slider move reruns only this fragment (one decode, one small PNG)."""
    model = ui.load_model(name)
    dirs = latent.directions(name, kind, min(N_SLIDERS, latent_dim(model)))
    labels = _slider_labels(dirs, kind)
    key = f"vae_live_{name}_{kind}"
    failed = live.runtime_failed(key)
    if in_browser and not failed:
        live.latent_sliders(name, z0, dirs, labels, key=key)
        return
    if in_browser:
        st.caption(t("live.fallback", reason=failed))
    keys = [f"vae_{name}_{kind}_{i}" for i in range(len(dirs.names))]
    c_sl, c_img = st.columns([3, 2], gap="medium")
    with c_sl:
        amounts = [st.slider(label, -3.0, 3.0, 0.0, 0.1, key=key, help=t("vae.slider_help"))
                   for label, key in zip(labels, keys, strict=True)]
        st.button(t("vae.reset"), icon=":material/restart_alt:", on_click=_reset, args=(keys,), key=f"vae_reset_{name}_{kind}")
    z = move(z0, dirs, amounts)
    img = decode_at(model, z)
    with c_img:
        latent.show_image(img, width=240)
        st.markdown(latent.prediction_caption(img))
        st.caption(t("vae.norm", norm=f"{np.linalg.norm(z):.2f}"))
        downloads.button(t("vae.dl_digit"), lambda: exports.png(img), f"{name}_digit.png", key=f"vae_dl_digit_{name}_{kind}")


@ui.fragment
def class_panel(name: str, z_start: np.ndarray | None) -> None:
    model = ui.load_model(name)
    means = latent.class_means(name)
    c1, c2 = st.columns(2)
    with c1:
        a = links.selectbox(t("vae.from_digit"), range(10), index=3, key=f"vae_cls_a_{name}", param="from")
    with c2:
        b = links.selectbox(t("vae.to_digit"), range(10), index=8, key=f"vae_cls_b_{name}", param="to")
    direction = means[b] - means[a]
    z0 = z_start if z_start is not None else means[a]
    amount = links.slider(t("vae.how_far", a=a, b=b), -0.5, 1.5, 0.0, 0.05, key=f"vae_cls_t_{name}", param="t",
                          help=t("vae.how_far_help"))
    c_img, c_strip = st.columns([1, 2], vertical_alignment="center")
    img = decode_at(model, z0 + amount * direction)
    with c_img:
        latent.show_image(img, width=200)
        st.markdown(latent.prediction_caption(img))
    with c_strip:
        strip = decode_at(model, lerp(z0, z0 + direction, np.linspace(0, 1, 9)))
        latent.show_image(tile(strip, ncols=9), caption=t("vae.whole_path"), scale=3)
        st.caption(t("vae.class_caption", start=t("vae.your_digit") if z_start is not None else t("vae.average", a=a), a=a, b=b))
        c_png, c_gif = st.columns(2)
        with c_png:
            downloads.button(t("vae.dl_path"), lambda: exports.png(tile(strip, ncols=9)), f"{name}_{a}_to_{b}.png",
                             key=f"vae_dl_morph_png_{name}")
        with c_gif:
            downloads.button(t("vae.dl_morph"), lambda: exports.gif(
                decode_at(model, lerp(z0, z0 + direction, np.linspace(0, 1, 24))), fps=12, bounce=True, hold=4),
                f"{name}_{a}_to_{b}.gif", key=f"vae_dl_morph_gif_{name}")


@ui.fragment
def manifold_panel(z_mark: np.ndarray | None) -> None:
    model = ui.load_model("vae_2d")
    n = links.select_slider(t("vae.grid"), list(latent.MANIFOLD_SIZES), value=15, key="vae_manifold_n", param="grid")
    m = latent.manifold("vae_2d", n)
    overlay = links.toggle(t("vae.overlay"), value=False, key="vae_manifold_overlay",
                           param="overlay")
    size = m.image.shape[0]
    fig = go.Figure()
    fig.add_layout_image(source=_data_uri(m.image), x=0, y=0, sizex=size, sizey=size, xref="x", yref="y", layer="below", sizing="stretch")
    # An invisible lattice of clickable points (cell centres and half-cells): a click selects one -> its code.
    pixels, zz = manifold_lattice(m)
    fig.add_trace(go.Scatter(x=pixels[:, 0], y=pixels[:, 1], mode="markers", customdata=zz, name=t("vae.grid_trace"),
                             marker=dict(size=14, opacity=0.02, color="white"), hovertemplate="z = (%{customdata[0]:.2f}, %{customdata[1]:.2f})<extra></extra>"))
    if overlay:
        codes, labels = latent.test_codes("vae_2d")
        pts = manifold_positions(m, codes[:2000])
        for d in range(10):
            sel = labels[:2000] == d
            fig.add_trace(go.Scattergl(x=pts[sel, 0], y=pts[sel, 1], mode="markers", name=str(d), marker=dict(size=4, opacity=0.7),
                                       hoverinfo="skip"))
    if z_mark is not None:
        px, py = z_to_manifold(m, z_mark)
        fig.add_trace(go.Scatter(x=[px], y=[py], mode="markers", name=t("vae.your_digit"), hoverinfo="skip",
                                 marker=dict(symbol="star", size=22, color="#ff3b30", line=dict(width=2, color="white"))))
    fig.update_xaxes(range=[0, size], visible=False, constrain="domain")
    fig.update_yaxes(range=[size, 0], visible=False, scaleanchor="x")
    charts.styled(fig, 560, margin=dict(l=0, r=0, t=0, b=0), showlegend=overlay, dragmode=False,
                      legend=dict(orientation="h", y=-0.02), clickmode="event+select")
    c_map, c_pick = st.columns([3, 1], gap="medium")
    with c_map:
        event = charts.show(fig, key="vae_manifold_chart", on_select="rerun", selection_mode="points")
    with c_pick:
        points = [p for p in (event["selection"]["points"] if event else []) if p.get("customdata") is not None and len(p["customdata"]) == 2]
        if points:
            z = np.asarray(points[0]["customdata"], dtype=np.float32)
            img = decode_at(model, z)
            latent.show_image(img, caption=f"z = ({z[0]:.2f}, {z[1]:.2f})", width=180)
            st.markdown(latent.prediction_caption(img))
        else:
            st.info(t("vae.click_map"), icon=":material/ads_click:")
        st.caption(t("vae.map_caption", n=n, lo=f"{100 * m.lo:.0f}", hi=f"{100 * m.hi:.0f}")
                   + (t("vae.red_star") if z_mark is not None else ""))
        downloads.button(t("vae.dl_map"), lambda: exports.png(m.image), f"vae_2d_map_{n}x{n}.png", key="vae_dl_map")


def _data_uri(image: np.ndarray) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png_bytes(image, 1)).decode()


@ui.fragment
def interpolation_panel(name: str, z_user: np.ndarray | None) -> None:
    model = ui.load_model(name)
    x, y = ui.test_set()
    c1, c2, c3 = st.columns(3)
    with c2:
        b = links.selectbox(t("vae.to_class"), range(10), index=8, key="vae_interp_b", param="to")
    with c3:
        steps = links.slider(t("gan.steps"), 5, 15, 9, key="vae_interp_steps", param="steps")
    if z_user is not None:
        c1.markdown(t("vae.from_yours"))
        z0 = z_user
    else:
        with c1:
            a = links.selectbox(t("vae.from_class"), range(10), index=1, key="vae_interp_a", param="from")
        z0 = latent.encode_one(name, x[int((y == a).nonzero()[0, 0]), 0].numpy())
    z1 = latent.encode_one(name, x[int((y == b).nonzero()[1, 0]), 0].numpy())
    typical = np.sqrt(latent_dim(model))
    frames = {}
    for method in ("linear", "spherical"):
        path = interpolate(z0, z1, steps, method)
        frames[method] = decode_at(model, path)
        latent.show_image(tile(frames[method], ncols=steps), scale=3,
                      caption=t("vae.mid_norm", method=t(f"gan.path.{method}"), norm=f"{np.linalg.norm(path[steps // 2]):.2f}"))
    st.caption(t("vae.interp_caption", typical=f"{typical:.1f}"))
    for col, method in zip(st.columns(2), ("linear", "spherical"), strict=True):
        with col:
            downloads.button(t("vae.dl_interp", method=t(f"gan.path.{method}")), lambda f=frames[method]: exports.gif(f, fps=6, bounce=True, hold=2),
                             f"{name}_{method}_interpolation.gif", key=f"vae_dl_interp_{method}")


@ui.fragment
def beta_panel(image: np.ndarray | None) -> None:
    c1, c2 = st.columns(2)
    with c1:
        rows = links.slider(t("vae.units"), 2, 8, 5, key="vae_beta_rows", param="units")
    with c2:
        span = links.slider(t("vae.range"), 1.0, 4.0, 3.0, 0.5, key="vae_beta_span", param="range")
    cols = st.columns(2, gap="large")
    for col, name in zip(cols, ("vae", "beta_vae"), strict=True):
        with col:
            st.markdown(f"**{i18n.model(name, 'picker')}**")
            if not ui.is_available(name):
                ui.require_model(name, t("vae.this_traversal"))
                continue
            model = ui.load_model(name)
            codes, _ = latent.test_codes(name)
            dims = active_dims(codes, rows)
            z0 = latent.encode_one(name, image) if image is not None else np.zeros(latent_dim(model), np.float32)
            grid = traversal(model, z0, dims, span=span, steps=9)
            latent.show_image(tile(grid.reshape(-1, 28, 28), ncols=9), scale=3)
            st.caption(t("vae.rows", units=", ".join(f"z[{d}]" for d in dims), span=f"{span:g}"))
            downloads.button(t("vae.dl_png"), lambda g=grid: exports.png(tile(g.reshape(-1, 28, 28), ncols=9)),
                             f"{name}_traversal.png", key=f"vae_dl_traversal_{name}")
    st.caption(t("vae.beta_caption"))


@ui.fragment
def cvae_panel(image: np.ndarray | None) -> None:
    model = ui.load_model("cvae")
    d = latent_dim(model)
    c_ctl, c_out = st.columns([2, 3], gap="large")
    with c_ctl:
        digit = links.segmented_control(t("gan.digit"), list(range(10)), default=7, key="vae_cvae_digit", param="digit")
        digit = 7 if digit is None else int(digit)
        keys = [f"vae_cvae_style_{i}" for i in range(4)]
        use_mine = image is not None and st.toggle(t("vae.mine"), value=True, key="vae_cvae_mine")
        base = np.zeros(d, np.float32)
        if use_mine:
            p = latent.predict(image)
            base = latent.encode_one("cvae", image, digit=p[0] if p else 0)
        style = [st.slider(t("vae.style", i=i), -3.0, 3.0, 0.0, 0.1, key=k) for i, k in enumerate(keys)]
        st.button(t("vae.reset_style"), icon=":material/restart_alt:", on_click=_reset, args=(keys,), key="vae_cvae_reset")
    z = base.copy()
    z[:4] += np.asarray(style, dtype=np.float32)
    with c_out:
        latent.show_image(decode_at(model, z, y=digit), caption=t("vae.in_style", digit=digit), width=200)
        row = decode_at(model, np.repeat(z[None], 10, 0), y=np.arange(10))
        latent.show_image(tile(row, ncols=10), caption=t("vae.every_label"), scale=3)
        downloads.button(t("vae.dl_row"), lambda: exports.png(tile(row, ncols=10)), "cvae_style_row.png", key="vae_dl_cvae")
    st.caption(t("vae.cvae_caption"))


with ui.page_guard("the VAE latent explorer"):
    left, right = st.columns([1, 3], gap="large")
    with left:
        st.markdown(f"##### {t('vae.your_digit_title')}")
        src = links.radio(t("vae.start_from"), list(STARTS), key="vae_src", param="start", horizontal=True,
                          format_func=lambda s: t("vae.origin") if s == "origin" else ui.source_label(STARTS[s]))
        image = None
        if src != "origin":
            image = ui.digit_input("vae_in", sources=(STARTS[src],), canvas_size=220)
            if image is not None:
                latent.show_image(image, caption=t("vae.as_seen"), width=112)
        else:
            st.caption(t("vae.origin_caption"))
    with right:
        # A section picker rather than st.tabs: tabs run every section on each rerun; this computes only the one shown.
        section = links.segmented_control(t("common.section"), SECTIONS, default="sliders", key="vae_section", param="section",
                                          format_func=lambda k: t(f"vae.section.{k}"), label_visibility="collapsed") or "sliders"
        if section == "sliders":
            names = [n for n in VAES if ui.is_available(n)]
            if not names:
                ui.require_model("vae", t("vae.the_sliders"))
            else:
                c1, c2 = st.columns(2)
                with c1:
                    name = links.selectbox(t("vae.model"), names, format_func=lambda n: i18n.model(n, "picker"), key="vae_model", param="model")
                with c2:
                    kind = links.segmented_control(t("vae.directions"), ["principal", "axes", "class"], default="principal", key="vae_kind",
                                                   param="directions",
                                                   format_func=lambda k: t(f"vae.kind.{k}")
                                                   ) or "principal"
                d = latent_dim(ui.load_model(name))
                z_user = latent.encode_one(name, image)
                if kind == "class":
                    class_panel(name, z_user)
                else:
                    st.caption(t("vae.principal_caption") if kind == "principal" else t("vae.axes_caption"))
                    in_browser = live.browser_decodable(name) and st.toggle(
                        t("vae.in_browser"), value=True, key="vae_in_browser", help=t("vae.in_browser_help"))
                    sliders_panel(name, kind, z_user if z_user is not None else np.zeros(d, np.float32), in_browser)
        elif section == "map":
            if ui.require_model("vae_2d", t("vae.the_map")) is not None:
                manifold_panel(latent.encode_one("vae_2d", image))
        elif section == "interpolate":
            names = [n for n in VAES if ui.is_available(n)]
            if not names:
                ui.require_model("vae", t("vae.interpolation"))
            else:
                name = links.selectbox(t("vae.model"), names, format_func=lambda n: i18n.model(n, "picker"), key="vae_interp_model", param="model")
                interpolation_panel(name, latent.encode_one(name, image))
        elif section == "beta":
            beta_panel(image)
        elif section == "cvae":
            if ui.require_model("cvae", t("vae.the_cvae")) is not None:
                cvae_panel(image)
