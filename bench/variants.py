"""Measurement variants of the app's fast path, for bench/inference.py and bench/memory.py: callables over
``rep_models.fast.optimize`` run under ``torch.inference_mode`` (what the app does) or by ONNX Runtime
(``backend="onnxruntime"``; needs the onnx and onnxruntime packages, falls back to torch when they are missing,
the export fails or the outputs differ). The app itself calls ``fast.optimize`` only.

    dec = variants.decoder(model)        # z (B, d) [, y (B,)] -> images (B, 1, 28, 28) in [0, 1]
    enc = variants.encoder(model)        # x (B, 1, 28, 28) [, y] -> codes (B, d)
    rec = variants.reconstructor(model)  # x [, y] -> reconstructions (B, 1, 28, 28)
    prob = variants.classifier(model)    # x -> class probabilities (B, 10)
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn

from rep_models.fast import optimize

BACKEND = "torch"


def _inference(fn: Callable) -> Callable:
    def run(*args, **kwargs):
        with torch.inference_mode():
            return fn(*args, **kwargs)

    run.__doc__ = fn.__doc__
    return run


class Call(nn.Module):
    """A module whose forward is ``fn(*inputs)``: what jit.trace and the ONNX exporter need."""

    def __init__(self, owner: nn.Module, fn: Callable):
        super().__init__()
        self.owner, self.fn = owner, fn

    def forward(self, *args):
        return self.fn(*args)


def _onnx(owner: nn.Module, fn: Callable, sample: tuple[torch.Tensor, ...], threads: int | None = None) -> Callable | None:
    """``fn`` exported to ONNX and run by ONNX Runtime, checked against torch on ``sample``; None when
    the packages are missing, the export fails or the outputs differ."""
    try:
        import io

        import onnxruntime as ort
    except ImportError:
        return None
    names = [f"in{i}" for i in range(len(sample))]
    try:
        buf = io.BytesIO()
        torch.onnx.export(Call(owner, fn).eval(), sample, buf, input_names=names, output_names=["out"],
                          dynamic_axes={**{n: {0: "batch"} for n in names}, "out": {0: "batch"}}, dynamo=False)
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads or torch.get_num_threads()
        so.inter_op_num_threads = 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads must not burn the server's CPU
        sess = ort.InferenceSession(buf.getvalue(), so, providers=["CPUExecutionProvider"])
    except Exception:  # noqa: BLE001 - any export/session failure: use torch instead
        return None

    def run(*inputs: torch.Tensor) -> torch.Tensor:
        feed = {n: t.detach().cpu().contiguous().numpy() for n, t in zip(names, inputs, strict=True)}
        return torch.from_numpy(sess.run(None, feed)[0])

    try:
        with torch.inference_mode():
            same = torch.allclose(run(*sample), fn(*sample), rtol=1e-4, atol=1e-5)
    except Exception:  # noqa: BLE001 - e.g. a model whose output is a list (the U-Net's feature maps)
        return None
    return run if same else None


def _build(model: nn.Module, method: str, backend: str | None, post: Callable | None = None) -> Callable:
    """The fast callable for ``model.<method>`` (+ ``post`` on its output) with optional trailing ``y``."""
    fast = optimize(model)
    fn = getattr(fast, method) if method != "__call__" else fast
    full = (lambda *a: post(fn(*a))) if post is not None else fn
    backend = backend or BACKEND
    device = next(fast.parameters()).device
    if backend == "onnxruntime" and device.type == "cpu":
        sessions: dict[int, Callable | None] = {}

        def run(*inputs):
            inputs = tuple(t for t in inputs if t is not None)
            n = len(inputs)
            if n not in sessions:  # one session per arity (with / without labels), built on first use
                sample = tuple(t[:1].expand(2, *t.shape[1:]).contiguous() for t in inputs)  # batch 2: keeps the batch axis dynamic
                sessions[n] = _onnx(fast, full, sample)
            if sessions[n] is None:
                with torch.inference_mode():
                    return full(*inputs)
            return sessions[n](*inputs)

        return run
    if backend not in ("torch", "onnxruntime"):
        raise ValueError(f"backend must be 'torch' or 'onnxruntime', got {backend!r}")
    return _inference(full)


def decoder(model: nn.Module, backend: str | None = None) -> Callable[..., torch.Tensor]:
    """``f(z, y=None)``: codes ``(B, d)`` (and labels ``(B,)`` for conditional models) -> images
    ``(B, 1, 28, 28)`` in [0, 1], computed by the optimised copy."""
    return _build(model, "decode", backend)


def encoder(model: nn.Module, backend: str | None = None) -> Callable[..., torch.Tensor]:
    """``f(x, y=None)``: images ``(B, 1, 28, 28)`` -> codes ``(B, d)`` (the VAE's posterior mean)."""
    return _build(model, "encode", backend)


def reconstructor(model: nn.Module, backend: str | None = None) -> Callable[..., torch.Tensor]:
    """``f(x, y=None)``: images -> reconstructions ``(B, 1, 28, 28)`` clipped to [0, 1]."""
    return _build(model, "__call__", backend, post=lambda out: out.clamp(0, 1))


def classifier(model: nn.Module, backend: str | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """``f(x)``: images -> class probabilities ``(B, 10)``."""
    return _build(model, "__call__", backend, post=lambda out: torch.softmax(out, dim=1))
