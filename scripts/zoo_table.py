"""Generate the README's model-zoo tables from ``pretrained/metrics.json``.

    python scripts/zoo_table.py            # rewrite the block between the markers in README.md
    python scripts/zoo_table.py --print    # print the tables only
    python scripts/zoo_table.py --check    # exit 1 if README.md is not up to date (for CI)

The block is delimited by ``<!-- zoo-table -->`` and ``<!-- /zoo-table -->``; nothing outside it changes.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- zoo-table -->", "<!-- /zoo-table -->"

# (column title, metric key, format) of the per-model table; a cell is blank where a measure does not apply.
COLUMNS = [
    ("test acc.", "test_accuracy", "{:.2%}"),
    ("test MSE", "test_mse", "{:.4f}"),
    ("MSE / PCA(32)", "mse_over_pca32", "{:.2f}"),
    ("−ELBO (nats)", "neg_elbo", "{:.1f}"),
    ("IWAE k=100", "iwae_k100", "{:.1f}"),
    ("Fréchet dist.", "frechet_distance", "{:.2f}"),
    ("sample top-prob.", "samples_mean_top_prob", "{:.3f}"),
    ("class share min–max", None, None),
    ("digit agreement", "conditional_agreement", "{:.1%}"),
    ("100-label acc.", "few_label_100_accuracy", "{:.1%}"),
    ("AUROC vs Fashion", "anomaly_auroc_fashion", "{:.3f}"),
    ("train time", "train_seconds", None),
]

# Rows that are baselines, not models, shown last.
REFERENCES = {"pca32": "PCA, 32 components", "pixels": "raw pixels", "real_data": "real images (10k train vs test)"}


def _cell(row: dict, key: str | None, fmt: str | None) -> str:
    if key is None:  # the class-share range
        lo, hi = row.get("samples_min_class_fraction"), row.get("samples_max_class_fraction")
        return "" if lo is None or hi is None else f"{lo:.1%}–{hi:.1%}"
    v = row.get(key)
    if v is None:
        return ""
    if key == "train_seconds":
        return f"{v / 60:.0f} min" if v >= 60 else f"{v:.0f} s"
    return fmt.format(v) if isinstance(v, (int, float)) else str(v)


def _value(v) -> str:
    if v is None:
        return "missing"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def render(m: dict) -> str:
    """The markdown of both tables: per-model measures, then every bar with its verdict."""
    refs = [r for r in REFERENCES if r in m]
    models = [k for k, v in m.items() if isinstance(v, dict) and k not in ("bars", "meta", "projections", *REFERENCES)]
    lines = ["| model | " + " | ".join(c[0] for c in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name in models + refs:
        label = f"*{REFERENCES[name]}*" if name in REFERENCES else name
        lines.append(f"| {label} | " + " | ".join(_cell(m[name], k, f) for _, k, f in COLUMNS) + " |")
    bars = m.get("bars", [])
    n_pass = sum(b["passed"] for b in bars)
    lines += ["", f"Quality bars: {n_pass} of {len(bars)} pass.", "",
              "| model | measure | value | bar | |", "|---|---|---|---|---|"]
    for b in bars:
        lines.append(f"| {b['model']} | {b['measure']} | {_value(b['value'])} | {b['bar']} | {'✅' if b['passed'] else '❌'} |")
    proj = m.get("projections", {})
    if proj:
        lines += ["", "2-D maps of the 10,000 test images: 10-NN accuracy / trustworthiness (k = 10).", "",
                  "| representation | PCA | t-SNE | UMAP |", "|---|---|---|---|"]
        for rep, q in proj.items():
            cells = [f"{q[meth]['knn10_accuracy']:.3f} / {q[meth]['trustworthiness']:.3f}" if meth in q else ""
                     for meth in ("pca", "tsne", "umap")]
            lines.append(f"| {rep} | " + " | ".join(cells) + " |")
    lines += _few_label_table(m)
    meta = m.get("meta", {})
    if meta.get("command"):
        lines += ["", f"Measured by `{meta['command']}` ({meta.get('n_test', '?')} test images, {meta.get('date', '')}); "
                  "regenerate this block with `python scripts/zoo_table.py`."]
    return "\n".join(lines)


def _few_label_table(m: dict) -> list[str]:
    """The few-label curves (each entry's ``few_label_curve``): one row per representation, one column per label count."""
    curves = {k: v["few_label_curve"] for k, v in m.items() if isinstance(v, dict) and isinstance(v.get("few_label_curve"), list)}
    if not curves:
        return []
    budgets = sorted({r["labels"] for rows in curves.values() for r in rows})
    setup = m.get("meta", {}).get("few_label_curves", {})
    lines = ["", f"Few labels: test accuracy (%) against the number of labelled training digits (n/10 per class; the last column: "
             f"all {setup.get('n_train', budgets[-1]):,}), a logistic regression on the frozen codes, mean ± standard deviation "
             "over the *draws* random labelled subsets; the SdA rows: the network fine-tuned with that many labels. "
             f"Measured by `{setup.get('command', 'python -m rep_models.evaluate')}` ({setup.get('n_test', 0):,} test images, "
             f"{setup.get('date', '')}).", "",
             "| representation | " + " | ".join(f"{n:,}" for n in budgets) + " |", "|---" * (len(budgets) + 1) + "|"]
    order = sorted(curves, key=lambda k: len(curves[k]) == 1)  # the curves, then the fine-tuned points (stable)
    for name in order:
        by = {r["labels"]: r for r in curves[name]}
        cells = [(f"{100 * by[n]['accuracy']:.1f}" + (f" ± {100 * by[n]['std']:.1f}" if by[n].get("draws", 1) > 1 else ""))
                 if n in by else "" for n in budgets]
        lines.append(f"| {f'*{REFERENCES[name]}*' if name in REFERENCES else name} | " + " | ".join(cells) + " |")
    draws = {r["labels"]: r.get("draws", 1) for rows in curves.values() if len(rows) > 1 for r in rows}
    lines.append("| *draws* | " + " | ".join(str(draws.get(n, "")) for n in budgets) + " |")
    return lines


def rewrite(readme: str, table: str) -> str:
    if START not in readme or END not in readme or readme.index(START) > readme.index(END):
        raise ValueError(f"README has no {START} ... {END} block to rewrite")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--metrics", default=str(ROOT / "pretrained" / "metrics.json"))
    p.add_argument("--readme", default=str(ROOT / "README.md"))
    g = p.add_mutually_exclusive_group()
    g.add_argument("--print", action="store_true", help="print the tables, do not touch README.md")
    g.add_argument("--check", action="store_true", help="exit 1 if README.md's block is stale")
    args = p.parse_args(argv)
    metrics_path = Path(args.metrics)
    if not metrics_path.is_file():
        print(f"{metrics_path}: not found; run `python -m rep_models.evaluate` first", file=sys.stderr)
        return 2
    table = render(json.loads(metrics_path.read_text()))
    if args.print:
        print(table)
        return 0
    readme_path = Path(args.readme)
    try:
        new = rewrite(readme_path.read_text(), table)
    except (OSError, ValueError) as e:
        print(f"{readme_path}: {e}", file=sys.stderr)
        return 2
    if args.check:
        stale = new != readme_path.read_text()
        print(f"{readme_path}: model-zoo table is {'STALE: run python scripts/zoo_table.py' if stale else 'up to date'}")
        return int(stale)
    readme_path.write_text(new)
    print(f"{readme_path}: model-zoo table rewritten ({len(table.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
