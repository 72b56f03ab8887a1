"""A phase's optimisers and learning-rate schedules (one of each for ``standard`` and ``layerwise``, two for
``gan``), and their state as safetensors tensors plus JSON for the resumable state."""
from __future__ import annotations

import math

import torch


class Optimisers:
    """Adam per parameter group; a cosine decay over ``total_steps`` unless ``schedule`` is "constant" or it is a GAN."""

    def __init__(self, params_groups: list, lr: float, total_steps: int, gan: bool, schedule: str,
                 betas: tuple[float, float] | None = None, lr_scales: tuple[float, ...] | None = None):
        betas = betas or ((0.5, 0.999) if gan else (0.9, 0.999))  # a model may name its own (``adam_betas``)
        scales = lr_scales or (1.0,) * len(params_groups)  # and its own lr per group (``lr_scales``: the GANs' D, G)
        self.opts = [torch.optim.Adam(p, lr=lr * k, betas=betas) for p, k in zip(params_groups, scales, strict=True)]
        if schedule == "cosine" and not gan:
            self.scheds = [torch.optim.lr_scheduler.LambdaLR(o, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total_steps) / max(1, total_steps)))) for o in self.opts]
        else:
            self.scheds = []

    def step(self, loss: torch.Tensor, which: int = 0) -> None:
        o = self.opts[which]
        o.zero_grad(set_to_none=True)
        loss.backward()
        o.step()
        if self.scheds:
            self.scheds[which].step()

    def state_tensors(self, prefix: str) -> tuple[dict, dict]:
        """Optimiser states flattened to tensors (for safetensors) plus the JSON-able rest."""
        tensors, meta = {}, {}
        for i, o in enumerate(self.opts):
            sd = o.state_dict()
            for pid, st in sd["state"].items():
                for k, v in st.items():
                    tensors[f"{prefix}.{i}.{pid}.{k}"] = torch.as_tensor(v).clone()
            meta[f"{prefix}.{i}"] = {"param_groups": sd["param_groups"], "ids": list(sd["state"].keys())}
        for i, s in enumerate(self.scheds):
            meta[f"{prefix}.sched.{i}"] = s.state_dict()
        return tensors, meta

    def load_state(self, prefix: str, tensors: dict, meta: dict) -> None:
        for i, o in enumerate(self.opts):
            m = meta[f"{prefix}.{i}"]
            state = {}
            for pid in m["ids"]:
                keys = [k for k in tensors if k.startswith(f"{prefix}.{i}.{pid}.")]
                state[int(pid)] = {k.rsplit(".", 1)[1]: tensors[k] for k in keys}
            o.load_state_dict({"state": state, "param_groups": m["param_groups"]})
        for i, s in enumerate(self.scheds):
            s.load_state_dict(meta[f"{prefix}.sched.{i}"])
