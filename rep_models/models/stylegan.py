"""A style-based generator (Karras et al. 2019, 2020) at MNIST scale, with the progressive-GAN tricks.

Generator: a mapping network z -> w (``mapping_layers`` equalized linear layers at a learning rate
``mapping_lr_mul`` times the synthesis network's, after pixel normalisation of z), then a synthesis network
from a learned 7x7 constant through 7x7 -> 14x14 -> 28x28 blocks. Each block has two 3x3 convolutions, each
with a per-pixel noise input (a learned strength per channel) and its own style, an affine map of its w, which
enters by ``style``: "adain" (StyleGAN: each channel instance-normalised, then scaled and shifted by the style)
or "demod" (StyleGAN2: the input channels scaled by the style and each output demodulated back to unit
variance, written as scale-conv-rescale, one ordinary convolution per batch). Every block also writes its own
grey image (a "toRGB" layer); the images are upsampled and summed (StyleGAN2's skip generator). So there are
``n_styles`` = 6 styles: styles 0-1 (``coarse_styles``) drive the 7x7 block (the digit's layout), 2-3 the
14x14, 4-5 the 28x28 (the stroke).

What was measured (bench-style short runs on this shared 2-core CPU, one thread, batch 64; Frechet distance of
1,000 raw-generator samples to 5,000 test digits, pixel spread = mean std across samples in [0, 1]):
- "demod", own discriminator, Adam (0, 0.99), lr 2e-3, R1 0.5 or 0.01: one digit shape for every latent within
  300 steps (spread 0.12, FD 700-900); Adam (0.5, 0.99) at 5e-4: more varied (0.19), still FD ~850 at 300 steps.
- "adain" (the default), own discriminator, Adam (0.5, 0.99), lr 1e-3: spread 0.18-0.27 at 300 steps (FD 657),
  but with 10 clusters and R1 0.1 it had collapsed onto one shape after one epoch (860 steps, FD 1010, spread 0.05).
- "adain" with the DCGAN's discriminator (``d_arch="dcgan"``), lr 2e-4, the generator at 5x (``g_lr_scale``), no
  skips: no collapse (spread 0.17), FD ~650-700 after 450 steps, the discriminator winning (D(fake) ~0.01).
- For scale: the DCGAN (ngf = ndf = 32) in the same harness, FD 376 after 450 steps.
- "demod", channels 64/32/16, the DCGAN's discriminator, 10 clusters found in a UMAP embedding (``cluster_umap=8``),
  lr 2e-4 with the generator at 10x (``bench/stylegan_ablation.py --only-config ... --lr 2e-4 --steps 1500``,
  Frechet distance in the classifier's features, 2,000 samples of the averaged generator): 945 at 500 steps, 422
  at 1,000, 232 at 1,500 (class shares 1.0-24.4 %, top-class probability 0.93), 0.9 s a step on one shared thread.
- The same on an idle machine (one thread, 0.17 s a step): 612 / 249 / 73 / 34 at 1,000-4,000 steps (2,000 samples),
  33.0 with 10,000; the shipped recipe (``zoo.py``: 12 epochs, 11,250 steps, 51 min with two stops and resumes on a
  shared machine) reaches 8.4 with 10,000 samples, class shares 8.3-11.4 %, top-class probability 0.991.
``skip=False`` (default): only the 28x28 block draws; with skips, the upsampled 7x7 image left bright 4x4 blocks.
Why it learns slowly, measured without a discriminator: regressing the generator onto 512 fixed training digits
(MSE in [-1, 1], 400 steps of 64, Adam (0.5, 0.99)): the DCGAN's generator 0.007 at lr 1e-3; this one 0.42 (AdaIN),
0.26 (demod), 0.28 (mapping at full lr), 0.15 (lr 1e-2), 0.15 (no equalized lr), 0.33 (channels 128/64/32),
0.32 (``dense_input``), 0.10 (``dense_input``, mapping at full lr, lr 1e-2). With equalized weights of unit scale
an Adam step of 1e-3 moves a weight 0.1 % (the DCGAN's 2e-4 on N(0, 0.02) weights: 1 %), and a constant input
re-weighted channel by channel offers few layouts at this width: the style path is the bottleneck, not the GAN game.

Discriminator: 3x3 convolutions with average-pool downsampling 28 -> 14 -> 7, a minibatch standard-deviation
channel at 7x7 (Karras et al. 2018: a generator that draws a few digits only makes batches that vary too
little, and the discriminator sees it), then two linear layers.

Self-conditioning (``clusters`` > 0, the shipped recipe), as the DCGAN's (``dcgan.py``): the training digits are
split into clusters without labels (k-means on the shipped contrastive encoder's codes, the recipe step
``contrastive_clusters``); the mapping network gets the cluster's embedding beside z (StyleGAN2-ADA's
conditioning) and the discriminator scores by projection. The model stays unconditional: z's first number
picks the cluster (its normal quantile among the clusters' shares).

Tricks, each a config switch so its effect can be measured by leaving it out: ``equalized_lr`` (weights
drawn from N(0, 1) and scaled by He's constant at run time, so Adam moves every layer at the same speed),
``pixel_norm`` (z normalised to unit length per sample, against activations that drift), ``minibatch_std``,
``mixing_prob`` (style-mixing regularisation: two latents, the styles switch from one to the other at a
random crossover, so neighbouring styles cannot rely on each other), ``ema`` (an exponential moving average
of the generator's weights is what ships), ``progressive`` (the resolution both networks see grows
7 -> 14 -> 28, each new block fading in over ``grow_steps`` steps; the networks keep their shape, the newest
block's image is scaled by the fade-in and the real digits are blurred to the same resolution).

Truncation is in W: ``w' = w_avg + psi (w - w_avg)``, ``w_avg`` the moving average of the mapping's outputs
kept during training (``truncation=0`` draws the average digit).

The training step (non-saturating logistic loss, lazy R1 penalty on real digits) is
``rep_models.training.steps.stylegan_step``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import noise_source, share_bucket
from .dcgan import dc_discriminator, dcgan_init
from .gan import GANBase


@dataclass
class StyleGANConfig:
    z_dim: int = 64
    w_dim: int = 64
    mapping_layers: int = 4
    mapping_lr_mul: float = 0.01  # the mapping network learns 100x slower (StyleGAN's choice)
    channels: tuple[int, int, int] = (48, 32, 16)  # at 7x7, 14x14, 28x28
    d_channels: tuple[int, int, int] = (32, 64, 64)  # the discriminator's at 28x28, 14x14, 7x7
    equalized_lr: bool = True
    pixel_norm: bool = True
    minibatch_std: bool = True
    mbstd_group: int = 4
    mixing_prob: float = 0.9  # share of training batches drawn with two latents (0: no style mixing)
    noise: bool = True  # per-pixel noise inputs
    ema: float = 0.998  # > 0: the shipped generator is this moving average of the trained one
    w_avg_beta: float = 0.995  # the moving average of w that truncation pulls toward
    r1_gamma: float = 0.1  # weight of the R1 penalty on real digits (0: none)
    r1_every: int = 8  # lazy regularisation: R1 every this many steps, weighted by it
    progressive: bool = False
    grow_steps: int = 500  # with progressive: steps at each resolution before the next fades in, and the fade's length
    style: str = "adain"  # how a style enters a layer: "demod" (weight (de)modulation, StyleGAN2) or "adain" (StyleGAN)
    dense_input: bool = False  # the 7x7 input made from the first style by a linear layer, not the learned constant
    skip: bool = False  # sum every block's image (StyleGAN2's skip generator; always with progressive) or the 28x28 block's only
    g_lr_scale: float = 1.0  # the generator's learning rate over the discriminator's (two time-scale updates)
    d_arch: str = "style"  # the discriminator: "style" (equalized 3x3 convolutions, above) or "dcgan" (dcgan.py's, batch norm)
    ndf: int = 32  # with d_arch "dcgan": its width
    clusters: int = 0  # > 0: self-conditioned on this many label-free clusters, as the DCGAN (see dcgan.py)
    cluster_shares: tuple[float, ...] = ()  # each cluster's share of the training digits (set by the recipe step)
    cluster_umap: int = 0  # > 0: the clusters are found in a UMAP embedding of the codes of this many dimensions (purer)


class EqualLinear(nn.Module):
    """A linear layer ``(B, in) -> (B, out)`` with the equalized learning rate: weights N(0, 1/lr_mul) scaled by
    ``lr_mul / sqrt(in)`` at run time (so ``lr_mul`` < 1 is a slower layer under Adam). With ``equalized=False``
    the scale is in the initial weights instead (a plain He-initialised layer)."""

    def __init__(self, n_in: int, n_out: int, bias_init: float = 0.0, lr_mul: float = 1.0, equalized: bool = True, gain: float = 1.0):
        super().__init__()
        he = gain / math.sqrt(n_in)  # gain sqrt(2) after a LeakyReLU keeps the variance (folded in: one multiply fewer)
        self.scale = lr_mul * he if equalized else lr_mul
        self.weight = nn.Parameter(torch.randn(n_out, n_in) / lr_mul * (1.0 if equalized else he))
        self.bias = nn.Parameter(torch.full((n_out,), float(bias_init) / lr_mul))
        self.lr_mul = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class EqualConv(nn.Module):
    """A 3x3 (or 1x1) convolution ``(B, in, H, W) -> (B, out, H, W)`` with the equalized learning rate."""

    def __init__(self, n_in: int, n_out: int, k: int = 3, equalized: bool = True, gain: float = 1.0):
        super().__init__()
        he = gain / math.sqrt(n_in * k * k)
        self.scale = he if equalized else 1.0
        self.weight = nn.Parameter(torch.randn(n_out, n_in, k, k) * (1.0 if equalized else he))
        self.bias = nn.Parameter(torch.zeros(n_out))
        self.pad = k // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.pad)


class ModulatedConv(nn.Module):
    """A 3x3 convolution modulated by a style and demodulated: ``(B, in, H, W), w (B, w_dim) -> (B, out, H, W)``.

    The style ``s = A(w)`` (B, in) scales the input channels; demodulation divides each output channel by the
    norm the modulated weights would give it, so every style sets the *relative* weight of the input channels
    without changing the output's scale (StyleGAN2; AdaIN's normalisation without its droplet artefacts).
    Written as scale -> shared convolution -> rescale, which is the same as the per-sample weights but one
    ordinary convolution for the batch (fast on a CPU)."""

    def __init__(self, n_in: int, n_out: int, w_dim: int, k: int = 3, demodulate: bool = True, equalized: bool = True):
        super().__init__()
        self.affine = EqualLinear(w_dim, n_in, bias_init=1.0, equalized=equalized)  # styles start at 1
        he = 1.0 / math.sqrt(n_in * k * k)
        self.scale = he if equalized else 1.0
        self.weight = nn.Parameter(torch.randn(n_out, n_in, k, k) * (1.0 if equalized else he))
        self.bias = nn.Parameter(torch.zeros(n_out))
        self.demodulate, self.pad = demodulate, k // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        s = self.affine(w)  # (B, in)
        weight = self.weight * self.scale  # (out, in, k, k)
        x = F.conv2d(x * s[:, :, None, None], weight, padding=self.pad)
        if self.demodulate:
            # sum over in, k, k of (weight * s)^2 = (sum_k weight^2) @ s^2: (B, out)
            d = torch.rsqrt(s.square() @ weight.square().sum((2, 3)).t() + 1e-8)
            x = x * d[:, :, None, None]
        return x + self.bias[None, :, None, None]


class NoiseInput(nn.Module):
    """Adds per-pixel Gaussian noise ``(B, 1, H, W)`` times a learned strength per channel (starts at 0)."""

    def __init__(self, channels: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        if noise is None:
            return x
        return x + noise * self.strength[None, :, None, None]


class StyleLayer(nn.Module):
    """``demod``: modulated conv -> noise -> bias -> LeakyReLU(0.2) (the next layer's demodulation undoes its scale).
    ``adain``: conv -> noise -> LeakyReLU -> instance norm -> the style's per-channel scale and shift (StyleGAN's AdaIN:
    the style replaces each channel's mean and spread). ``(B, in, H, W), w (B, w_dim) -> (B, out, H, W)``."""

    def __init__(self, n_in: int, n_out: int, w_dim: int, equalized: bool, style: str = "demod"):
        super().__init__()
        self.adain = style == "adain"
        if self.adain:
            self.conv = EqualConv(n_in, n_out, equalized=equalized)
            self.affine = EqualLinear(w_dim, 2 * n_out, equalized=equalized)
        else:
            self.conv = ModulatedConv(n_in, n_out, w_dim, equalized=equalized)
        self.noise = NoiseInput(n_out)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        if not self.adain:
            return F.leaky_relu(self.noise(self.conv(x, w), noise), 0.2)
        h = F.leaky_relu(self.noise(self.conv(x), noise), 0.2)
        # instance norm written out: torch.onnx cannot export F.instance_norm where the channels are not known
        mean, var = h.mean((2, 3), keepdim=True), h.var((2, 3), unbiased=False, keepdim=True)
        h = (h - mean) * torch.rsqrt(var + 1e-5)
        scale, shift = self.affine(w).chunk(2, 1)  # (B, out) each
        return h * (1 + scale[:, :, None, None]) + shift[:, :, None, None]


class ToGrey(nn.Module):
    """A block's image: a modulated 1x1 convolution to one channel, no demodulation ``(B, C, H, W) -> (B, 1, H, W)``."""

    def __init__(self, n_in: int, w_dim: int, equalized: bool):
        super().__init__()
        self.conv = ModulatedConv(n_in, 1, w_dim, k=1, demodulate=False, equalized=equalized)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w)


class MappingNet(nn.Module):
    """z ``(B, z_dim)`` (and a cluster ``(B,)``) -> w ``(B, w_dim)``: pixel norm, then ``layers`` equalized linear
    layers with LeakyReLU. A cluster enters as StyleGAN2-ADA's class does: an embedding, normalised, beside z."""

    def __init__(self, c: StyleGANConfig):
        super().__init__()
        self.embed = EqualLinear(c.clusters, c.w_dim, equalized=c.equalized_lr) if c.clusters else None
        dims = [c.z_dim + (c.w_dim if c.clusters else 0)] + [c.w_dim] * c.mapping_layers
        self.layers = nn.ModuleList(EqualLinear(a, b, lr_mul=c.mapping_lr_mul, equalized=c.equalized_lr, gain=1.0 if i == 0 else math.sqrt(2))
                                    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)))
        self.pixel_norm = c.pixel_norm

    def forward(self, z: torch.Tensor, cluster: torch.Tensor | None = None) -> torch.Tensor:
        norm = lambda t: t * torch.rsqrt(t.square().mean(1, keepdim=True) + 1e-8)  # noqa: E731
        if self.pixel_norm:  # every z on the same sphere: the mapping never sees a latent far larger than the rest
            z = norm(z)
        if self.embed is not None:
            z = torch.cat([z, norm(self.embed(F.one_hot(cluster, self.embed.weight.shape[1]).float()))], 1)
        for layer in self.layers:
            z = F.leaky_relu(layer(z), 0.2)
        return z


SIZES = (7, 14, 28)


class SynthesisNet(nn.Module):
    """ws ``(B, n_styles, w_dim)`` -> images ``(B, 1, 28, 28)`` (about [-1, 1]), from a learned 7x7 constant.

    ``fade`` (two numbers in [0, 1], progressive growing): how much of the 14x14 and the 28x28 block's image is
    added (1, 1 when not growing)."""

    def __init__(self, c: StyleGANConfig):
        super().__init__()
        ch = c.channels
        self.const = nn.Parameter(torch.randn(1, ch[0], 7, 7))
        # The constant can only be re-weighted channel by channel; with a few dozen channels (not StyleGAN's 512) it
        # has few layouts to offer, so the dense input draws the 7x7 layout from w as the DCGAN's first layer does.
        self.dense = EqualLinear(c.w_dim, ch[0] * 49, equalized=c.equalized_lr) if c.dense_input else None
        self.layers = nn.ModuleList()
        # Without skips only the last block draws (one image layer): in short runs the upsampled 7x7 image of the skip
        # sum left bright 4x4 blocks in the digits that the finer blocks had not yet learnt to cancel.
        self.skip = c.skip or c.progressive
        self.to_grey = nn.ModuleList()
        n_in = ch[0]
        for blk, n_out in enumerate(ch):
            self.layers.append(StyleLayer(n_in, n_out, c.w_dim, c.equalized_lr, c.style))
            self.layers.append(StyleLayer(n_out, n_out, c.w_dim, c.equalized_lr, c.style))
            if self.skip or blk == len(ch) - 1:
                self.to_grey.append(ToGrey(n_out, c.w_dim, c.equalized_lr))
            n_in = n_out
        self.use_noise = c.noise
        # Fixed noise maps for noise="const" (the same draw for every sample: the noise's effect switched off but
        # the learned strengths kept, as StyleGAN's noise_mode="const").
        g = torch.Generator().manual_seed(1234)
        for i in range(len(self.layers)):
            s = SIZES[i // 2]
            self.register_buffer(f"noise_const_{i}", torch.randn(1, 1, s, s, generator=g), persistent=False)

    @property
    def n_styles(self) -> int:
        return len(self.layers)

    def _noise(self, i: int, b: int, mode, generator: torch.Generator | None, device,
               gain: torch.Tensor | None = None) -> torch.Tensor | None:
        if not self.use_noise or mode == "none":
            return None
        s = SIZES[i // 2]
        if mode == "const":
            fixed = getattr(self, f"noise_const_{i}").expand(b, 1, s, s)
            return fixed if gain is None else fixed * gain

        g = generator if generator is not None else noise_source()
        if g is None:
            return torch.randn(b, 1, s, s, device=device)
        return torch.randn(b, 1, s, s, generator=g, device=g.device).to(device)

    def forward(self, ws: torch.Tensor, noise: str = "random", generator: torch.Generator | None = None,
                fade: tuple[float, float] = (1.0, 1.0), noise_gain: torch.Tensor | None = None) -> torch.Tensor:
        """ws ``(B, n_styles, w_dim)`` -> images ``(B, 1, 28, 28)`` about [-1, 1]. ``noise_gain`` (a tensor, one
        number) scales the fixed maps of ``noise="const"``: 1 fixed, 0 off, as one graph (the exported one's input)."""
        b = ws.shape[0]
        x = self.const.expand(b, -1, -1, -1)
        if self.dense is not None:
            x = x + self.dense(ws[:, 0]).reshape(x.shape)
        img = None
        for blk in range(3):
            if blk:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
                if img is not None:
                    img = F.interpolate(img, scale_factor=2, mode="bilinear", align_corners=False)
            for j in (2 * blk, 2 * blk + 1):
                x = self.layers[j](x, ws[:, j], self._noise(j, b, noise, generator, ws.device, noise_gain))
            if not self.skip and blk < 2:
                continue
            # Each block's image uses the style of its last layer (StyleGAN2's toRGB takes the next layer's w).
            y = self.to_grey[blk if self.skip else 0](x, ws[:, 2 * blk + 1])
            if not self.skip:
                return y
            img = y if img is None else img + (y if fade[blk - 1] >= 1 else fade[blk - 1] * y)
        return img


class MinibatchStdGroups(nn.Module):
    """Appends one channel: the standard deviation of each feature over groups of ``group`` samples, averaged
    (Karras et al. 2018). ``(B, C, H, W)`` -> ``(B, C + 1, H, W)``."""

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = math.gcd(self.group, b)  # a batch not divisible by the group uses a smaller one
        if g < 2:
            return torch.cat([x, x.new_zeros(b, 1, h, w)], 1)
        y = x.reshape(g, b // g, c * h * w)
        y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt().mean(1)  # (b // g,): faster than var over dim 0 on a CPU
        y = y.repeat(g).reshape(b, 1, 1, 1).expand(b, 1, h, w)
        return torch.cat([x, y], 1)


def pool2(h: torch.Tensor) -> torch.Tensor:
    """2x2 average pooling ``(B, C, H, W) -> (B, C, H/2, W/2)`` as a reshape and a mean (faster than avg_pool2d here)."""
    b, c, hh, ww = h.shape
    return h.reshape(b, c, hh // 2, 2, ww // 2, 2).mean((3, 5))


class Discriminator(nn.Module):
    """Images ``(B, 1, 28, 28)`` in [-1, 1] -> logits ``(B,)``: a 3x3 convolution at 28x28, average-pool, a 3x3
    convolution at 14x14, average-pool, the minibatch standard deviation, a 3x3 convolution at 7x7, two linear
    layers. Kept small: on a CPU the discriminator's passes (three per step) cost more than the generator's."""

    def __init__(self, c: StyleGANConfig):
        super().__init__()
        ch, eq = c.d_channels, c.equalized_lr
        self.conv28 = EqualConv(1, ch[0], equalized=eq)
        r2 = math.sqrt(2)  # every layer after the first reads a LeakyReLU's output
        self.conv14 = EqualConv(ch[0], ch[1], equalized=eq, gain=r2)
        self.mbstd = MinibatchStdGroups(c.mbstd_group) if c.minibatch_std else None
        self.conv7 = EqualConv(ch[1] + int(c.minibatch_std), ch[2], equalized=eq, gain=r2)
        self.fc = EqualLinear(ch[2] * 49, ch[2], equalized=eq, gain=r2)
        self.out = EqualLinear(ch[2], 1, equalized=eq, gain=r2)
        # Self-conditioned: a projection discriminator (Miyato & Koyama 2018): the score adds the features' dot
        # product with the cluster's embedding, so D judges "a real digit of this cluster".
        self.embed = EqualLinear(c.clusters, ch[2], equalized=eq) if c.clusters else None

    def forward(self, x: torch.Tensor, cluster: torch.Tensor | None = None) -> torch.Tensor:
        act = lambda t: F.leaky_relu(t, 0.2)  # noqa: E731
        h = pool2(act(self.conv28(x)))  # 14
        h = pool2(act(self.conv14(h)))  # 7
        if self.mbstd is not None:
            h = self.mbstd(h)
        h = act(self.fc(act(self.conv7(h)).flatten(1)))  # (B, ch)
        out = self.out(h).flatten()
        if self.embed is not None:
            e = self.embed(F.one_hot(cluster, self.embed.weight.shape[1]).float())
            out = out + (h * e).sum(1) / math.sqrt(h.shape[1])
        return out


class DCDiscriminator(nn.Module):
    """The DCGAN's discriminator (strided convolutions, batch norm, the minibatch standard deviation), the cluster as
    constant extra channels: images ``(B, 1, 28, 28)`` in [-1, 1] (and clusters ``(B,)``) -> logits ``(B,)``."""

    def __init__(self, c: StyleGANConfig):
        super().__init__()
        self.clusters = c.clusters
        self.net = dc_discriminator(1 + c.clusters, c.ndf, c.minibatch_std)
        self.net.apply(dcgan_init)

    def forward(self, x: torch.Tensor, cluster: torch.Tensor | None = None) -> torch.Tensor:
        if self.clusters:
            x = torch.cat([x, F.one_hot(cluster, self.clusters).float()[:, :, None, None].expand(-1, -1, 28, 28)], 1)
        return self.net(x).flatten()


class StyleGenerator(nn.Module):
    """Mapping and synthesis together, so the moving average and the optimiser see one generator."""

    def __init__(self, c: StyleGANConfig):
        super().__init__()
        self.mapping = MappingNet(c)
        self.synthesis = SynthesisNet(c)


class StyleGAN(GANBase):
    Config = StyleGANConfig
    trainer = "stylegan"
    # Adam's beta2 = 0.99 (StyleGAN's) and the DCGAN's beta1 = 0.5: with StyleGAN2's beta1 = 0 and lr 2e-3 this
    # small generator collapsed onto one digit within 300 steps (pixel spread across samples 0.12 vs 0.19 here).
    adam_betas = (0.5, 0.99)
    train_defaults = {"epochs": 4, "lr": 1e-3, "batch_size": 64}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config
        if c.cluster_shares and len(c.cluster_shares) != c.clusters:
            raise ValueError(f"cluster_shares needs one share per cluster ({c.clusters}), got {len(c.cluster_shares)}")
        self.generator_net = StyleGenerator(c)
        self.discriminator_net = DCDiscriminator(c) if c.d_arch == "dcgan" else Discriminator(c)
        self.register_buffer("w_avg", torch.zeros(c.w_dim))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))  # generator steps taken (R1, fade-in)

    @property
    def lr_scales(self) -> tuple[float, float]:
        """The learning rate of (discriminator, generator) over the run's ``lr``."""
        return (1.0, self.config.g_lr_scale)

    # -- the API the GAN studio and the evaluation use ---------------------------------------------------

    @property
    def latent_dim(self) -> int:
        return self.config.z_dim

    @property
    def n_styles(self) -> int:
        return self.generator_net.synthesis.n_styles

    @property
    def coarse_styles(self) -> int:
        """How many of the first styles drive the 7x7 block."""
        return 2

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """``(B, z_dim)`` -> w ``(B, w_dim)`` (self-conditioned: z's first number picks the cluster, :meth:`cluster_of`)."""
        return self.generator_net.mapping(z, self.cluster_of(z) if self.config.clusters else None)

    def cluster_of(self, z: torch.Tensor) -> torch.Tensor:
        """The cluster ``(B,)`` a latent ``(B, z_dim)`` asks for: where its first number's normal quantile falls
        among the clusters' cumulative shares (the DCGAN's rule), so the model stays unconditional."""
        return share_bucket(z[:, 0], self.config.cluster_shares or [1.0] * self.config.clusters)

    def truncate(self, w: torch.Tensor, psi: float | None) -> torch.Tensor:
        """w ``(..., w_dim)`` pulled toward ``w_avg``: ``w_avg + psi (w - w_avg)`` (None or >= 1: unchanged)."""
        if psi is None or psi >= 1:
            return w
        return self.w_avg.lerp(w, psi)

    def synthesis(self, ws: torch.Tensor, noise: str = "random", generator: torch.Generator | None = None,
                  noise_gain: torch.Tensor | None = None) -> torch.Tensor:
        """ws ``(B, n_styles, w_dim)`` -> images ``(B, 1, 28, 28)`` in [0, 1]. ``noise``: "random" (drawn from
        ``generator``, else the thread's noise source), "const" (one fixed draw, times ``noise_gain`` when given)
        or "none" (noise inputs off)."""
        return ((self.generator_net.synthesis(ws, noise, generator, noise_gain=noise_gain) + 1) / 2).clamp(0, 1)

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        """w ``(B, w_dim)`` -> ws ``(B, n_styles, w_dim)``, the same style for every layer."""
        return w[:, None].expand(-1, self.n_styles, -1)

    def mix(self, w_a: torch.Tensor, w_b: torch.Tensor, crossover: int) -> torch.Tensor:
        """ws ``(B, n_styles, w_dim)``: the first ``crossover`` styles from ``w_a`` ``(B, w_dim)``, the rest from ``w_b``."""
        ws = self.broadcast(w_a).clone()
        ws[:, crossover:] = w_b[:, None]
        return ws

    @torch.inference_mode()
    def sample(self, n: int, seed: int | None = None, truncation: float | None = None, digit=None, noise: str = "random") -> torch.Tensor:
        """``n`` images ``(n, 1, 28, 28)`` in [0, 1]; the same for a ``seed`` (latents and noise maps alike).
        ``truncation`` psi in W (0: the average digit, None or 1: none). Unconditional: ``digit`` is ignored."""
        z = self.latent(n, seed)  # the latents every GAN draws for this seed (seeded_normal)
        g = torch.Generator().manual_seed(seed) if seed is not None else noise_source()
        ws = self.broadcast(self.truncate(self.mapping(z), truncation))
        return self.synthesis(ws, noise, g)

    # -- what the other GANs' verbs call ------------------------------------------------------------------

    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, z_dim)`` -> images ``(B, 1, 28, 28)`` about [-1, 1] (one w for every style; the latent walk's path).
        The noise inputs are the fixed draw (``noise="const"``): the same latent always gives the same digit, so the
        walk, the interpolation and an exported graph are repeatable."""
        return self.generator_net.synthesis(self.broadcast(self.mapping(z)), noise="const")

    def discriminate(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1] ``(B, 1, 28, 28)`` (and, self-conditioned, their clusters ``(B,)``) -> logits ``(B,)``."""
        return self.discriminator_net(x, y.long() if self.config.clusters else None)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return ((self.generate(z) + 1) / 2).clamp(0, 1)

    # -- training ------------------------------------------------------------------------------------------

    def fade(self) -> tuple[float, float]:
        """With progressive growing, how far the 14x14 and the 28x28 block have faded in at this step."""
        if not self.config.progressive:
            return (1.0, 1.0)
        s, n = float(self.steps), float(self.config.grow_steps)
        return (min(1.0, max(0.0, (s - n) / n)), min(1.0, max(0.0, (s - 3 * n) / n)))

    def seen_resolution(self, x: torch.Tensor) -> torch.Tensor:
        """Real digits ``(B, 1, 28, 28)`` blurred to the resolution the generator draws at this step (progressive)."""
        f14, f28 = self.fade()
        if f28 >= 1:
            return x
        up = lambda t: F.interpolate(t, size=28, mode="bilinear", align_corners=False)  # noqa: E731
        x14 = up(F.avg_pool2d(x, 2))
        x7 = up(F.avg_pool2d(x, 4))
        lo = x7 + f14 * (x14 - x7)  # the same mix as the generator's image sum
        return lo + f28 * (x - x14) if f14 >= 1 else lo

    def _training_ws(self, b: int, device) -> tuple[torch.Tensor, torch.Tensor | None]:
        """ws ``(b, n_styles, w_dim)`` for a training batch, and the clusters ``(b,)`` of its first latents (the
        coarse styles': the digit). Style mixing draws a second latent for a share of the batch (``mixing_prob``)
        and switches to it at a random crossover."""
        z = self.latent(b).to(device)
        cluster = self.cluster_of(z) if self.config.clusters else None
        w = self.mapping(z)
        ws = self.broadcast(w)
        if self.config.mixing_prob > 0:
            w2 = self.mapping(self.latent(b).to(device))
            u = torch.rand(b, generator=noise_source()).to(device) if noise_source() is not None else torch.rand(b, device=device)
            cut = torch.randint(1, self.n_styles, (b,), generator=noise_source()).to(device) if noise_source() is not None \
                else torch.randint(1, self.n_styles, (b,), device=device)
            cut = torch.where(u < self.config.mixing_prob, cut, torch.full_like(cut, self.n_styles))
            later = torch.arange(self.n_styles, device=device)[None, :] >= cut[:, None]  # (b, n_styles)
            ws = torch.where(later[:, :, None], w2[:, None], ws)
        return ws, cluster

    def _fake(self, b: int, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Generated digits ``(b, 1, 28, 28)`` in about [-1, 1], their ws and their clusters."""
        ws, cluster = self._training_ws(b, device)
        return self.generator_net.synthesis(ws, fade=self.fade()), ws, cluster

    def discriminator_loss(self, batch) -> dict[str, torch.Tensor]:
        """The non-saturating logistic loss of the discriminator: softplus(D(fake)) + softplus(-D(real))."""
        x, y = batch  # y: the real digits' clusters when self-conditioned (the recipe step sets them)
        real = self.seen_resolution(x * 2 - 1)
        with torch.no_grad():
            fake, _, c_fake = self._fake(len(x), x.device)
        d_real, d_fake = self.discriminate(real, y), self.discriminate(fake, c_fake)
        loss = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        return {"loss": loss, "d_loss": loss.detach(), "d_real": torch.sigmoid(d_real).mean().detach(),
                "d_fake": torch.sigmoid(d_fake).mean().detach()}

    def r1_penalty(self, batch) -> dict[str, torch.Tensor]:
        """R1 (Mescheder et al. 2018): gamma/2 times the squared gradient of D at real digits, times ``r1_every``
        because it is taken only every ``r1_every`` steps. Keeps D from growing sharp around the data."""
        x, y = batch
        real = self.seen_resolution(x * 2 - 1).detach().requires_grad_(True)
        d_real = self.discriminate(real, y)
        (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
        r1 = grad.square().sum((1, 2, 3)).mean()
        loss = self.config.r1_gamma / 2 * r1 * self.config.r1_every
        return {"loss": loss, "r1": r1.detach()}

    def r1_due(self) -> bool:
        return self.config.r1_gamma > 0 and int(self.steps) % self.config.r1_every == 0

    def generator_loss(self, batch) -> dict[str, torch.Tensor]:
        """The non-saturating generator loss softplus(-D(G(z)))."""
        x, _ = batch
        fake, ws, cluster = self._fake(len(x), x.device)
        loss = F.softplus(-self.discriminate(fake, cluster)).mean()
        self._last_w = ws[:, 0].detach()
        return {"loss": loss, "g_loss": loss.detach()}

    def loss(self, batch) -> dict[str, torch.Tensor]:
        d, g = self.discriminator_loss(batch), self.generator_loss(batch)
        return {"loss": g["loss"], "g_loss": g["g_loss"], "d_loss": d["d_loss"], "d_real": d["d_real"], "d_fake": d["d_fake"]}

    def ema_decay(self) -> float:
        """``ema``, ramped up as (1 + t) / (10 + t) over the steps t: early on the average follows the generator
        instead of keeping a share of its random initial weights (0.998^800 = 20 % of them at step 800)."""
        t = float(self.steps)
        return min(self.config.ema, (1.0 + t) / (10.0 + t)) if self.config.ema else 0.0

    @torch.no_grad()
    def after_generator_step(self) -> None:
        """The moving averages (generator weights, w) and the step count."""
        super().after_generator_step()
        w = getattr(self, "_last_w", None)
        if w is not None:
            self.w_avg.lerp_(w.mean(0), 1.0 - self.config.w_avg_beta)
        self.steps += 1

    def finish_training(self, n_batches: int = 0, batch_size: int = 0) -> None:
        """The averaged weights become the generator (there is no batch norm to re-estimate)."""
        super().finish_training(n_batches=0)
        self.eval()
