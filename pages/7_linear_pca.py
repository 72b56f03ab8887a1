"""Linear AE = PCA: a linear autoencoder trained by gradient descent finds the same subspace as PCA."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from rep_models import precomputed
from rep_models.codes import latent_dim
from rep_models.images import signed_rgb_row
from rep_models.subspaces import (
    decoder_basis,
    decoder_columns,
    linear_ae_curve,
    linear_mse,
    pca_mse,
    pca_vs_linear_ae,
    principal_angles,
    project_onto,
)
from ui import charts, latent, links
from ui import common as ui
from ui.i18n import t

CURVE_SIZES = (2, 4, 8, 16, 32, 64)

ui.page_header(t("nav.linear_pca"), t("linpca.what"), t("linpca.try"))


@st.cache_data(show_spinner=False, max_entries=4)
def _curve(sizes: tuple[int, ...], n_train: int, epochs: int) -> dict[int, float]:
    x, _ = latent.train_images(n_train)
    xt, _ = ui.test_set()
    return linear_ae_curve(x, sizes, epochs=epochs, x_eval=xt[:5000])


@st.cache_resource(show_spinner=False, max_entries=4)
def _test_mse(name: str) -> float:
    if name == "linear_ae":  # shipped (rep_models.precomputed); computed if stale
        return float(precomputed.get("linear_ae_test_mse", ui.load_model)["mse"])
    xt, _ = ui.test_set()
    return linear_mse(ui.load_model(name), xt[:precomputed.N_MSE])


def _weights_row(images: np.ndarray, caption: str) -> None:
    latent.show_rgb(signed_rgb_row(images, scale=3), caption=caption)


with ui.page_guard("Linear AE = PCA"):
    lin = ui.require_model("linear_ae", t("linpca.this_comparison"))
    if lin is not None:
        k = latent_dim(lin)
        pca = latent.train_pca(k)
        dec = decoder_basis(lin)  # (784, k)
        comps = pca.components[:k]  # (k, 784)

        st.subheader(t("linpca.same_subspace"))
        m = links.slider(t("linpca.components"), 4, min(16, k), min(10, k), key="linpca_m", param="components")
        _weights_row(comps[:m].reshape(-1, 28, 28), t("linpca.row_pca", m=m))
        _weights_row(decoder_columns(lin)[:m], t("linpca.row_ae", m=m))
        aligned = project_onto(dec, comps[:m])
        _weights_row(aligned.reshape(-1, 28, 28), t("linpca.row_projected"))

        angles = principal_angles(dec, comps.T)
        c_ang, c_txt = st.columns([2, 1], gap="large")
        with c_ang:
            fig = go.Figure(go.Bar(x=np.arange(1, k + 1), y=angles, marker_color=charts.BLUE, hovertemplate=t("linpca.angle_hover") + "<extra></extra>"))
            charts.styled(fig, 260, t("linpca.angles_title", k=k),
                          yaxis_title=t("linpca.degrees"), xaxis_title=t("linpca.angle_n"), yaxis_range=[0, max(10, float(angles.max()) * 1.1)])
            charts.show(fig, key="linpca_angles")
        with c_txt:
            st.metric(t("linpca.median"), f"{np.median(angles):.1f}°")
            st.metric(t("linpca.largest"), f"{angles.max():.1f}°", help=t("linpca.largest_help"))
            st.caption(t("linpca.angles_caption"))

        st.subheader(t("linpca.error_title"))
        ks = np.arange(1, 101)
        fig = go.Figure(go.Scatter(x=ks, y=pca_mse(pca.eigenvalues, ks), mode="lines", name=t("linpca.pca_curve"),
                                   line=dict(color=charts.BLUE, width=3)))
        fig.add_trace(go.Scatter(x=[k], y=[_test_mse("linear_ae")], mode="markers", name=t("linpca.shipped", k=k),
                                 marker=dict(size=14, color=charts.RED, symbol="diamond")))
        curve = st.session_state.get("linpca_curve")
        if curve:
            fig.add_trace(go.Scatter(x=list(curve), y=list(curve.values()), mode="markers+lines", name=t("linpca.trained_here"),
                                     line=dict(color=charts.ORANGE, dash="dot"), marker=dict(size=9)))
        charts.styled(fig, 340, xaxis_title=t("linpca.code_size"), yaxis_title=t("linpca.mse"), xaxis_type="log", legend=dict(x=0.55, y=0.95))
        c_plot, c_btn = st.columns([2, 1], gap="large")
        with c_plot:
            charts.show(fig, key="linpca_mse")
        with c_btn:
            st.caption(t("linpca.error_caption"))
            if st.button(t("linpca.train", ks=", ".join(map(str, CURVE_SIZES))), icon=":material/play_arrow:",
                         key="linpca_train"):
                with st.spinner(t("linpca.training")):
                    st.session_state["linpca_curve"] = _curve(CURVE_SIZES, 10_000, 5)
                st.rerun()

        st.subheader(t("linpca.one_digit"))
        xt, _ = ui.test_set()
        i = links.number_input(t("input.test_index"), 0, len(xt) - 1, 0, key="linpca_digit", param="index")
        two = pca_vs_linear_ae(pca, k, lin, xt[int(i) : int(i) + 1])
        captions = [t("linpca.original"), t("linpca.pca_rec", k=k, mse=f"{two.pca_mse:.4f}"),
                    t("linpca.ae_rec", k=k, mse=f"{two.linear_ae_mse:.4f}")]
        for col, img, cap in zip(st.columns(3), [two.original, two.pca, two.linear_ae], captions, strict=True):
            with col:
                latent.show_image(np.clip(img, 0, 1), caption=cap, width=140)
