"""The resumable training state, ``NAME.state.safetensors``: everything a run stopped after an epoch needs
to end with the same weights as one never stopped. Tensors in safetensors, the rest as JSON metadata
(never pickle):

- ``model.*``: the state dict; ``extra.*``: what the model keeps outside it (``Model.training_state``: a
  GAN's moving average, the SdA's pseudo-label ramp);
- ``opt.*``: the optimisers of the phase that was running (``optim_of`` says which) and its schedules;
- ``rng.<rank>.*``: each rank's random generators (torch CPU, CUDA, numpy's global);
- ``prepared.*``: data a recipe step made from the model during the run (the SdA's pseudo-labels);
- metadata: the epochs done per phase, the history, the wall time so far.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from .distributed import gather
from .loop import Phase
from .optim import Optimisers


def capture_rng() -> dict[str, torch.Tensor | list]:
    """This process's random generators: torch's CPU and CUDA ones and numpy's global one."""
    _, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "numpy": torch.from_numpy(keys.astype(np.int64)), "numpy_rest": [int(pos), int(has_gauss), float(cached)]}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    pos, has_gauss, cached = state["numpy_rest"]
    np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: Path, model, optim: Optimisers, phase: Phase, meta: dict, rng: list[dict], prepared: dict[str, torch.Tensor]) -> None:
    """Write the state: ``rng`` holds every rank's :func:`capture_rng`, ``prepared`` the recipe steps' outputs."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors.update({f"extra.{k}": v.detach().cpu().contiguous() for k, v in model.training_state().items()})
    ot, om = optim.state_tensors("opt")
    tensors.update(ot)
    rng_rest = {}
    for rank, r in enumerate(rng):
        tensors[f"rng.{rank}.torch"], tensors[f"rng.{rank}.numpy"] = r["torch"], r["numpy"]
        tensors.update({f"rng.{rank}.cuda.{i}": s for i, s in enumerate(r.get("cuda", []))})
        rng_rest[rank] = r["numpy_rest"]
    tensors.update({f"prepared.{k}": v.detach().cpu().contiguous() for k, v in prepared.items()})
    meta = {**meta, "optim": om, "optim_of": {"kind": phase.kind, "layer": phase.layer}, "rng_numpy": rng_rest}
    save_file(tensors, str(path), metadata={"meta": json.dumps(meta, default=str)})


@dataclass
class SavedState:
    """A state file read back (:func:`load`)."""

    tensors: dict[str, torch.Tensor]
    meta: dict

    def _part(self, prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix):]: v for k, v in self.tensors.items() if k.startswith(prefix)}

    def restore_model(self, model) -> None:
        model.load_state_dict(self._part("model."))
        model.load_training_state(self._part("extra."))

    def restore_optim(self, optim: Optimisers, phase: Phase) -> bool:
        """Load the saved optimisers into ``optim`` if they belong to ``phase``; True if they did. (A state
        from before ``optim_of`` was written holds the main phase's.)"""
        of = self.meta.get("optim_of", {"kind": "main"})
        if (of["kind"] == "layerwise") != (phase.kind == "layerwise") or of.get("layer", 0) != phase.layer:
            return False
        optim.load_state("opt", {k: v for k, v in self.tensors.items() if k.startswith("opt.")}, self.meta["optim"])
        return True

    def restore_rng(self, rank: int) -> bool:
        """Put this rank's random generators back where they were when the state was saved."""
        part = self._part(f"rng.{rank}.")
        if not part:
            return False
        cuda = [part[f"cuda.{i}"] for i in range(len([k for k in part if k.startswith("cuda.")]))]
        restore_rng({"torch": part["torch"], "numpy": part["numpy"], "numpy_rest": self.meta["rng_numpy"][str(rank)],
                     **({"cuda": cuda} if cuda else {})})
        return True

    def prepared(self) -> dict[str, torch.Tensor]:
        return self._part("prepared.")


def load(path: Path) -> SavedState:
    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()["meta"])
    return SavedState(load_file(str(path)), meta)


class Checkpoints:
    """Saves the state after every epoch of every phase (rank 0 writes; every rank gives its generators) and
    counts the epochs done per phase, starting from a resumed run's ``saved`` state."""

    def __init__(self, path: Path, model, prepared: dict, saved: SavedState | None, rank: int):
        self.path, self.model, self.prepared, self.rank = path, model, prepared, rank
        self.done = saved.meta["done"] if saved else {"pretrain": [0] * model.pretrain_layers, "main": 0}
        self.wall_before = saved.meta.get("wall_seconds", 0.0) if saved else 0.0
        self.t_start = time.time()

    def wall_seconds(self) -> float:
        return self.wall_before + time.time() - self.t_start

    def epochs_done(self, phase: Phase) -> int:
        return self.done["pretrain"][phase.layer] if phase.kind == "layerwise" else self.done["main"]

    def after_epoch(self, phase: Phase, optim: Optimisers, history: list):
        """The ``on_epoch_end`` callback for ``phase``."""

        def on_epoch_end(record: dict) -> None:
            if phase.kind == "layerwise":
                self.done["pretrain"][phase.layer] = record["epoch"]
            else:
                self.done["main"] = record["epoch"]
            rng = gather(capture_rng())
            if self.rank == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                save(self.path, self.model, optim, phase, {"done": self.done, "history": history, "wall_seconds": self.wall_seconds()},
                     rng, self.prepared)

        return on_epoch_end
