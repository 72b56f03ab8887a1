"""The experiments that answer the Lesson's exercises (``pages/11_lesson.py``): small, seeded, bounded runs.

    tied_vs_untied(x, x_val)                        # two stacked AEs, tied and untied: parameters, curves, held-out MSE
    frozen_vs_fine_tuned(ae, x, y, x_test, y_test)  # the same encoder frozen (+ logistic regression) vs fine-tuned
    generated_vs_data(vae, classifier, y_data)      # what digits a generative model draws, against the data's shares
    short_gan_run(x, classifier)                    # a GAN trained for a few hundred steps: D's scores, the histogram
    memorised(memoriser, memory_digits(card), x_test)  # does a one-number-code AE answer new digits with memorised ones?

Each returns plain numbers and arrays; none imports Streamlit. The figures the Lesson quotes beside them come
from ``pretrained/metrics.json`` (``rep_models.evaluate``), so a live run and the shipped record can be compared.
``python -m rep_models.lesson`` runs every experiment as the page does (the settings below, the shipped models, the
shipped digits) and prints what the page would show.
"""
from __future__ import annotations

import copy
import functools
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import metrics
from .models import build
from .sampling import class_histogram
from .training.gan_stepper import MAX_STEPS_PER_CALL, GanStepper
from .training.run import own_rng

# The page's settings (ui/lesson.py): digits from the shipped sample's training set, test digits from the test set.
TIED_DIGITS, TIED_TEST, TIED_EPOCHS = 3000, 1000, 5
FEW_POOL, FEW_TEST, FEW_BUDGETS = 5000, 2000, (10, 100)
GEN_SAMPLES = 1000
GAN_DIGITS, GAN_STEPS, GAN_EVERY = 5000, 200, 20
MEMORY_TEST = 1000


def _own_rng(func):
    """Run ``func`` with torch's global generator forked (``training.run.own_rng``): its seeding, for the fresh models'
    initial weights, neither depends on nor moves the stream the rest of the process draws from."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with own_rng(torch.device("cpu")):
            return func(*args, **kwargs)
    return wrapper


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    order = rng.permutation(n)
    return [torch.from_numpy(order[i : i + batch_size]) for i in range(0, n, batch_size)]


@torch.no_grad()
def _mse(model, x: torch.Tensor) -> float:
    model.eval()
    return float(F.mse_loss(model(x), x))


@dataclass
class TiedRun:
    """One stacked AE of :func:`tied_vs_untied`: its parameter count, the training and held-out MSE after each
    epoch (``(epochs,)`` each) and the seconds it took."""

    tied: bool
    parameters: int
    train_mse: list[float]
    val_mse: list[float]
    seconds: float


@_own_rng
def tied_vs_untied(x: torch.Tensor, x_val: torch.Tensor, hidden: tuple[int, ...] = (256,), latent_dim: int = 32,
                   epochs: int = 5, lr: float = 1e-3, batch_size: int = 64, seed: int = 0) -> dict[str, TiedRun]:
    """Train a tied and an untied stacked AE (``784 -> hidden -> latent_dim`` and back) on ``x (N, 1, 28, 28)`` from
    the same initial encoder, same batches, same budget; measure both on ``x_val (M, 1, 28, 28)`` after every epoch.
    Returns ``{"tied": TiedRun, "untied": TiedRun}``. Tying uses each encoder matrix, transposed, as its decoder:
    half the weights, and the decoder cannot drift from the encoder."""
    if epochs < 1 or len(x) < batch_size:
        raise ValueError(f"need epochs >= 1 and at least batch_size={batch_size} images, got epochs={epochs}, {len(x)} images")
    torch.manual_seed(seed)
    tied = build("stacked_ae", hidden=hidden, latent_dim=latent_dim, tied=True)
    untied = build("stacked_ae", hidden=hidden, latent_dim=latent_dim, tied=False)
    untied.stack.enc.load_state_dict(tied.stack.enc.state_dict())  # the same encoder to start from
    with torch.no_grad():  # and the untied decoder starts as the tied one: only the tying differs
        for lin, dec in zip(untied.stack.enc, untied.stack.dec, strict=True):
            dec.weight.copy_(lin.weight.t())
    out = {}
    for name, model in (("tied", tied), ("untied", untied)):
        rng = np.random.default_rng(seed)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        train, val = [], []
        t0 = time.perf_counter()
        for _ in range(epochs):
            model.train()
            for idx in _batches(len(x), batch_size, rng):
                loss = model.loss((x[idx], torch.zeros(len(idx), dtype=torch.long)))["loss"]
                opt.zero_grad()
                loss.backward()
                opt.step()
            train.append(_mse(model, x))
            val.append(_mse(model, x_val))
        out[name] = TiedRun(name == "tied", model.n_parameters(), train, val, time.perf_counter() - t0)
    return out


@_own_rng
def frozen_vs_fine_tuned(autoencoder, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor,
                         budgets=(10, 100), steps: int = 150, lr: float = 1e-3, seed: int = 0) -> list[dict]:
    """For each label budget ``n``: the test accuracy of a logistic regression on the frozen codes of ``n`` labelled
    digits of ``x (N, 1, 28, 28)`` (``n // 10`` per class), and of a copy of the encoder with a linear layer on top,
    fine-tuned on the same ``n`` digits: ``steps`` Adam steps of the layer alone, then ``steps`` of both, the encoder
    at ``lr / 10`` (the shipped model is not touched).
    Returns ``[{"labels", "frozen", "fine_tuned"}, ...]`` in budget order."""
    from .data import balanced_subset

    codes = metrics.encode_all(autoencoder, x)
    test_codes = metrics.encode_all(autoencoder, x_test)
    rows = []
    for n in budgets:
        frozen, _ = metrics.few_label_accuracy(codes, y, test_codes, y_test, n_labels=n, draws=1, seed=seed)
        idx = balanced_subset(y, n, seed=seed)
        torch.manual_seed(seed)
        enc = copy.deepcopy(autoencoder).train()
        xs, ys = x[idx], y[idx]
        head = torch.nn.Linear(codes.shape[1], 10)
        # First the new layer alone on the frozen codes, then everything, the pretrained encoder at a tenth of the
        # rate: a random head's first gradients would otherwise wreck the features it is meant to use.
        with torch.no_grad():
            zs = enc.encode(xs)
        opt = torch.optim.Adam(head.parameters(), lr=1e-2)
        for _ in range(steps):
            loss = F.cross_entropy(head(zs), ys)
            opt.zero_grad()
            loss.backward()
            opt.step()
        opt = torch.optim.Adam([{"params": enc.parameters(), "lr": lr / 10}, {"params": head.parameters(), "lr": lr}])
        for _ in range(steps):
            loss = F.cross_entropy(head(enc.encode(xs)), ys)
            opt.zero_grad()
            loss.backward()
            opt.step()
        enc.eval()
        with torch.no_grad():
            pred = torch.cat([head(enc.encode(x_test[i : i + 1000])).argmax(1) for i in range(0, len(x_test), 1000)])
        rows.append({"labels": n, "frozen": frozen, "fine_tuned": float((pred == y_test).float().mean())})
    return rows


def generated_vs_data(model, classifier, y_data, n: int = 1000, seed: int = 0) -> dict:
    """``n`` samples of a generative ``model`` (``sample(n, seed=...)``) read by ``classifier``: ``samples`` (their
    class shares, ``(10,)``), ``data`` (the labels ``y_data``' shares, ``(10,)``), the mean top-class probability,
    and ``gap``: the largest difference between the two shares (0 when it draws every digit as often as the data)."""
    with torch.no_grad():
        imgs = model.sample(n, seed=seed).float().clamp(0, 1).cpu().numpy()[:, 0]
    counts, confidence = class_histogram(classifier, imgs)
    samples = counts / counts.sum()
    data = np.bincount(np.asarray(y_data, dtype=np.int64), minlength=10) / len(y_data)
    return {"samples": samples, "data": data, "mean_top_prob": float(confidence), "gap": float(np.abs(samples - data).max()),
            "images": imgs[:32]}


@_own_rng
def short_gan_run(x: torch.Tensor, classifier, steps: int = 200, every: int = 20, name: str = "dcgan", seed: int = 0) -> dict:
    """Train a fresh Train-live GAN (``name``) on ``x`` for ``steps`` steps of both players; every ``every`` steps
    record the discriminator's mean score on real and on generated digits and the KL divergence of the generated
    digits' class shares from uniform. Returns ``{"step", "d_real", "d_fake", "kl"}`` lists and the last samples.
    The scores swing while the players chase each other; a rising KL is the generator drawing fewer digits."""
    if steps < every or every < 1:
        raise ValueError(f"need steps >= every >= 1, got steps={steps}, every={every}")
    torch.manual_seed(seed)  # the fresh GAN's initial weights
    g = GanStepper(name, x, seed=seed)
    out = {"step": [], "d_real": [], "d_fake": [], "kl": []}
    while g.steps < steps:
        target = min(steps, (g.steps // every + 1) * every)
        while g.steps < target:  # a call may stop early on a busy CPU (MAX_SECONDS_PER_CALL): go on to the target
            g.step("both", min(target - g.steps, MAX_STEPS_PER_CALL))
        real, fake = g.scores()
        out["step"].append(g.steps)
        out["d_real"].append(real)
        out["d_fake"].append(fake)
        out["kl"].append(g.histogram(classifier, n=200)["kl_to_uniform"])
    out["samples"] = g.samples(16)
    return out


def memory_digits(card: dict) -> torch.Tensor:
    """The digits a model trained on a subset saw, ``(limit, 1, 28, 28)``: the first ``limit`` of the training split of
    the data source its card names (``train_options``: ``limit``, ``data_source``)."""
    from .data import load_tensors

    opts = card.get("train_options", {})
    if not opts.get("limit"):
        raise ValueError(f"the card of {card.get('recipe')!r} names no training limit: it saw the whole training split")
    x, _ = load_tensors("mnist", "train", source=opts.get("data_source", "full"))
    return x[: opts["limit"]]


@torch.no_grad()
def memorised(model, x_memory: torch.Tensor, x_test: torch.Tensor) -> dict:
    """How an autoencoder with a one-number code treats the digits it was trained on (``x_memory (K, 1, 28, 28)``)
    and new ones (``x_test (M, 1, 28, 28)``): ``train_mse`` and ``test_mse``; ``recalled``, the share of the K
    memorised digits whose reconstruction is nearest (of the K) to the digit itself: each kept apart by its number;
    ``answered_from_memory``, the share of new digits whose reconstruction is closer to some memorised digit than to
    the digit itself: it answers with a digit it knows."""
    model.eval()
    rec_m, rec_t = model(x_memory), model(x_test)
    mem = x_memory.flatten(1)
    recalled = torch.cdist(rec_m.flatten(1), mem).argmin(1) == torch.arange(len(mem))
    to_self = ((rec_t - x_test) ** 2).flatten(1).mean(1)
    to_memory = torch.cdist(rec_t.flatten(1), mem).pow(2).div(784).min(1).values
    return {"train_mse": float(F.mse_loss(rec_m, x_memory)), "test_mse": float(F.mse_loss(rec_t, x_test)),
            "recalled": float(recalled.float().mean()), "n_memory": len(x_memory),
            "answered_from_memory": float((to_memory < to_self).float().mean())}


def main() -> None:
    from .checkpoint import PRETRAINED_DIR, load_pretrained, read_card
    from .data import load_tensors

    torch.set_num_threads(2)
    x, y = load_tensors("mnist", "full_train", source="sample")
    xt, yt = load_tensors("mnist", "test", source="sample")
    clf = load_pretrained("classifier")
    t = time.perf_counter()
    runs = tied_vs_untied(x[:TIED_DIGITS], xt[:TIED_TEST], epochs=TIED_EPOCHS)
    for name, r in runs.items():
        print(f"tied vs untied: {name}: {r.parameters:,} parameters, test MSE {r.val_mse[-1]:.4f}, "
              f"training MSE {r.train_mse[-1]:.4f}, {r.seconds:.1f} s")
    for r in frozen_vs_fine_tuned(load_pretrained("stacked_ae"), x[:FEW_POOL], y[:FEW_POOL], xt[:FEW_TEST], yt[:FEW_TEST],
                                  budgets=FEW_BUDGETS):
        print(f"frozen vs fine-tuned, {r['labels']} labels: frozen {r['frozen']:.1%}, fine-tuned {r['fine_tuned']:.1%}")
    g = generated_vs_data(load_pretrained("vae"), clf, yt.numpy(), n=GEN_SAMPLES)
    print(f"VAE samples vs test digits: largest share gap {g['gap']:.1%}, mean top-class probability {g['mean_top_prob']:.3f}")
    r = short_gan_run(x[:GAN_DIGITS], clf, steps=GAN_STEPS, every=GAN_EVERY)
    print(f"short GAN run, {GAN_STEPS} steps: D(generated) from {min(r['d_fake']):.2f} to {max(r['d_fake']):.2f}, "
          f"KL to uniform at the end {r['kl'][-1]:.2f} nats")
    m = memorised(load_pretrained("memoriser_ae"), memory_digits(read_card(PRETRAINED_DIR / "memoriser_ae")), xt[:MEMORY_TEST])
    print(f"memoriser: {m['n_memory']} digits, MSE {m['train_mse']:.4f} on them, {m['test_mse']:.4f} on new ones; "
          f"recalled {m['recalled']:.0%}, new ones answered from memory {m['answered_from_memory']:.1%}")
    print(f"({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
