"""What the latent pages compute lives in rep_models (tested here without Streamlit): the 2-D map's clickable
lattice and positions, and one digit rebuilt by PCA and by the linear AE."""
from __future__ import annotations

import numpy as np
import torch

from rep_models.manifold import manifold_grid, manifold_lattice, manifold_positions
from rep_models.models import build
from rep_models.pca import fit as fit_pca
from rep_models.subspaces import pca_vs_linear_ae


def test_manifold_lattice_and_positions_invert_each_other():
    torch.manual_seed(0)
    vae = build("vae", latent_dim=2, channels=4, hidden=32).eval()
    m = manifold_grid(vae, 5)
    pixels, codes = manifold_lattice(m)
    assert pixels.shape == codes.shape == (9 * 9, 2)
    np.testing.assert_allclose(manifold_positions(m, codes), pixels, atol=1e-3)
    assert len(np.unique(codes.round(4), axis=0)) == 81  # every click point is a different code


def test_pca_vs_linear_ae_agrees_with_the_algebra():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(200, 1, 28, 28, generator=g)
    pca = fit_pca(x)
    lin = build("linear_ae", latent_dim=8).eval()
    two = pca_vs_linear_ae(pca, 784, lin, x[:1])  # every component: PCA rebuilds the digit exactly
    assert two.pca_mse < 1e-8 and np.allclose(two.pca, two.original, atol=1e-4)
    few = pca_vs_linear_ae(pca, 8, lin, x[:1])
    assert few.pca_mse > 1e-4
    with torch.inference_mode():
        want = lin.decode(lin.encode(x[:1])).numpy().reshape(28, 28)
    np.testing.assert_allclose(few.linear_ae, want, rtol=1e-5, atol=1e-6)
    assert abs(few.linear_ae_mse - float(np.mean((want - few.original) ** 2))) < 1e-7
