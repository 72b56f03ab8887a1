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

CURVE_SIZES = (2, 4, 8, 16, 32, 64)

ui.page_header(
    "Linear AE = PCA",
    "A linear autoencoder has no non-linearity: code = W·x, output = V·code. Trained to minimise the squared error, it "
    "ends up spanning exactly the subspace of the top principal components — but in a basis of its own choosing.",
    "compare the decoder's weights with the PCA components (they look different), then look at the third row and the "
    "principal angles (they are the same subspace); see how the error falls with the code size.",
)


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
    lin = ui.require_model("linear_ae", "This comparison")
    if lin is not None:
        k = latent_dim(lin)
        pca = latent.train_pca(k)
        dec = decoder_basis(lin)  # (784, k)
        comps = pca.components[:k]  # (k, 784)

        st.subheader("Same subspace, different basis")
        m = links.slider("Components shown", 4, min(16, k), min(10, k), key="linpca_m", param="components")
        _weights_row(comps[:m].reshape(-1, 28, 28), f"PCA components 1–{m} (red +, blue −), ordered by the variance they explain")
        _weights_row(decoder_columns(lin)[:m], f"linear AE decoder columns 1–{m}: mixtures of the components, in no particular order")
        aligned = project_onto(dec, comps[:m])
        _weights_row(aligned.reshape(-1, 28, 28), "each PCA component projected onto the span of the AE's decoder columns: "
                     "if the subspaces agree, this row repeats the first")

        angles = principal_angles(dec, comps.T)
        c_ang, c_txt = st.columns([2, 1], gap="large")
        with c_ang:
            fig = go.Figure(go.Bar(x=np.arange(1, k + 1), y=angles, marker_color=charts.BLUE, hovertemplate="angle %{x}: %{y:.1f}°<extra></extra>"))
            charts.styled(fig, 260, f"principal angles between the AE's {k}-d decoder space and the top {k} PCA components",
                          yaxis_title="degrees", xaxis_title="angle #", yaxis_range=[0, max(10, float(angles.max()) * 1.1)])
            charts.show(fig, key="linpca_angles")
        with c_txt:
            st.metric("Median angle", f"{np.median(angles):.1f}°")
            st.metric("Largest angle", f"{angles.max():.1f}°", help="0° = the two subspaces coincide; 90° = a direction one has and the other lacks")
            st.caption("Principal angles measure how far apart two subspaces are, whatever the basis. The last angles are the "
                       "largest: the AE is least sure about the weakest of its components (small eigenvalues, slow gradients), "
                       "and the PCA here uses 10,000 of the training digits.")

        st.subheader("Error against code size")
        ks = np.arange(1, 101)
        fig = go.Figure(go.Scatter(x=ks, y=pca_mse(pca.eigenvalues, ks), mode="lines", name="PCA (from the eigenvalues)",
                                   line=dict(color=charts.BLUE, width=3)))
        fig.add_trace(go.Scatter(x=[k], y=[_test_mse("linear_ae")], mode="markers", name=f"shipped linear AE ({k}-d, test digits)",
                                 marker=dict(size=14, color=charts.RED, symbol="diamond")))
        curve = st.session_state.get("linpca_curve")
        if curve:
            fig.add_trace(go.Scatter(x=list(curve), y=list(curve.values()), mode="markers+lines", name="linear AEs trained here (5 epochs)",
                                     line=dict(color=charts.ORANGE, dash="dot"), marker=dict(size=9)))
        charts.styled(fig, 340, xaxis_title="code size k", yaxis_title="MSE per pixel", xaxis_type="log", legend=dict(x=0.55, y=0.95))
        c_plot, c_btn = st.columns([2, 1], gap="large")
        with c_plot:
            charts.show(fig, key="linpca_mse")
        with c_btn:
            st.caption("PCA's error with k components is the variance left in the other components: the sum of the discarded "
                       "eigenvalues, divided by 784 pixels. A linear AE can do no better, and a well-trained one does no worse.")
            if st.button(f"Train linear AEs with k = {', '.join(map(str, CURVE_SIZES))} (about 20 s)", icon=":material/play_arrow:",
                         key="linpca_train"):
                with st.spinner("Training six small linear autoencoders on 10,000 digits…"):
                    st.session_state["linpca_curve"] = _curve(CURVE_SIZES, 10_000, 5)
                st.rerun()

        st.subheader("One digit, two reconstructions")
        xt, _ = ui.test_set()
        i = links.number_input("MNIST test digit #", 0, len(xt) - 1, 0, key="linpca_digit", param="index")
        two = pca_vs_linear_ae(pca, k, lin, xt[int(i) : int(i) + 1])
        captions = ["original", f"PCA, {k} components · MSE {two.pca_mse:.4f}", f"linear AE, {k}-d code · MSE {two.linear_ae_mse:.4f}"]
        for col, img, cap in zip(st.columns(3), [two.original, two.pca, two.linear_ae], captions, strict=True):
            with col:
                latent.show_image(np.clip(img, 0, 1), caption=cap, width=140)
