"""The inference fast path the app calls: exact, eval-only rewrites of a trained model (``optimize``), the same
class with the same verbs, run under ``torch.inference_mode`` by the app.

    fast_model = fast.optimize(model)   # a copy; model.encode/decode/reconstruct and the copy's agree

What the rewrite does (``optimize``), each step exact up to float rounding (tests/test_fast.py):
- folds every eval-mode BatchNorm into the convolution / linear layer before it;
- turns a transposed convolution on a 1x1 input (the DCGAN's first layer) into a Linear layer;
- turns a ``ConvTranspose2d(k=4, s=2, p=1)`` with few output channels (the layer that writes the image)
  into a 3x3 convolution to 4x the channels followed by ``PixelShuffle(2)`` ("sub-pixel" form). PyTorch's
  CPU transposed convolution spends most of its time scattering columns back (col2im) when there are few
  output channels; with many, the 3x3 form's 2.25x multiply-adds cost more than that, so those stay.

The model passed in is never modified: the fast path works on a copy (the models are a few MB).
The alternatives (TorchScript, torch.compile, channels-last, ONNX Runtime) are measured side by side in
``bench/inference.py`` (their builders are ``bench/variants.py``); bench/RESULTS.md has the figures.
"""
from __future__ import annotations

import copy

import torch
import torch.nn as nn

__all__ = ["optimize", "subpixel", "fold_batchnorm"]

SUBPIXEL_MAX_OUT = 4  # rewrite k4/s2/p1 transposed convolutions with at most this many output channels


def fold_batchnorm(layer: nn.Module, bn: nn.BatchNorm1d | nn.BatchNorm2d) -> nn.Module:
    """A copy of ``layer`` (Linear, Conv2d or ConvTranspose2d) with the eval-mode ``bn`` after it folded in."""
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps) if bn.affine else 1 / torch.sqrt(bn.running_var + bn.eps)
    shift = (bn.bias.detach() if bn.affine else 0) - bn.running_mean * scale
    out = copy.deepcopy(layer)
    w = out.weight.detach()
    if isinstance(layer, nn.ConvTranspose2d):  # weight (Cin, Cout/groups, kh, kw): output channels on dim 1
        if layer.groups != 1:
            raise ValueError("fold_batchnorm: grouped transposed convolutions are not supported")
        w = w * scale[None, :, None, None]
    else:  # Linear (Cout, Cin), Conv2d (Cout, Cin, kh, kw)
        w = w * scale.reshape(-1, *([1] * (w.dim() - 1)))
    bias = layer.bias.detach() * scale + shift if layer.bias is not None else shift
    out.weight = nn.Parameter(w, requires_grad=False)
    out.bias = nn.Parameter(bias.clone(), requires_grad=False)
    return out


def subpixel(ct: nn.ConvTranspose2d) -> nn.Sequential:
    """``ConvTranspose2d(cin, cout, 4, stride=2, padding=1)`` as ``Conv2d(cin, 4 cout, 3, padding=1)``
    then ``PixelShuffle(2)``: the same function of ``(B, cin, H, W)`` -> ``(B, cout, 2H, 2W)``.

    Output pixel ``(2i+a, 2j+b)`` reads input rows ``i-1..i+1``; row offset ``u`` (0..2) meets kernel row
    ``kh = a + 3 - 2u`` (taps outside 0..3 are zero), and likewise for columns.
    """
    if not (ct.kernel_size == (4, 4) and ct.stride == (2, 2) and ct.padding == (1, 1) and ct.output_padding == (0, 0)
            and ct.dilation == (1, 1) and ct.groups == 1):
        raise ValueError(f"subpixel: expected ConvTranspose2d(k=4, s=2, p=1, groups=1), got {ct}")
    w = ct.weight.detach()  # (cin, cout, 4, 4)
    cin, cout = w.shape[:2]
    k = w.new_zeros(cout, 2, 2, cin, 3, 3)  # channel order (o, a, b) is what PixelShuffle(2) expects
    for a in range(2):
        for u in range(3):
            kh = a + 3 - 2 * u
            if not 0 <= kh < 4:
                continue
            for b in range(2):
                for v in range(3):
                    kw = b + 3 - 2 * v
                    if 0 <= kw < 4:
                        k[:, a, b, :, u, v] = w[:, :, kh, kw].t()
    conv = nn.Conv2d(cin, 4 * cout, 3, 1, 1, bias=ct.bias is not None)
    conv.weight = nn.Parameter(k.reshape(4 * cout, cin, 3, 3), requires_grad=False)
    if ct.bias is not None:
        conv.bias = nn.Parameter(ct.bias.detach().repeat_interleave(4), requires_grad=False)
    return nn.Sequential(conv, nn.PixelShuffle(2))


def _point_deconv(unflatten: nn.Unflatten, ct: nn.ConvTranspose2d) -> nn.Sequential:
    """``Unflatten(1, (C, 1, 1))`` then ``ConvTranspose2d(C, O, k, stride=1, padding=0)`` is a Linear
    layer ``C -> O*k*k`` reshaped to ``(O, k, k)``."""
    cin, cout, kh, kw = ct.weight.shape
    lin = nn.Linear(cin, cout * kh * kw, bias=True)
    lin.weight = nn.Parameter(ct.weight.detach().reshape(cin, -1).t().contiguous(), requires_grad=False)
    bias = ct.bias.detach() if ct.bias is not None else ct.weight.new_zeros(cout)
    lin.bias = nn.Parameter(bias.repeat_interleave(kh * kw), requires_grad=False)
    return nn.Sequential(lin, nn.Unflatten(1, (cout, kh, kw)))


def _rewrite_sequential(seq: nn.Sequential) -> nn.Sequential:
    mods = list(seq)
    out: list[nn.Module] = []
    i = 0
    while i < len(mods):
        m = mods[i]
        nxt = mods[i + 1] if i + 1 < len(mods) else None
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)) and isinstance(nxt, (nn.BatchNorm1d, nn.BatchNorm2d)) \
                and nxt.track_running_stats and nxt.running_mean is not None:
            mods[i + 1] = fold_batchnorm(m, nxt)  # the folded layer replaces the pair; look at it again
            i += 1
            continue
        if isinstance(m, nn.Unflatten) and isinstance(nxt, nn.ConvTranspose2d) and tuple(m.unflattened_size)[1:] == (1, 1) \
                and nxt.stride == (1, 1) and nxt.padding == (0, 0) and nxt.groups == 1 and nxt.dilation == (1, 1):
            # Keep the transposed conv in place so a BatchNorm after it can still be folded.
            lin_seq = _point_deconv(m, nxt)
            j = i + 2
            if j < len(mods) and isinstance(mods[j], nn.BatchNorm2d):
                lin_seq = _point_deconv(m, fold_batchnorm(nxt, mods[j]))
                j += 1
            out.extend(lin_seq)
            i = j
            continue
        if isinstance(m, nn.ConvTranspose2d) and m.kernel_size == (4, 4) and m.stride == (2, 2) and m.padding == (1, 1) \
                and m.output_padding == (0, 0) and m.groups == 1 and m.dilation == (1, 1) and m.out_channels <= SUBPIXEL_MAX_OUT:
            if isinstance(nxt, nn.BatchNorm2d):
                m = fold_batchnorm(m, nxt)
                i += 1
            out.extend(subpixel(m))
            i += 1
            continue
        out.append(optimize(m, copy_model=False))
        i += 1
    return nn.Sequential(*out)


def optimize(model: nn.Module, copy_model: bool = True) -> nn.Module:
    """An eval-mode copy of ``model`` with the exact rewrites above applied to every ``nn.Sequential``."""
    model = copy.deepcopy(model) if copy_model else model
    model.eval()
    for name, child in list(model.named_children()):
        if isinstance(child, nn.Sequential):
            setattr(model, name, _rewrite_sequential(child))
        else:
            optimize(child, copy_model=False)
    for p in model.parameters():
        p.requires_grad_(False)
    return model
