"""The networks the page runs, as ONNX graphs for onnxruntime-web: decoders, generators and the classifier.

    python -m rep_models.onnx_export                   # every shipped model with the catalogue role "in_page" -> artifacts/onnx/
    python -m rep_models.onnx_export --only vae --out DIR

A VAE slider, a GAN grid or a latent walk that waits for the server cannot feel live; these networks are a few
million multiplies and run in a millisecond or two in the page (``ui/js/ort_runtime.js``, onnxruntime-web, one
thread). Each graph has the same plain signature, whatever the model:

- a decoder or generator: ``z`` (B, d) float32, and ``y`` (B,) int64 (the digit) for a conditional model, to
  ``x`` (B, 28, 28) float32 in [0, 1] (the model's ``decode``);
- a style-based generator: ``z`` (B, d), ``psi`` (1,) (truncation in W, 1: none) and ``noise`` (1,) (the fixed
  noise maps on, 1, or off, 0) to ``x``;
- the classifier: ``x`` (B, 28, 28) to ``p`` (B, 10), the softmax probabilities.

The app makes each graph from the shipped weights when a page first needs it (:func:`export_bytes`, tens of
milliseconds, cached by ``ui.live.net_blob`` and made ahead by the warm-up), so nothing is shipped twice and no
export can go stale after a retrain: the ONNX files would double ``pretrained/`` (25 MB). The command above writes
the same bytes to files, for use elsewhere. Exported from the app's fast path (``rep_models.fast.optimize``: batch
norm folded, the DCGAN's first transposed convolution as a linear layer, its last in sub-pixel form), exact
rewrites that onnxruntime-web runs faster too: the DCGAN's 64 samples took 108 ms in Chromium from the plain
layers, most of it in the first layer. float32, opset :data:`OPSET`, batch size free; the same weights give the
same bytes.
"""
from __future__ import annotations

import argparse
import io
import threading
import warnings
from pathlib import Path

import torch
import torch.nn as nn

from . import catalogue, checkpoint, fast
from .codes import latent_dim
from .style_mixing import is_style_based

OPSET = 17
ROLE = "in_page"
# torch.onnx.export keeps its state in module globals: two exports at once (the warm-up and a page) fail with
# "GLOBALS.in_onnx_export must be False", so the server makes one at a time.
_EXPORT_LOCK = threading.Lock()
OUT_DIR = Path("artifacts") / "onnx"  # the command's default folder (ignored by git)


class DecoderGraph(nn.Module):
    """``z (B, d)`` [, ``y (B,)`` int64] -> ``x (B, 28, 28)`` in [0, 1]: the model's ``decode``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.decode(z, y)[:, 0]


class StyleGraph(nn.Module):
    """A style-based generator: ``z (B, d)``, ``psi (1,)`` (truncation in W, 1: none) and ``noise (1,)`` (the fixed
    noise maps' gain: 1 on, 0 off) -> ``x (B, 28, 28)`` in [0, 1], the same as ``style_samples(..., noise="const" or
    "none")`` for the same latents."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, psi: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        m = self.model
        w = m.w_avg + psi * (m.mapping(z) - m.w_avg)
        return m.synthesis(m.broadcast(w), noise="const", noise_gain=noise)[:, 0]


class ClassifierGraph(nn.Module):
    """``x (B, 28, 28)`` in [0, 1] -> ``p (B, 10)``: the classifier's softmax."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(x[:, None]), dim=1)


def is_conditional(model) -> bool:
    """Whether the model's decoder takes the digit (a CVAE, the class-conditional GAN)."""
    return bool(getattr(model, "conditional", False) or getattr(model.config, "n_classes", 0)) and model.family != "classifier"


def signature(name: str, model) -> dict:
    """What the page needs to know to run model ``name``'s graph: its inputs, output and code size."""
    if name == "classifier":
        return {"kind": "classifier", "inputs": ["x"], "output": "p", "latent_dim": None, "conditional": False}
    cond = is_conditional(model)
    style = is_style_based(model)
    return {"kind": "decoder", "inputs": ["z", "psi", "noise"] if style else ["z", "y"] if cond else ["z"], "output": "x",
            "latent_dim": latent_dim(model), "conditional": cond, "style": style}


def export_bytes(name: str, model) -> bytes:
    """Model ``name`` (loaded) as ONNX bytes; ``model`` itself is left as it is (the rewrites work on a copy)."""
    model = fast.optimize(model).cpu()
    sig = signature(name, model)
    if sig["kind"] == "classifier":
        graph, args = ClassifierGraph(model), (torch.rand(2, 28, 28),)
    elif sig["style"]:
        graph, args = StyleGraph(model), (torch.randn(2, sig["latent_dim"]), torch.tensor([0.7]), torch.tensor([1.0]))
    else:
        graph = DecoderGraph(model)
        args = (torch.randn(2, sig["latent_dim"]),) + ((torch.tensor([1, 2]),) if sig["conditional"] else ())
    names = sig["inputs"]
    buf = io.BytesIO()
    with _EXPORT_LOCK, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        batched = [n for n in names if n not in ("psi", "noise")]  # a style graph's psi and noise: one number each
        torch.onnx.export(graph, args, buf, input_names=names, output_names=[sig["output"]], opset_version=OPSET,
                          dynamic_axes={**{n: {0: "batch"} for n in batched}, sig["output"]: {0: "batch"}}, dynamo=False)
    return buf.getvalue()


def exportable() -> list[str]:
    """The shipped models with role :data:`ROLE`."""
    return [n for n in catalogue.with_role(ROLE) if checkpoint.is_shipped(n)]


def export(names: list[str] | None = None, out: Path = OUT_DIR) -> dict[str, dict]:
    """Write ``out/NAME.onnx`` for ``names`` (default: :func:`exportable`); returns ``{name: signature + file}``."""
    names = names or exportable()
    unknown = [n for n in names if n not in catalogue.with_role(ROLE)]
    if unknown:
        raise ValueError(f"not exportable (no {ROLE!r} role in the catalogue): {unknown}; expected some of {catalogue.with_role(ROLE)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in names:
        model = checkpoint.load_pretrained(name)
        blob = export_bytes(name, model)
        (out / f"{name}.onnx").write_bytes(blob)
        written[name] = {"file": str(out / f"{name}.onnx"), **signature(name, model)}
        print(f"{name}: {len(blob) / 1e6:.2f} MB -> {out / f'{name}.onnx'}")
    return written


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", metavar="NAME", help=f"models to export (default: every shipped one with role {ROLE!r})")
    p.add_argument("--out", type=Path, default=OUT_DIR, help=f"where to write the files (default: {OUT_DIR})")
    a = p.parse_args(argv)
    export(a.only, a.out)


if __name__ == "__main__":
    main()
