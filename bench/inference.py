"""Inference latency of every shipped model, the app's fast path against the obvious alternatives.

    python -m bench.inference                # all shipped models, CPU (and CUDA when present)
    python -m bench.inference --quick        # a smoke run: few repeats, no torch.compile
    python -m bench.inference --device cuda  # the GPU rows only (cpu: the CPU rows only)

GPU rows (the bars and the every-model table again, headed ``(cuda)``, with the GPU's name) appear only when
the script runs on a machine with CUDA (``torch.cuda.is_available()``); on a CPU-only machine there are none,
and ``--device cuda`` stops with an error. On the GPU every timed call ends with ``torch.cuda.synchronize()``
(``sync``), so a time is the kernels' and not only their launch; the ONNX Runtime, TorchScript, denormal,
thread-count and torch.compile measurements are CPU-only.

Per model, one drawing (batch 1) and a batch of 64, for its main verb (encode+decode for autoencoders
and VAEs, generate for GANs, class probabilities for classifiers). Variants:

- ``plain``: the model's own methods under ``torch.no_grad`` (batch 64: 64 eager per-sample calls);
- ``plain_batched``: the same, one call for the 64;
- ``inference_mode``: one call under ``torch.inference_mode``;
- ``no_flush_denormal``: the same with denormal floats not flushed to zero (``rep_models`` flushes them at
  import: on x86 they take a slow microcode path, 10-20x slower for the shipped VAE's decoder);
- ``channels_last``: the same with model and input in channels-last memory format (conv models);
- ``fast``: ``rep_models.fast`` (batch-norm folding, sub-pixel transposed convolutions, inference_mode);
- ``jit``: ``torch.jit.trace`` + ``freeze`` + ``optimize_for_inference`` of the plain model;
- ``ort``: the plain model exported to ONNX and run by ONNX Runtime (when installed), including the
  tensor <-> numpy conversions; ``fast_ort``: the same with ``backend="onnxruntime"`` (``bench/variants.py``);
- ``compile``: ``torch.compile`` (inductor) for the two bar figures, with its compile time.

Then the bars: decode of one latent per VAE, DCGAN batch of 64, GAN samples/s at batch 1, 64, 1024,
and the effect of ``torch.set_num_threads``.
"""
from __future__ import annotations

import argparse
import io
import time
import warnings
from collections.abc import Callable

import torch
import torch.nn as nn

from bench import variants as fastpaths
from bench.common import header, interleaved_ms, load_models, median_ms, passfail, table, write_section
from bench.variants import Call
from rep_models import fast
from rep_models.device import describe

warnings.filterwarnings("ignore")  # TorchScript / ONNX exporter deprecation chatter

try:
    import onnxruntime as ort
except ImportError:  # optional: the ONNX Runtime column is skipped
    ort = None

CONV = ("conv_ae", "denoising_ae", "vae", "vae_2d", "beta_vae", "cvae", "dcgan", "cdcgan", "classifier")


def verb(name: str, m: nn.Module) -> tuple[str, Callable, Callable[[int], tuple]]:
    """(op name, fn(model, *inputs), make_inputs(batch)) for the model's main verb in the app."""
    fam = m.family
    x = lambda b: torch.rand(b, 1, 28, 28)
    if fam == "gan":
        cond = m.conditional
        return "generate", (lambda mm, *a: mm.decode(*a)), (lambda b: (torch.randn(b, m.config.z_dim),) + ((torch.arange(b) % 10,) if cond else ()))
    if fam == "classifier":
        return "classify", (lambda mm, xx: torch.softmax(mm(xx), 1)), (lambda b: (x(b),))
    if fam == "encoder":  # no decoder (the contrastive encoder): its verb is encode
        return "encode", (lambda mm, xx: mm.encode(xx)), (lambda b: (x(b),))
    if fam == "vae" and m.config.n_classes:
        return "encode+decode", (lambda mm, xx, yy: mm.decode(mm.encode(xx, yy), yy)), (lambda b: (x(b), torch.arange(b) % 10))
    return "encode+decode", (lambda mm, xx: mm.decode(mm.encode(xx))), (lambda b: (x(b),))


def fast_fn(name: str, m: nn.Module, backend: str = "torch") -> Callable:
    """The app's fast path for the model's verb."""
    fam = m.family
    if fam == "gan":
        return fastpaths.decoder(m, backend)
    if fam == "classifier":
        return fastpaths.classifier(m, backend)
    if fam == "encoder":
        return fastpaths.encoder(m, backend)
    return fastpaths.reconstructor(m, backend)


def onnx_session(module: nn.Module, inputs: tuple, threads: int):
    """An ONNX Runtime session for ``module`` (dynamic batch); None when onnxruntime is missing."""
    if ort is None:
        return None
    names = [f"in{i}" for i in range(len(inputs))]
    buf = io.BytesIO()
    torch.onnx.export(module.eval(), inputs, buf, input_names=names, output_names=["out"],
                      dynamic_axes={**{n: {0: "b"} for n in names}, "out": {0: "b"}}, dynamo=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(buf.getvalue(), so, providers=["CPUExecutionProvider"])
    return lambda *a: torch.from_numpy(sess.run(None, {n: t.numpy() for n, t in zip(names, a, strict=True)})[0])


def jit_module(module: nn.Module, inputs: tuple) -> Callable:
    with torch.no_grad():
        traced = torch.jit.trace(module.eval(), inputs, check_trace=False)
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
    return frozen


def variants(name: str, m: nn.Module, device: torch.device, threads: int) -> tuple[str, dict]:
    """Every variant of the model's verb as ``{variant: fn(*inputs)}`` (on ``device``)."""
    op, fn, _ = verb(name, m)
    m = m.to(device)
    out: dict[str, Callable] = {}

    def plain(*a):
        with torch.no_grad():
            return fn(m, *a)

    def inf(*a):
        with torch.inference_mode():
            return fn(m, *a)

    def denormals(*a):  # what the app would pay without rep_models' flush-to-zero (set at import)
        torch.set_flush_denormal(False)
        try:
            with torch.inference_mode():
                return fn(m, *a)
        finally:
            torch.set_flush_denormal(True)

    out["plain"] = plain
    out["inference_mode"] = inf
    if device.type == "cpu":
        out["no_flush_denormal"] = denormals
    if name in CONV:
        m_cl = _channels_last(m)

        def cl(*a):
            with torch.inference_mode():
                return fn(m_cl, *[t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t for t in a])

        out["channels_last"] = cl
    out["fast"] = fast_fn(name, m)
    if ort is not None and device.type == "cpu":
        out["fast_ort"] = fast_fn(name, m, "onnxruntime")
    if device.type == "cpu":
        sample = verb(name, m)[2](2)
        for key, mod in (("jit", Call(m, lambda *a: fn(m, *a))),):
            try:
                out[key] = jit_module(mod, sample)
            except Exception as e:  # noqa: BLE001 - report, keep benchmarking the rest
                print(f"{name}: {key} failed: {type(e).__name__}: {str(e)[:120]}")
        for key, mod in (("ort", Call(m, lambda *a: fn(m, *a))),):
            try:
                s = onnx_session(mod, sample, threads)
                if s is not None:
                    out[key] = s
            except Exception as e:  # noqa: BLE001
                print(f"{name}: {key} failed: {type(e).__name__}: {str(e)[:120]}")
    return op, out


def _channels_last(m: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(m).to(memory_format=torch.channels_last).eval()


def per_sample(fn: Callable, inputs: tuple) -> Callable[[], object]:
    """The batch of 64 as 64 eager calls of one sample each (the unoptimised baseline)."""
    singles = [tuple(t[i : i + 1] for t in inputs) for i in range(len(inputs[0]))]
    return lambda: [fn(*s) for s in singles]


def sync(device: torch.device, f: Callable[[], object]) -> Callable[[], object]:
    """``f`` that waits for the GPU's queue to empty before it returns (on CUDA; as is elsewhere): every timed call
    is wrapped, so each also starts with an empty queue and its time is its kernels' own."""
    if device.type != "cuda":
        return f

    def run():
        out = f()
        torch.cuda.synchronize()
        return out

    return run


def check_same(vs: dict[str, Callable], inputs: tuple, name: str) -> float:
    """Largest absolute difference of any variant from ``plain`` (they must compute the same thing)."""
    ref = vs["plain"](*inputs)
    worst = 0.0
    for k, f in vs.items():
        d = (f(*inputs).float().cpu() - ref.float().cpu()).abs().max().item()
        worst = max(worst, d)
        if d > 1e-3:
            print(f"WARNING {name} {k}: differs from plain by {d:.2e}")
    return worst


def run_models(models: dict, device: torch.device, quick: bool) -> list[dict]:
    rows = []
    threads = torch.get_num_threads()
    for name, m in models.items():
        op, vs = variants(name, m, device, threads)
        make = verb(name, m)[2]
        for b in (1, 64):
            inputs = tuple(t.to(device) for t in make(b))
            diff = check_same(vs, inputs, name)
            fns = {k: sync(device, (lambda f=f, a=inputs: f(*a))) for k, f in vs.items()}
            if b == 64:
                fns = {"plain": sync(device, per_sample(vs["plain"], inputs)), "plain_batched": fns["plain"],
                       **{k: v for k, v in fns.items() if k != "plain"}}
            res = interleaved_ms(fns, repeats=(20 if quick else (200 if b == 1 else 30)), budget_s=2 if quick else 5)
            best = min((k for k in res if k not in ("plain", "no_flush_denormal")), key=res.get)
            row = {"model": name, "op": op, "batch": b, **{k: round(v, 3) for k, v in res.items()}, "best": best,
                   "fast_speedup": round(res["plain"] / res["fast"], 1), "max_abs_diff": f"{diff:.1e}"}
            rows.append(row)
            print(row, flush=True)
    return rows


def fast_paths(m: nn.Module, device: torch.device, make: Callable) -> dict[str, Callable]:
    """``{"fast": torch backend, "fast_ort": ONNX Runtime backend}`` of ``make(model, backend)``."""
    out = {"fast": make(m, "torch")}
    if ort is not None and device.type == "cpu":
        out["fast_ort"] = make(m, "onnxruntime")
    return out


def bar_cells(res: dict[str, float], bar: float) -> dict:
    """Pass/fail of each fast path against ``bar`` ms, and the speed-up of the better one over plain."""
    cells = {f"{k}_ms": v for k, v in res.items()}
    best = min((k for k in res if k not in ("plain", "no_flush_denormal")), key=res.get)
    cells.update({"best": best, "speedup_best": res["plain"] / res[best], "bar_ms": bar,
                  **{f"pass_{k}": passfail(v <= bar) for k, v in res.items() if k != "plain"}})
    return cells


def decode_one(models: dict, device: torch.device, quick: bool) -> list[dict]:
    """The VAE bar: decode one latent vector to a 28x28 image."""
    rows = []
    for name, m in models.items():
        if m.family != "vae":
            continue
        z = torch.randn(1, m.config.latent_dim, device=device)
        y = torch.tensor([3], device=device) if m.config.n_classes else None
        m.to(device)  # first: the fast paths are copies of the model where it is now
        paths = fast_paths(m, device, fastpaths.decoder)

        def plain(m=m, z=z, y=y):
            with torch.no_grad():
                return m.decode(z, y)

        fns = {"plain": sync(device, plain), **{k: sync(device, lambda f=f, z=z, y=y: f(z, y)) for k, f in paths.items()}}
        res = interleaved_ms(fns, 50 if quick else 500, budget_s=2 if quick else 6)
        rows.append({"model": name, "device": device.type, **bar_cells(res, 2.0)})
        print(rows[-1], flush=True)
    return rows


def gan_throughput(models: dict, device: torch.device, quick: bool) -> list[dict]:
    """GAN samples per second at batch 1, 64, 1024 (fresh latents each call), plain vs fast."""
    rows = []
    for name, m in models.items():
        if m.family != "gan":
            continue
        m.to(device)  # first: the fast paths are copies of the model where it is now
        paths = fast_paths(m, device, fastpaths.decoder)
        for b in (1, 64, 1024):
            y = (torch.arange(b, device=device) % 10) if m.conditional else None

            def plain(m=m, b=b, y=y):
                with torch.no_grad():
                    return m.decode(torch.randn(b, m.config.z_dim, device=device), y)

            fns = {"plain": sync(device, plain)}
            for k, f in paths.items():
                fns[k] = sync(device, lambda f=f, b=b, y=y, zd=m.config.z_dim: f(torch.randn(b, zd, device=device), y))
            res = interleaved_ms(fns, repeats=(10 if quick else (300 if b == 1 else 60 if b == 64 else 12)), budget_s=2 if quick else 6)
            row = {"model": name, "device": device.type, "batch": b, **{f"{k}_samples_per_s": b / v * 1e3 for k, v in res.items()}}
            if b == 64 and name in ("dcgan", "cdcgan"):
                row.update(bar_cells(res, 15.0))
            else:
                row.update({f"{k}_ms": v for k, v in res.items()})
            rows.append(row)
            print(rows[-1], flush=True)
    return rows


def thread_effect(models: dict, quick: bool) -> list[dict]:
    """The fast path at 1 and at all threads: small calls may run faster on one thread."""
    rows = []
    n0 = torch.get_num_threads()
    cases = []
    if "vae" in models:
        m = models["vae"]
        cases.append(("vae decode", 1, fastpaths.decoder(m), (torch.randn(1, m.config.latent_dim),)))
    for name in ("dcgan", "conv_ae", "classifier"):
        if name in models:
            m = models[name]
            f = fast_fn(name, m)
            make = verb(name, m)[2]
            cases += [(f"{name} {verb(name, m)[0]}", b, f, make(b)) for b in (1, 64)]
    for label, b, f, inputs in cases:
        res = {}
        for t in sorted({1, n0}):
            torch.set_num_threads(t)
            res[t] = median_ms(lambda f=f, a=inputs: f(*a), 30 if quick else 300, warmup=5, budget_s=2 if quick else 3)
        torch.set_num_threads(n0)
        rows.append({"case": label, "batch": b, **{f"threads_{t}_ms": v for t, v in res.items()}})
    return rows


def compiled(models: dict, quick: bool) -> list[dict]:
    """torch.compile (inductor) on the two bar figures: compile time and steady latency."""
    rows = []
    cases = []
    if "vae" in models:
        m = models["vae"]
        cases.append(("vae decode", 1, m, lambda mm, z: mm.decode(z), (torch.randn(1, m.config.latent_dim),)))
    if "dcgan" in models:
        m = models["dcgan"]
        cases.append(("dcgan generate", 64, m, lambda mm, z: mm.decode(z), (torch.randn(64, m.config.z_dim),)))
    for label, b, m, fn, inputs in cases:
        for which, mod in (("plain", m), ("fast", fast.optimize(m))):
            torch._dynamo.reset()
            try:
                c = torch.compile(Call(mod, lambda *a, mod=mod, fn=fn: fn(mod, *a)))
                t = time.perf_counter()
                with torch.inference_mode():
                    c(*inputs)
                compile_s = time.perf_counter() - t

                def run(c=c, inputs=inputs):
                    with torch.inference_mode():
                        return c(*inputs)

                ms = median_ms(run, 30 if quick else 300, budget_s=2 if quick else 8)
                rows.append({"case": f"{label} ({which} model)", "batch": b, "compile_s": compile_s, "compiled_ms": ms})
            except Exception as e:  # noqa: BLE001
                rows.append({"case": f"{label} ({which} model)", "batch": b, "compile_s": None, "compiled_ms": None, "error": f"{type(e).__name__}: {str(e)[:100]}"})
            print(rows[-1], flush=True)
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="few repeats, no torch.compile (a smoke run)")
    p.add_argument("--models", nargs="*", help="only these shipped names")
    p.add_argument("--threads", type=int, help="torch.set_num_threads before measuring")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto (default): the CPU, and the GPU too when CUDA is available; cpu or cuda: that one only")
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: CUDA is not available on this machine")
    if args.threads:
        torch.set_num_threads(args.threads)
    models, untrained = load_models(args.models)
    devices = ([torch.device("cpu")] if args.device in ("auto", "cpu") else []) \
        + ([torch.device("cuda")] if args.device in ("auto", "cuda") and torch.cuda.is_available() else [])
    data: dict = {"untrained": untrained}
    md = [header("Inference", "- Models built untrained (not shipped yet when this ran; speed does not depend on weights): "
                 + (", ".join(untrained) if untrained else "none")), ""]
    md.append("Median milliseconds per call. `plain`: the model's methods under `no_grad` (batch 64: 64 eager per-sample "
              "calls); `plain_batched`: one no_grad call; `fast`: `rep_models.fast` (the app's path); `jit`: TorchScript "
              "trace+freeze; `ort`: ONNX Runtime on the plain model; `fast_ort`: `rep_models.fast` with backend onnxruntime (both with tensor<->numpy copies). "
              "`fast_speedup` = plain / fast. `max_abs_diff`: largest difference of any variant from plain.\n")
    for device in devices:
        bar_rows = decode_one(models, device, args.quick)
        gan_rows = gan_throughput(models, device, args.quick)
        model_rows = run_models(models, device, args.quick)
        data[device.type] = {"models": model_rows, "decode_one": bar_rows, "gan": gan_rows}
        md += [f"### Bars ({device.type})", "", f"Device: {describe(device)}.", "", "Decode one latent vector (bar ≤ 2 ms median):", "", table(bar_rows),
               "GAN samples per second (fresh latents each call; DCGAN batch 64 bar ≤ 15 ms):", "", table(gan_rows),
               f"### Every model, batch 1 and 64 ({device.type})", ""]
        cols = ["model", "op", "batch", "plain", "plain_batched", "inference_mode", "no_flush_denormal", "channels_last", "fast", "jit", "ort", "fast_ort", "best", "fast_speedup", "max_abs_diff"]
        md.append(table(model_rows, [c for c in cols if any(c in r for r in model_rows)]))
    for m in models.values():  # the measurements below are the CPU's (variants() moved the models to each device)
        m.to("cpu")
    if torch.device("cpu") not in devices:
        path = write_section("inference", "\n".join(md), data)
        print(f"wrote {path}")
        return
    th = thread_effect(models, args.quick)
    data["threads"] = th
    md += ["### torch.set_num_threads (fast path, CPU)", "", table(th)]
    if not args.quick:
        comp = compiled(models, args.quick)
        data["compile"] = comp
        md += ["### torch.compile (inductor, CPU)", "", table(comp)]
    path = write_section("inference", "\n".join(md), data)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
