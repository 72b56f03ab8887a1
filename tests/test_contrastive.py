"""The contrastive encoder's pieces: the random views and the NT-Xent loss."""
import torch

from rep_models.models import build
from rep_models.models.contrastive import ContrastiveConfig, augment, nt_xent


def _digit_like(n: int = 8) -> torch.Tensor:
    x = torch.zeros(n, 1, 28, 28)
    x[:, :, 8:20, 12:16] = 1.0  # a vertical bar: a "1"
    return x


def test_views_are_random_repeatable_and_stay_images():
    x, c = _digit_like(), ContrastiveConfig()
    a = augment(x, c, torch.Generator().manual_seed(1))
    b = augment(x, c, torch.Generator().manual_seed(1))
    other = augment(x, c, torch.Generator().manual_seed(2))
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b), "the same generator must give the same views"
    assert not torch.equal(a, other)
    assert not torch.equal(a[0], a[1]), "each image in a batch gets its own move"
    # A view moves the digit but keeps it on the canvas: thinning a 4-pixel stroke to 2 and shrinking it
    # by 0.8 leaves about a third of the ink; nothing should leave less, or more than 3 times as much.
    ink, ink_view = x.sum((1, 2, 3)), a.sum((1, 2, 3))
    assert ((ink_view > 0.25 * ink) & (ink_view < 3 * ink)).all()  # measured 0.295..1.85 times the ink (2026-12-01)


def test_no_augmentation_is_the_identity():
    c = ContrastiveConfig(max_rotation=0, max_shift=0, min_scale=1, max_scale=1, p_thickness=0)
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(augment(x, c), x, atol=1e-5, rtol=0)


def test_nt_xent_rewards_matching_pairs():
    torch.manual_seed(0)
    z = torch.randn(16, 8)
    matched, top1 = nt_xent(z, z + 0.01 * torch.randn_like(z), 0.5)
    shuffled, top1_shuffled = nt_xent(z, z[torch.randperm(16)], 0.5)
    assert matched < shuffled
    assert top1 == 1.0 and top1_shuffled < 0.5  # measured 1.0 and 0.0 (losses 1.78 < 3.75)


def test_validation_loss_is_repeatable():
    m = build("contrastive").eval()
    x = torch.rand(32, 1, 28, 28)
    y = torch.zeros(32, dtype=torch.long)
    with torch.no_grad():
        assert float(m.loss((x, y))["loss"]) == float(m.loss((x, y))["loss"])
