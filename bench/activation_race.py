"""The activations compared, as Train live's "Compare activations" runs them (rep_models.training.activation_race):
every activation at both learning rates, 500 steps on the app's 5,000 training digits, the same start and batches.

    python -m bench.activation_race            # prints a markdown table; --steps N, --out FILE (json)

Per activation and learning rate: the mean training loss over the last 20 steps, the share of dead hidden units
(their activation's slope below 1e-3 for every probe digit) and the first layer's gradient norm.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from rep_models.data import load_tensors
from rep_models.training import activation_race as ar

GROUPS = (["sigmoid", "tanh", "relu", "leaky_relu"], ["prelu", "elu", "selu", "softplus"])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--out", help="also write the figures as JSON here")
    a = p.parse_args(argv)
    torch.set_num_threads(1)  # as the app's server runs it
    x, y = load_tensors("mnist", "full_train", source="sample")
    x, y = x[:5000], y[:5000]  # pages/9_train_live.py: ACT_DIGITS
    rows = []
    for preset in ar.PRESETS:
        for names in GROUPS:
            race, t0 = ar.ActivationRace(names, x, y, preset=preset), time.perf_counter()
            while race.steps < a.steps:
                race.step(min(ar.MAX_STEPS_PER_CALL, a.steps - race.steps))
            per_step = 1000 * (time.perf_counter() - t0) / race.steps / len(names)
            for name, v in race.summary().items():
                v = {**v, "loss": None if v["diverged"] else v["loss"]}  # JSON has no infinity
                rows.append({"activation": name, "preset": preset, "lr": ar.PRESETS[preset], "steps": race.steps, **v,
                             "ms_per_step": round(per_step, 2)})
    print(f"| activation | learning rate | loss (last 20 of {a.steps} steps) | dead units | first-layer gradient |")
    print("|---|---|---|---|---|")
    for r in rows:
        loss = f"diverged at step {r['diverged']}" if r["diverged"] else f"{r['loss']:.3f}"
        print(f"| {r['activation']} | {r['lr']:g} | {loss} | {100 * r['dead']:.1f} % | {r['first_grad']:.3g} |")
    print(f"\n{rows[0]['ms_per_step']:.1f} ms per step per copy (one thread)")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
