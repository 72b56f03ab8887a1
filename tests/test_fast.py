"""rep_models.fast computes exactly what the model computes (the rewrites are algebra, not approximations)."""
import pytest
import torch
import torch.nn as nn

from rep_models import fast
from rep_models.models import build
from rep_models.zoo import ZOO


def _with_batchnorm_stats(m: nn.Module) -> nn.Module:
    """Non-trivial running statistics, so folding a BatchNorm is not the identity."""
    g = torch.Generator().manual_seed(0)
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = mod.num_features
            mod.running_mean.copy_(torch.rand(n, generator=g) * 2 - 1)
            mod.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
            mod.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            mod.bias.data.copy_(torch.rand(n, generator=g) - 0.5)
    return m.eval()


@pytest.mark.parametrize("recipe", sorted(ZOO))
def test_fast_path_matches_the_model(recipe):
    """The optimised copy the app serves (``fast.optimize``) gives the model's outputs, verb by verb."""
    torch.manual_seed(0)
    r = ZOO[recipe]
    m = _with_batchnorm_stats(build(r["model"], **r.get("config", {})))
    f = fast.optimize(m)
    x, y = torch.rand(3, 1, 28, 28), torch.tensor([1, 7, 3])
    with torch.inference_mode():
        if m.family == "gan":
            z = torch.randn(3, m.config.z_dim)
            yy = y if m.conditional else None
            want, got = m.decode(z, yy), f.decode(z, yy)
        elif m.family == "classifier":
            want, got = m(x), f(x)
        elif m.family == "vae":
            yy = y if m.config.n_classes else None
            z = torch.randn(3, m.config.latent_dim)
            torch.testing.assert_close(f.encode(x, yy), m.encode(x, yy), rtol=1e-4, atol=1e-5)
            want, got = m.decode(z, yy), f.decode(z, yy)
        elif m.family == "encoder":
            want, got = m.encode(x), f.encode(x)
        elif m.family == "rbm":  # the free energy (Draw's score) and the mean-field round trip
            torch.testing.assert_close(f.free_energy(x.flatten(1)), m.free_energy(x.flatten(1)), rtol=1e-4, atol=1e-4)
            want, got = m(x), f(x)
        elif m.family == "dbn":  # its top layer's features (Few labels) and the mean-field round trip
            torch.testing.assert_close(f.encode(x), m.encode(x), rtol=1e-4, atol=1e-5)
            want, got = m(x), f(x)
        else:
            want, got = m.reconstruct(x), f.reconstruct(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)  # measured 1.8e-7 apart at most, every recipe (2026-12-01)


@pytest.mark.parametrize("cin,cout,hw,bias", [(8, 4, 7, True), (3, 1, 14, False), (16, 16, 5, True)])
def test_subpixel_equals_transposed_conv(cin, cout, hw, bias):
    torch.manual_seed(1)
    ct = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=bias)
    x = torch.randn(2, cin, hw, hw)
    with torch.no_grad():
        torch.testing.assert_close(fast.subpixel(ct)(x), ct(x), rtol=1e-5, atol=1e-5)  # measured 3.6e-7 apart at most


def test_subpixel_refuses_other_shapes():
    with pytest.raises(ValueError, match="k=4, s=2, p=1"):
        fast.subpixel(nn.ConvTranspose2d(4, 4, 3, 2, 1))


def test_fast_path_leaves_the_model_untouched():
    m = _with_batchnorm_stats(build("dcgan", ngf=8, ndf=8))
    before = {k: v.clone() for k, v in m.state_dict().items()}
    kinds = [type(mod) for mod in m.modules()]
    fast.optimize(m)
    assert [type(mod) for mod in m.modules()] == kinds
    for k, v in m.state_dict().items():
        assert torch.equal(v, before[k]), k
    n_convt = lambda net: sum(isinstance(mod, nn.ConvTranspose2d) for mod in net.modules())
    assert n_convt(fast.optimize(m).generator_net) < n_convt(m.generator_net)  # the rewrite did happen
    assert not any(isinstance(mod, nn.BatchNorm2d) for mod in fast.optimize(m).generator_net.modules())


def test_flush_denormals_turns_tiny_products_to_zero():
    # A product below 1.2e-38 is a (slow) denormal unless flushed; rep_models flushes at import and the app
    # in every script thread.
    from rep_models.device import flush_denormals

    torch.set_flush_denormal(False)
    assert (torch.tensor([1e-30]) * torch.tensor([1e-10])).item() > 0
    flush_denormals()
    assert (torch.tensor([1e-30]) * torch.tensor([1e-10])).item() == 0.0
