"""Weights as safetensors plus a JSON card; never pickle.

``NAME.safetensors`` holds the state dict (optionally fp16; optionally its large matrices as int8 rows with one
fp16 scale each, ``KEY__q8`` + ``KEY__q8scale``, dequantized on load: half the bytes again where they dominate). ``NAME.json`` holds the registered model
name, its config, the weights' sha256 and tensor shapes, and how it was trained (metrics, seed, data
checksum, wall time, device, versions, the command). ``pretrained/manifest.json`` lists the sha256 of every
shipped file; :func:`load_pretrained` refuses a file that does not match it.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .models import REGISTRY, build
from .models.base import Model

PRETRAINED_DIR = Path(os.environ.get("LATENT_LAB_PRETRAINED", Path(__file__).resolve().parent.parent / "pretrained"))


class CheckpointError(RuntimeError):
    """A weights file or card is missing, corrupt, or does not match."""


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def registered_name(model: Model) -> str:
    for name, cls in REGISTRY.items():
        if type(model) is cls:
            return name
    raise KeyError(f"{type(model).__name__} is not in the registry")


Q8, Q8_SCALE = "__q8", "__q8scale"


def quantize_rows(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A matrix ``(R, C)`` as int8 ``(R, C)`` and fp16 scales ``(R, 1)``, symmetric per row: ``w ≈ q * scale``."""
    scale = (w.abs().amax(dim=1, keepdim=True).float() / 127).clamp_min(1e-12).half()
    q = torch.round(w.float() / scale.float()).clamp(-127, 127).to(torch.int8)
    return q, scale


def _dequantize(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {k: v for k, v in state.items() if not (k.endswith(Q8) or k.endswith(Q8_SCALE))}
    for k, q in state.items():
        if k.endswith(Q8):
            base = k.removesuffix(Q8)
            if base + Q8_SCALE not in state:
                raise CheckpointError(f"{k}: int8 weights without their scales {base + Q8_SCALE}")
            out[base] = q.float() * state[base + Q8_SCALE].float()
    return out


def save(model: Model, stem: str | os.PathLike, card: dict | None = None, fp16: bool = False, int8_min: int | None = None) -> dict:
    """Write ``stem.safetensors`` and ``stem.json``; returns the card.

    ``fp16``: floating tensors stored as float16. ``int8_min``: 2-D weights with at least this many elements
    stored as int8 rows plus a float16 scale per row (see :func:`quantize_rows`).
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    state = {}
    for k, v in model.state_dict().items():
        v = v.detach().to("cpu").contiguous()
        if int8_min and v.is_floating_point() and v.dim() == 2 and v.numel() >= int8_min:
            state[k + Q8], state[k + Q8_SCALE] = quantize_rows(v)
            continue
        state[k] = v.half() if fp16 and v.is_floating_point() else v
    weights = stem.with_suffix(".safetensors")
    save_file(state, str(weights), metadata={"model": registered_name(model)})
    full = {
        "name": stem.name,
        "model": registered_name(model),
        "config": model.config_dict(),
        "n_parameters": model.n_parameters(),
        **(card or {}),
        "weights_file": weights.name,
        "weights_sha256": sha256_file(weights),
        "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype).removeprefix("torch.")} for k, v in state.items()},
    }
    stem.with_suffix(".json").write_text(json.dumps(full, indent=2, default=str) + "\n")
    return full


def read_card(stem: str | os.PathLike) -> dict:
    path = Path(stem).with_suffix(".json")
    if not path.is_file():
        raise CheckpointError(f"{path}: model card not found")
    try:
        card = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(card, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(card).__name__}")
    for key in ("model", "config"):
        if key not in card:
            raise CheckpointError(f"{path}: the card has no {key!r} entry")
    if not isinstance(card["config"], dict):
        raise CheckpointError(f"{path}: 'config' must be an object, got {type(card['config']).__name__}")
    if not isinstance(card["model"], str) or card["model"] not in REGISTRY:
        raise CheckpointError(f"{path}: unknown model {card['model']!r}; expected one of {sorted(REGISTRY)}")
    return card


def load(stem: str | os.PathLike, device: str | torch.device = "cpu", expected_sha256: str | None = None) -> Model:
    """The model saved at ``stem`` (without suffix), in eval mode on ``device``, weights in fp32."""
    stem = Path(stem)
    card = read_card(stem)
    weights = stem.with_suffix(".safetensors")
    if not weights.is_file():
        raise CheckpointError(f"{weights}: weights file not found")
    digest = sha256_file(weights)
    for want, what in ((expected_sha256, "the manifest"), (card.get("weights_sha256"), "its card")):
        if want and digest != want:
            raise CheckpointError(f"{weights}: sha256 {digest[:12]}… does not match {what} ({want[:12]}…); the file is corrupt or was replaced")
    try:
        state = _dequantize(load_file(str(weights)))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({e})") from e
    try:
        model = build(card["model"], **card["config"])
    except Exception as e:  # noqa: BLE001 - any failure here means the card's config is bad (e.g. a negative size)
        raise CheckpointError(f"{stem.with_suffix('.json')}: config does not build a {card['model']}: {e}") from e
    own = model.state_dict()
    missing, extra = own.keys() - state.keys(), state.keys() - own.keys()
    wrong = [k for k in own.keys() & state.keys() if own[k].shape != state[k].shape]
    if missing or extra or wrong:
        raise CheckpointError(
            f"{weights}: does not match the config in {stem.with_suffix('.json').name}: "
            f"missing {sorted(missing)[:3]}, unexpected {sorted(extra)[:3]}, wrong shape {wrong[:3]}"
        )
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})
    return model.to(device).eval()


def read_manifest(directory: Path = PRETRAINED_DIR) -> dict[str, str]:
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        return {}
    try:
        files = json.loads(path.read_text())["files"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path}: unreadable manifest ({e})") from e
    if not isinstance(files, dict):
        raise CheckpointError(f"{path}: 'files' must map file names to sha256, got {type(files).__name__}")
    return files


def write_manifest(directory: Path = PRETRAINED_DIR) -> dict[str, str]:
    """Record the sha256 of every shipped weights, card, projection and ONNX file."""
    directory = Path(directory)
    files = {
        p.name: sha256_file(p)
        for p in sorted(directory.iterdir())
        if p.suffix in (".safetensors", ".json", ".npz") and p.name not in ("manifest.json", "metrics.json")
        and not p.name.endswith(".state.safetensors")  # the trainer's resume state is not shipped
    }
    (directory / "manifest.json").write_text(json.dumps({"files": files}, indent=2) + "\n")
    return files


def is_shipped(name: str) -> bool:
    """Whether ``PRETRAINED_DIR`` holds model ``name``'s card and weights (looked up now: tests point it elsewhere)."""
    return (PRETRAINED_DIR / f"{name}.json").is_file() and (PRETRAINED_DIR / f"{name}.safetensors").is_file()


def available(directory: Path = PRETRAINED_DIR) -> list[str]:
    """Names of the shipped models (a card and weights both present)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.safetensors") if p.with_suffix(".json").is_file())


def load_pretrained(name: str, device: str | torch.device = "cpu", directory: str | os.PathLike | None = None) -> Model:
    """A shipped model, ready in eval mode. Verifies the file against ``manifest.json`` when there is one."""
    directory = Path(directory) if directory is not None else PRETRAINED_DIR
    if not (directory / f"{name}.json").is_file():
        raise CheckpointError(f"no pretrained model {name!r} in {directory}; available: {available(directory)}")
    manifest = read_manifest(directory)
    fname = f"{name}.safetensors"
    if manifest:
        # The card is verified too: an edited config (say, beta) would load and silently change the model.
        for f in (fname, f"{name}.json"):
            if f not in manifest:
                raise CheckpointError(f"{directory / f}: not listed in manifest.json; refusing to load it")
        if sha256_file(directory / f"{name}.json") != manifest[f"{name}.json"]:
            raise CheckpointError(f"{directory / name}.json: sha256 does not match manifest.json; the card was edited or replaced")
    return load(directory / name, device, expected_sha256=manifest.get(fname))


def _restore(stem: str | os.PathLike, storage: str, **save_options) -> dict:
    """Load the model at ``stem`` and save it again with ``save_options``, keeping its card (the sha256 and tensor
    list updated, ``storage`` recorded)."""
    stem = Path(stem)
    card = read_card(stem)
    model = load(stem)
    keep = {k: v for k, v in card.items() if k not in ("name", "model", "config", "n_parameters", "weights_file", "weights_sha256", "tensors")}
    keep["storage"] = storage
    return save(model, stem, keep, **save_options)


def convert_fp16(stem: str | os.PathLike) -> dict:
    """Re-store the weights at ``stem`` as fp16 (equivalent to training with the recipe's fp16 storage)."""
    return _restore(stem, "fp16 (converted from fp32 after training)", fp16=True)


def convert_int8(stem: str | os.PathLike, int8_min: int) -> dict:
    """Re-store the weights at ``stem`` with matrices of at least ``int8_min`` elements as int8 rows (the rest
    fp16). Re-run the evaluation afterwards."""
    return _restore(stem, f"fp16, matrices of >= {int8_min:,} elements as int8 rows with fp16 scales (converted after training)",
                    fp16=True, int8_min=int8_min)


if __name__ == "__main__":  # python -m rep_models.checkpoint fp16 NAME... | int8 MIN NAME... | manifest
    import sys

    if sys.argv[1:2] == ["fp16"]:
        for n in sys.argv[2:]:
            print(n, convert_fp16(PRETRAINED_DIR / n)["weights_sha256"][:12])
    elif sys.argv[1:2] == ["int8"]:
        for n in sys.argv[3:]:
            print(n, convert_int8(PRETRAINED_DIR / n, int(sys.argv[2]))["weights_sha256"][:12])
    elif sys.argv[1:2] == ["manifest"]:
        print(f"{len(write_manifest())} files in {PRETRAINED_DIR / 'manifest.json'}")
    else:
        raise SystemExit("usage: python -m rep_models.checkpoint fp16 NAME... | int8 MIN_ELEMENTS NAME... | manifest")
