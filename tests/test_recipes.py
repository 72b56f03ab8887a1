"""The data preparation of the training recipes (rep_models.training.recipes): the self-conditioned DCGAN's
clusters, the SdA's label spreading; and that the model classes import nothing above ``models/``."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from rep_models.models import build
from rep_models.training import recipes
from rep_models.training.options import TrainOptions

MODELS = Path(__file__).resolve().parent.parent / "rep_models" / "models"


def test_models_import_nothing_above_models():
    """No ``from ..x import`` and no ``import rep_models.x`` outside ``models/``, at the top or inside a function."""
    def above(name: str) -> bool:
        return name.startswith("rep_models") and not name.startswith("rep_models.models")

    bad = []
    for path in sorted(MODELS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level > 1 or above(node.module or "")):
                bad.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Import) and any(above(a.name) for a in node.names):
                bad.append(f"{path.name}:{node.lineno}")
    assert not bad, bad


class Toy(torch.nn.Module):
    """Codes: the mean brightness of the left and right halves."""

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))  # encode_all reads the device from a parameter

    def encode(self, x):
        return torch.stack([x[..., :14].mean((1, 2, 3)), x[..., 14:].mean((1, 2, 3))], 1)


def test_clusters_come_from_the_encoder_codes():
    """k-means on an encoder's codes; images with the same code share a cluster; the shares go to the config."""
    x = torch.zeros(60, 1, 28, 28)
    x[:20, ..., :14] = 1.0  # left half lit
    x[20:40, ..., 14:] = 1.0  # right half lit
    x[40:] = 0.5  # all grey
    model = build("dcgan", z_dim=8, ngf=4, ndf=4, clusters=3)
    ids, val_ids = recipes.cluster_targets(model, x, x[::7], encoder=Toy())
    assert len({*ids[:20].tolist()}) == len({*ids[20:40].tolist()}) == len({*ids[40:].tolist()}) == 1
    assert len({ids[0].item(), ids[20].item(), ids[40].item()}) == 3
    assert torch.equal(val_ids, ids[::7])
    assert model.config.cluster_shares == pytest.approx((1 / 3, 1 / 3, 1 / 3), abs=1e-5)


class Corner(torch.nn.Module):
    """A toy encoder: the code is the image's first two pixels."""

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def encode(self, x):
        return x[:, 0, 0, :2]


def test_umap_clusters_follow_curved_groups_that_kmeans_cuts():
    """Codes on two concentric rings: k-means on the codes cuts both rings in half; in a UMAP embedding
    (``cluster_umap``) each ring is one cluster."""
    g = torch.Generator().manual_seed(0)
    angle = torch.rand(300, generator=g) * 2 * torch.pi
    radius = torch.where(torch.arange(300) < 150, 1.0, 4.0)
    x = torch.zeros(300, 1, 28, 28)
    x[:, 0, 0, 0], x[:, 0, 0, 1] = radius * angle.cos(), radius * angle.sin()
    ring = (torch.arange(300) >= 150).long()

    def agreement(ids):
        same = (ids == ring).float().mean().item()
        return max(same, 1 - same)

    plain = build("stylegan", clusters=2)
    (ids,) = recipes.cluster_targets(plain, x, encoder=Corner())
    assert agreement(ids) < 0.8  # measured 0.5-0.6: a straight cut through both rings
    curved = build("stylegan", clusters=2, cluster_umap=2)
    ids, val = recipes.cluster_targets(curved, x, x[::10], encoder=Corner())
    assert agreement(ids) == 1.0
    assert (val == ids[::10]).float().mean() > 0.9  # new codes placed by the fitted embedding


def test_a_plain_dcgan_trains_on_the_labels():
    x, y = torch.zeros(20, 1, 28, 28), torch.arange(20) % 10
    d = recipes.run_steps(recipes.BEFORE_TRAINING, build("dcgan", z_dim=8, ngf=4, ndf=4), recipes.TrainingData(x, y, x, y), TrainOptions())
    assert d.y is y and d.y_sup is y and d.yv is y


def test_sda_pseudo_label_spreads_a_few_labels_over_clusters():
    # Images of three well-separated prototypes with noise: 1 label each reaches all their copies.
    g = torch.Generator().manual_seed(0)
    protos = (torch.rand(3, 1, 28, 28, generator=g) > 0.7).float()
    y = torch.arange(3).repeat_interleave(40)
    x = (protos[y] + 0.1 * torch.randn(120, 1, 28, 28, generator=g)).clamp(0, 1)
    model = build("sda", hidden=(64,), latent_dim=16, propagate_labels=True, propagate_on="pixels", propagation_keep=1.0)
    labelled = torch.tensor([0, 40, 80])
    idx, pseudo = recipes.pseudo_label(model, x, labelled, y[labelled])
    assert len(idx) == 120 and (pseudo == y[idx]).all()
    assert recipes.pseudo_label(build("sda", hidden=(64,), latent_dim=16), x, labelled, y[labelled]) is None  # off by default
    with pytest.raises(ValueError, match="propagate_on"):
        recipes.pseudo_label(build("sda", hidden=(64,), latent_dim=16, propagate_labels=True, propagate_on="nope"), x, labelled, y[labelled])

    # As a step after pretraining: the main phase trains on the spread labels, and the run keeps them.
    d = recipes.TrainingData(x, y, x[:10], y[:10], labelled=labelled)
    recipes.spread_labels(model, d, TrainOptions(labels=3))
    assert torch.equal(d.x_sup, x[idx]) and torch.equal(d.y_sup, pseudo) and torch.equal(d.prepared["pseudo_labels"], pseudo)
    assert d.report["pseudo_labels"] == {"images": 120, "pseudo_label_accuracy": 1.0}
