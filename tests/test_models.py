"""Every registered model: shapes of its verbs, a finite loss whose gradient reaches the parameters, and a
few optimisation steps on real MNIST that lower the loss. Parametrised over ``REGISTRY``, so a new model
is covered as soon as it is registered."""
from __future__ import annotations

import pytest
import torch

from rep_models.models import REGISTRY, build

NAMES = sorted(REGISTRY)
B = 8  # images for the shape checks


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread: with other jobs on the 2 cores, two OpenMP threads run ~10x slower, not faster."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def fresh(name: str, seed: int = 0, **config):
    torch.manual_seed(seed)
    return build(name, **config)


def seeded_loss(model, batch, fn="loss", seeds=(101, 102, 103)) -> float:
    """Mean loss (``fn``: a method's name or a function of the batch) over a few fixed noise draws (VAE sampling,
    corruption, dropout, GAN latents), so before and after are compared on the same randomness rather than on luck."""
    f = fn if callable(fn) else getattr(model, fn)
    vals = []
    for s in seeds:
        torch.manual_seed(s)
        with torch.no_grad():
            vals.append(float(f(batch)["loss"]))
    return sum(vals) / len(vals)


def check_image(t: torch.Tensor, n: int, in_unit: bool = True) -> None:
    assert t.shape == (n, 1, 28, 28), t.shape
    assert t.dtype == torch.float32
    assert torch.isfinite(t).all()
    if in_unit:
        assert t.min() >= 0 and t.max() <= 1


@pytest.mark.parametrize("name", NAMES)
def test_output_shapes(name, small_batch):
    model = fresh(name).eval()
    x, y = small_batch[0][:B], small_batch[1][:B]
    checked = []
    with torch.no_grad():
        if model.family == "gan":
            z = model.latent(B, seed=1)
            assert z.shape == (B, model.config.z_dim)
            digits = torch.arange(B) % 10
            check_image(model.decode(z, digits), B)
            s = model.sample(B, seed=3)
            check_image(s, B)
            assert torch.equal(s, model.sample(B, seed=3)), "sample(seed) must be repeatable"
            assert not torch.equal(s, model.sample(B, seed=4))
            zt = model.latent(500, seed=0, truncation=0.5)
            assert zt.abs().max() <= 0.5 and zt.std() > 0.1  # std measured 0.28
            if model.conditional:
                check_image(model.sample(B, seed=3, digit=7), B)
                assert not torch.equal(model.sample(B, seed=3, digit=7), model.sample(B, seed=3, digit=1))
            checked.append("gan")
        elif model.family == "vae":
            cond = y if model.config.n_classes else None
            mu, logvar = model.encode_stats(x, cond)
            d = model.config.latent_dim
            assert mu.shape == logvar.shape == (B, d)
            assert torch.equal(model.encode(x, cond), mu), "encode is the posterior mean"
            check_image(model.decode(mu, cond), B)
            check_image(model.reconstruct(x, cond), B)
            s = model.sample(B, seed=5, digit=3)
            check_image(s, B)
            assert torch.equal(s, model.sample(B, seed=5, digit=3))
            if model.config.n_classes:
                assert not torch.equal(s, model.sample(B, seed=5, digit=8))
                with pytest.raises(ValueError, match="conditional"):
                    model.encode(x)
            rec, kl = model.elbo_terms(x, cond, sample=False)
            assert rec.shape == kl.shape == (B,) and (kl >= 0).all()
            checked.append("vae")
        elif model.family == "classifier":
            logits = model(x)
            assert logits.shape == (B, 10) and torch.isfinite(logits).all()
            p = model.predict_proba(x)
            assert p.shape == (B, 10) and torch.allclose(p.sum(1), torch.ones(B))
            if hasattr(model, "features"):
                assert model.features(x).shape == (B, model.config.features)
            checked.append("classifier")
        elif model.family == "rbm":  # an energy model: free energy, conditionals, Gibbs samples
            v = (x.flatten(1) > 0.5).float()
            assert model.free_energy(v).shape == (B,) and torch.isfinite(model.free_energy(v)).all()
            assert model.hidden_probs(v).shape == (B, model.config.n_hidden)
            assert model.visible_probs(model.hidden_probs(v)).shape == (B, 784)
            check_image(model(x), B)
            s = model.sample(B, seed=3, steps=5)
            check_image(s, B)
            assert torch.equal(s, model.sample(B, seed=3, steps=5)), "sample(seed) must be repeatable"
            assert not torch.equal(s, model.sample(B, seed=4, steps=5))
            checked.append("rbm")
        elif model.family == "dbn":  # a stack of RBMs: top-layer features, mean-field round trip, samples passed down
            assert model.encode(x).shape == (B, model.latent_dim)
            check_image(model(x), B)
            s = model.sample(B, seed=3, steps=5)
            check_image(s, B)
            assert torch.equal(s, model.sample(B, seed=3, steps=5)) and not torch.equal(s, model.sample(B, seed=4, steps=5))
            checked.append("dbn")
        elif model.family == "encoder":  # codes only, no decoder
            code = model.encode(x)
            assert code.shape == (B, model.config.latent_dim) and torch.isfinite(code).all()
            assert torch.equal(model(x), code)
            checked.append("encoder")
        if hasattr(model, "encode") and hasattr(model, "decode") and model.family == "autoencoder":
            code = model.encode(x)
            if isinstance(code, list):  # the denoiser's U-Net feature maps; the last is the code
                assert [f.shape[-1] for f in code] == [28, 14, 7]
            else:
                assert code.shape == (B, model.config.latent_dim)
            # Linear outputs can leave [0, 1] (the linear AE learns the PCA projection; the denoiser's output
            # is linear so its training cannot saturate); reconstruct clips.
            check_image(model.decode(code), B, in_unit=name not in ("linear_ae", "denoising_ae"))
            check_image(model.reconstruct(x), B)
            if hasattr(model, "denoise"):
                check_image(model.denoise(x), B)
            checked.append("autoencoder")
    assert checked, f"{name}: family {model.family!r} has no shape checks; add them here"


def _grad_names(model, loss: torch.Tensor) -> set[str]:
    model.zero_grad(set_to_none=True)
    loss.backward()
    out = set()
    for n, p in model.named_parameters():
        if p.grad is not None:
            assert torch.isfinite(p.grad).all(), f"non-finite gradient in {n}"
            if p.grad.abs().sum() > 0:
                out.add(n)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_loss_is_finite_and_reaches_every_parameter(name, small_batch):
    """Every parameter is trained by some loss the trainer uses (the main loss, the GAN's two losses, or a
    layer-wise pretraining loss), and every loss is a finite scalar."""
    model = fresh(name).train()
    batch = small_batch[0][:16], small_batch[1][:16]
    all_params = {n for n, _ in model.named_parameters()}
    reached: set[str] = set()
    if model.family == "gan":  # every GAN trainer (gan, stylegan) alternates these two losses
        gen = {id(p) for p in model.generator_parameters()}
        names = {id(p): n for n, p in model.named_parameters()}
        for fn, own in (("discriminator_loss", set(names) - gen), ("generator_loss", gen)):
            out = getattr(model, fn)(batch)
            assert out["loss"].ndim == 0 and torch.isfinite(out["loss"])
            got = _grad_names(model, out["loss"])
            assert {names[i] for i in own} <= got, f"{fn} misses {sorted({names[i] for i in own} - got)[:3]}"
            reached |= got
        assert torch.isfinite(model.loss(batch)["loss"])
    else:
        out = model.loss(batch)
        assert out["loss"].ndim == 0 and torch.isfinite(out["loss"]) and out["loss"].requires_grad
        assert all(torch.isfinite(torch.as_tensor(v)).all() for v in out.values())
        reached |= _grad_names(model, out["loss"])
        for layer in range(model.pretrain_layers):
            reached |= _grad_names(model, model.layerwise_loss(batch, layer)["loss"])
    assert reached == all_params, f"no gradient reaches {sorted(all_params - reached)[:5]}"


@pytest.mark.parametrize("name", NAMES)
def test_a_few_steps_lower_the_loss(name, small_batch):
    model = fresh(name).train()
    batch = small_batch
    lr = model.train_defaults["lr"]
    if model.family == "gan":  # every GAN trainer (gan, stylegan) alternates these two losses
        batch = small_batch[0][:32], small_batch[1][:32]
        d_opt = torch.optim.Adam(model.discriminator_parameters(), lr=lr, betas=(0.5, 0.999))
        g_opt = torch.optim.Adam(model.generator_parameters(), lr=lr, betas=(0.5, 0.999))
        g0 = [p.detach().clone() for p in model.generator_parameters()]
        d0 = [p.detach().clone() for p in model.discriminator_parameters()]
        d_before = seeded_loss(model, batch, "discriminator_loss")
        for _ in range(3):
            d = model.discriminator_loss(batch)["loss"]
            d_opt.zero_grad()
            d.backward()
            d_opt.step()
            g = model.generator_loss(batch)["loss"]
            g_opt.zero_grad()
            g.backward()
            g_opt.step()
            assert torch.isfinite(d) and torch.isfinite(g)
        assert all(not torch.equal(a, b) for a, b in zip(g0, model.generator_parameters(), strict=True)), "generator did not move"
        assert all(not torch.equal(a, b) for a, b in zip(d0, model.discriminator_parameters(), strict=True)), "discriminator did not move"
        # The discriminator's own objective improves against a fixed generator's fakes (measured 2026-12-01:
        # gan 1.39 -> 1.12, dcgan 1.44 -> 0.52, cdcgan 1.31 -> 0.56).
        assert seeded_loss(model, batch, "discriminator_loss") < d_before
        return
    # A DBN trains greedily: its first RBM first, on the pixels (the top one learns from that one's hidden units).
    fn = (lambda b: model.layerwise_loss(b, 0)) if model.family == "dbn" else model.loss
    before = seeded_loss(model, batch, fn)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    # A contrastive loss starts near its chance level log(2B - 1) and learns from new random views each
    # step, so it takes more steps than a reconstruction loss to fall by the same tenth: 12 steps reached
    # 0.904 of the start on the shipped digits (0.848..0.904 on four batches), 20 reach 0.815..0.825.
    # A model of a few hundred weights (the overcomplete AE: 245) moves little per step at its learning rate: 6 steps
    # took it to 0.917 of the start, 20 to 0.61.
    steps = 20 if model.family == "encoder" or model.n_parameters() < 1000 else 6
    for _ in range(steps):
        loss = fn(batch)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = seeded_loss(model, batch, fn)
    # after / before measured 2026-12-01: classifier 0.61, contractive_ae 0.54, conv_ae 0.40, cvae 0.76, denoising_ae
    # 0.52, linear_ae 0.82, recurrent_ae 0.38, sda 0.54, sparse_ae 0.50, stacked_ae 0.80, vae 0.70, contrastive 0.82
    assert after < 0.9 * before, f"{name}: loss {before:.4g} -> {after:.4g} after {steps} steps"


def test_tied_stacked_ae_has_about_half_the_parameters():
    tied, untied = build("stacked_ae", tied=True), build("stacked_ae", tied=False)
    ratio = tied.n_parameters() / untied.n_parameters()
    assert 0.45 < ratio < 0.55, ratio  # measured 0.501 (parameter counts)
    assert tied.stack.dec is None
    # The tied decoder really is the transposed encoder: changing an encoder weight changes the decoding.
    z = torch.randn(2, tied.config.latent_dim)
    before = tied.decode(z)
    with torch.no_grad():
        tied.stack.enc[-1].weight.add_(0.5)
    assert not torch.allclose(before, tied.decode(z))


@pytest.mark.parametrize("tied", [True, False])
def test_layerwise_loss_trains_only_that_layer(tied, small_batch):
    model = fresh("stacked_ae", tied=tied).train()
    st = model.stack
    batch = small_batch[0][:16], small_batch[1][:16]
    for layer in range(model.pretrain_layers):
        own = {f"stack.enc.{layer}.weight", f"stack.enc.{layer}.bias", f"stack.dec_bias.{layer}"}
        if not tied:
            own.add(f"stack.dec.{layer}.weight")
        model.zero_grad(set_to_none=True)
        out = model.layerwise_loss(batch, layer)
        out["loss"].backward()
        with_grad = {n for n, p in model.named_parameters() if p.grad is not None}
        assert with_grad == own, (layer, sorted(with_grad))
        # The layer's input is the code of the frozen layers below: same shape as the layer's decoder output.
        assert st.encode(torch.zeros(1, 784), upto=layer).shape[1] == st.sizes[layer]


def test_contractive_penalty_is_the_jacobian_norm(small_batch):
    model = fresh("contractive_ae", latent_dim=16).eval()
    x = small_batch[0][:2]
    closed = model.jacobian_norm_sq(model.encode(x))
    for i in range(2):
        jac = torch.autograd.functional.jacobian(lambda v: model.encode(v.reshape(1, 1, 28, 28))[0], x[i].flatten())
        assert torch.allclose(closed[i], (jac**2).sum(), rtol=1e-4)
    assert "contractive" not in build("contractive_ae", lam=0.0).loss(small_batch)


def test_sparse_penalty_pushes_mean_activation_toward_rho(small_batch):
    model = fresh("sparse_ae", latent_dim=32, hidden=64, weight=50.0).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    act = lambda: float(model.encode(small_batch[0]).mean().detach())
    start = act()
    for _ in range(30):
        loss = model.loss(small_batch)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert abs(act() - model.config.rho) < abs(start - model.config.rho) / 2  # measured 0.0087 < 0.227 (2026-12-01)


def test_unknown_config_field_and_name_are_clear_errors():
    with pytest.raises(TypeError, match="latent_dims"):
        build("conv_ae", latent_dims=3)
    with pytest.raises(KeyError, match="conv_ae"):
        build("no_such_model")
    with pytest.raises(ValueError, match="cell"):
        build("recurrent_ae", cell="rnn")


def test_recurrent_ae_lstm_variant(small_batch):
    model = fresh("recurrent_ae", cell="lstm", hidden=32, latent_dim=8).eval()
    x = small_batch[0][:4]
    assert model.encode(x).shape == (4, 8)
    check_image(model.reconstruct(x), 4)



def test_self_conditioned_dcgan_picks_its_cluster_from_the_latent(small_batch):
    """clusters > 0: the first latent number's quantile picks the cluster at the clusters' shares, the
    cluster changes the image, and the discriminator sees real digits with their own clusters."""
    torch.manual_seed(0)
    model = build("dcgan", z_dim=8, ngf=4, ndf=4, clusters=3, cluster_shares=(0.2, 0.3, 0.5))
    assert not model.conditional, "self-conditioned is still an unconditional generator: no digit to ask for"
    z = model.latent(20000, seed=0)
    share = torch.bincount(model.cluster_of(z), minlength=3).double() / len(z)
    torch.testing.assert_close(share, torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64), atol=0.015, rtol=0)  # measured 0.006
    a, b = torch.zeros(1, 8), torch.zeros(1, 8)
    a[0, 0], b[0, 0] = -2.0, 2.0  # quantiles 0.02 and 0.98: first and last cluster
    assert model.cluster_of(a).item() == 0 and model.cluster_of(b).item() == 2
    model.eval()
    b2 = a.clone()
    b2[0, 0] = -0.3  # quantile 0.38: the middle cluster, the rest of the latent unchanged
    assert model.cluster_of(b2).item() == 1
    with torch.no_grad():
        assert not torch.allclose(model.decode(a), model.decode(b2))
    y_real, y_fake = model.conditions(z[:5], torch.tensor([2, 2, 1, 0, 0]))
    assert y_real.tolist() == [2, 2, 1, 0, 0] and torch.equal(y_fake, model.cluster_of(z[:5]))
    model.train()
    batch = small_batch[0][:16], torch.randint(0, 3, (16,))
    assert torch.isfinite(model.discriminator_loss(batch)["loss"]) and torch.isfinite(model.generator_loss(batch)["loss"])
    with pytest.raises(ValueError, match="not both"):
        build("dcgan", n_classes=10, clusters=10)
    with pytest.raises(ValueError, match="one share per cluster"):
        build("dcgan", clusters=3, cluster_shares=(0.5, 0.5))
