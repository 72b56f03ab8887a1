"""Small feed-forward networks as a flat program the browser can run: decoders and the classifier in JavaScript.

A VAE slider that waits for the server cannot feel live (a round trip per move); a 7-million-multiply
decoder runs in a few milliseconds in the page. :func:`export` turns a chain of standard layers into

- ``ops``: a list of dicts, one per step (``linear``, ``conv``, ``convT``, ``affine``, ``relu``, ``lrelu``,
  ``tanh``, ``sigmoid``, ``maxpool``, ``reshape``, ``scale``, ``softmax``), with offsets into
- ``weights``: one flat float16 array (half the bytes; the images move by well under 1/255 on average).

:func:`run` is the reference interpreter (PyTorch ops over the float16 weights): the browser's interpreter
(``ui/js/netrun.js``) must match it, and it must match the model (``tests/test_webexport.py``).
:func:`pack` / :func:`unpack` give the one binary blob sent to the browser.

Layouts follow PyTorch: linear ``(out, in)``; conv ``(cout, cin, k, k)``; transposed conv ``(cin, cout, k, k)``;
activations are ``(C, H, W)`` row-major, one sample at a time.
"""
from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MAGIC = b"LLW1"


@dataclass
class Program:
    ops: list[dict]
    weights: np.ndarray  # (P,) float16
    in_shape: list[int]  # e.g. [32] for a code, [1, 28, 28] for an image
    out_shape: list[int]

    @property
    def nbytes(self) -> int:
        return int(self.weights.nbytes)


class _Builder:
    def __init__(self, in_shape: list[int]):
        self.ops: list[dict] = []
        self.chunks: list[np.ndarray] = []
        self.size = 0
        self.shape = list(in_shape)

    def add(self, t: torch.Tensor) -> int:
        a = t.detach().float().cpu().numpy().astype(np.float16).ravel()
        off = self.size
        self.chunks.append(a)
        self.size += a.size
        return off

    def op(self, **kw) -> None:
        self.ops.append(kw)


def _conv_out(n: int, k: int, s: int, p: int, transposed: bool) -> int:
    return (n - 1) * s - 2 * p + k if transposed else (n + 2 * p - k) // s + 1


def export(layers: Iterable[nn.Module], in_shape: list[int], post: str | None = None) -> Program:
    """A chain of ``layers`` applied to one input of shape ``in_shape`` -> :class:`Program`.

    ``post``: ``"sigmoid"`` (logits to [0, 1]), ``"tanh01"`` (a tanh output mapped to [0, 1]) or ``"softmax"``.
    Raises ``ValueError`` naming any layer it cannot translate. Dropout is skipped (inference).
    """
    b = _Builder(in_shape)
    for m in layers:
        _layer(b, m)
    if post == "sigmoid":
        b.op(op="sigmoid")
    elif post == "tanh01":
        b.op(op="scale", a=0.5, b=0.5)
    elif post == "softmax":
        b.op(op="softmax")
    elif post is not None:
        raise ValueError(f"post must be 'sigmoid', 'tanh01', 'softmax' or None, got {post!r}")
    w = np.concatenate(b.chunks) if b.chunks else np.zeros(0, np.float16)
    return Program(ops=b.ops, weights=w, in_shape=list(in_shape), out_shape=b.shape)


def _layer(b: _Builder, m: nn.Module) -> None:
    shape = b.shape
    if isinstance(m, nn.Sequential):
        for sub in m:
            _layer(b, sub)
    elif isinstance(m, nn.Linear):
        n_in = int(np.prod(shape))
        if n_in != m.in_features:
            raise ValueError(f"Linear expects {m.in_features} inputs, the program has shape {shape}")
        b.op(op="linear", n_in=m.in_features, n_out=m.out_features, w=b.add(m.weight), b=None if m.bias is None else b.add(m.bias))
        b.shape = [m.out_features]
    elif isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        transposed = isinstance(m, nn.ConvTranspose2d)
        (k, k2), (s, s2), (p, p2) = m.kernel_size, m.stride, m.padding
        if len(shape) != 3 or k != k2 or s != s2 or p != p2 or m.groups != 1 or m.dilation != (1, 1) \
                or (transposed and m.output_padding != (0, 0)):
            raise ValueError(f"unsupported {type(m).__name__} {m} on input shape {shape} (square, ungrouped, undilated only)")
        c, h, w = shape
        ho, wo = (_conv_out(n, k, s, p, transposed) for n in (h, w))
        b.op(op="convT" if transposed else "conv", cin=c, cout=m.out_channels, h=h, w=w, k=k, stride=s, pad=p,
             weight=b.add(m.weight), bias=None if m.bias is None else b.add(m.bias))
        b.shape = [m.out_channels, ho, wo]
    elif isinstance(m, nn.BatchNorm2d):
        scale = m.weight / torch.sqrt(m.running_var + m.eps)
        b.op(op="affine", c=shape[0], scale=b.add(scale), shift=b.add(m.bias - m.running_mean * scale))
    elif isinstance(m, nn.ReLU):
        b.op(op="relu")
    elif isinstance(m, nn.LeakyReLU):
        b.op(op="lrelu", slope=float(m.negative_slope))
    elif isinstance(m, nn.Tanh):
        b.op(op="tanh")
    elif isinstance(m, nn.Sigmoid):
        b.op(op="sigmoid")
    elif isinstance(m, nn.MaxPool2d):
        if m.kernel_size != m.stride or m.padding != 0:
            raise ValueError(f"unsupported {m}: only kernel == stride, no padding")
        k = int(m.kernel_size)
        b.op(op="maxpool", k=k, c=shape[0], h=shape[1], w=shape[2])
        b.shape = [shape[0], shape[1] // k, shape[2] // k]
    elif isinstance(m, nn.Flatten):
        b.shape = [int(np.prod(shape))]
        b.op(op="reshape", shape=b.shape)
    elif isinstance(m, nn.Unflatten):
        b.shape = [int(v) for v in m.unflattened_size]
        b.op(op="reshape", shape=b.shape)
    elif isinstance(m, nn.Dropout):
        pass
    else:
        raise ValueError(f"cannot export layer {type(m).__name__} ({m})")


def decoder_program(model) -> Program:
    """A VAE's decoder, code ``(latent_dim,)`` -> image ``(1, 28, 28)`` in [0, 1]. Unconditional VAEs only."""
    c = model.config
    if getattr(c, "n_classes", 0):
        raise ValueError("conditional VAEs take the label inside the decoder: not exportable as a plain chain")
    return export([model.from_code, *model.generator], [c.latent_dim], post="sigmoid")


def classifier_program(model) -> Program:
    """The digit classifier, image ``(1, 28, 28)`` -> probabilities ``(10,)``."""
    return export([model.body, model.head], [1, 28, 28], post="softmax")


def run(program: Program, x) -> np.ndarray:
    """Reference interpreter: the program applied to one input ``in_shape`` -> ``out_shape`` (float32 numpy)."""
    w = torch.from_numpy(program.weights.astype(np.float32))

    def take(off, n):
        return w[off : off + n]

    h = torch.as_tensor(np.asarray(x, dtype=np.float32)).reshape(program.in_shape)
    for o in program.ops:
        kind = o["op"]
        if kind == "linear":
            W = take(o["w"], o["n_out"] * o["n_in"]).reshape(o["n_out"], o["n_in"])
            h = W @ h.reshape(-1) + (0 if o["b"] is None else take(o["b"], o["n_out"]))
        elif kind in ("conv", "convT"):
            shape = (o["cout"], o["cin"]) if kind == "conv" else (o["cin"], o["cout"])
            W = take(o["weight"], o["cin"] * o["cout"] * o["k"] ** 2).reshape(*shape, o["k"], o["k"])
            bias = None if o["bias"] is None else take(o["bias"], o["cout"])
            f = F.conv2d if kind == "conv" else F.conv_transpose2d
            h = f(h[None], W, bias, stride=o["stride"], padding=o["pad"])[0]
        elif kind == "affine":
            h = h * take(o["scale"], o["c"])[:, None, None] + take(o["shift"], o["c"])[:, None, None]
        elif kind == "relu":
            h = h.clamp_min(0)
        elif kind == "lrelu":
            h = torch.where(h > 0, h, o["slope"] * h)
        elif kind == "tanh":
            h = torch.tanh(h)
        elif kind == "sigmoid":
            h = torch.sigmoid(h)
        elif kind == "maxpool":
            h = F.max_pool2d(h[None], o["k"])[0]
        elif kind == "reshape":
            h = h.reshape(o["shape"])
        elif kind == "scale":
            h = h * o["a"] + o["b"]
        elif kind == "softmax":
            h = torch.softmax(h.reshape(-1), 0)
        else:
            raise ValueError(f"unknown op {kind!r}")
    return h.reshape(program.out_shape).numpy()


def pack(program: Program, name: str) -> bytes:
    """One blob: ``LLW1``, a little-endian uint32 header length, the JSON header (padded to 4 bytes), float16 weights."""
    header = json.dumps({"name": name, "ops": program.ops, "in_shape": program.in_shape, "out_shape": program.out_shape,
                         "n_weights": int(program.weights.size)}).encode()
    header += b" " * (-len(header) % 4)
    return MAGIC + struct.pack("<I", len(header)) + header + program.weights.astype("<f2").tobytes()


def unpack(blob: bytes) -> tuple[str, Program]:
    """Inverse of :func:`pack`: ``(name, program)``. Raises ``ValueError`` on a malformed blob."""
    if len(blob) < 8 or blob[:4] != MAGIC:
        raise ValueError("not a Latent Lab network blob (magic LLW1 missing)")
    (n,) = struct.unpack("<I", blob[4:8])
    head = json.loads(blob[8 : 8 + n])
    w = np.frombuffer(blob[8 + n :], dtype="<f2")
    if w.size != head["n_weights"]:
        raise ValueError(f"blob holds {w.size} weights, its header says {head['n_weights']}")
    return head["name"], Program(head["ops"], w.astype(np.float16), head["in_shape"], head["out_shape"])
