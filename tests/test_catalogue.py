"""The catalogue (rep_models/catalogue.py) is the one list of the zoo: everything else derives from it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from rep_models import catalogue, evaluate
from rep_models.models import REGISTRY
from rep_models.zoo import ZOO

ROOT = Path(__file__).resolve().parent.parent


def test_every_recipe_has_an_entry_and_every_entry_a_recipe():
    assert set(catalogue.CATALOGUE) == set(ZOO)
    for name, e in catalogue.CATALOGUE.items():
        assert e.recipe["model"] in REGISTRY, f"{name}: recipe names an unregistered model"
        assert e.group in catalogue.GROUPS and e.roles <= set(catalogue.ROLES), name
        assert all(n in catalogue.CATALOGUE for n in e.needs), f"{name} needs {e.needs}"


def test_train_order_puts_every_model_after_what_it_needs():
    order = catalogue.TRAIN_ORDER
    assert sorted(order) == sorted(catalogue.CATALOGUE)
    for name, e in catalogue.CATALOGUE.items():
        assert all(order.index(n) < order.index(name) for n in e.needs), name
    assert order[0] == "classifier"  # the sample metrics of the others need it


def test_roles():
    assert catalogue.the("anomaly_reference") == "conv_ae"
    assert "contrastive" in catalogue.ENCODERS and "denoising_ae" not in catalogue.ENCODERS
    with pytest.raises(LookupError, match="expected one model"):
        catalogue.the("encoder")
    with pytest.raises(ValueError, match="unknown role"):
        catalogue.with_role("decoder of dreams")
    assert "contractive_ae_lambda0" not in catalogue.in_group("Autoencoders")  # a reference, not shown


def test_bars_as_data():
    bar = catalogue.Bar("x", "x", ">=", 0.5)
    assert bar.passes(0.5) and not bar.passes(0.49) and not bar.passes(None) and not bar.passes(float("nan"))
    assert catalogue.Bar("x", "x", within=(0.8, 1.2)).describe() == "within 0.8..1.2"
    results = {"dcgan": {"frechet_distance": 10.0}, "vae": {"frechet_distance": 12.0}, "gan": {"frechet_distance": 9.0}}
    fd = [b for b in evaluate.check_bars(results) if b["model"] == "dcgan" and b["measure"].startswith("Frechet")]
    assert [(b["value"], b["passed"]) for b in fd] == [(-2.0, True), (1.0, False)]
    n_bars = (sum(len(e.bars) for e in catalogue.CATALOGUE.values()) + 2 + sum(map(len, catalogue.MAP_BARS.values()))
              + len(catalogue.NOT_A_DIGIT_BARS[2]))
    assert len(evaluate.check_bars({})) == n_bars


def test_names_of_the_zoo_are_kept_in_the_catalogue_only():
    """Outside tests/ and bench/, a list of three or more shipped model names appears only in the catalogue
    and the recipes (a page or a module asks the catalogue which models have a role)."""
    names = "|".join(sorted(map(re.escape, ZOO), key=len, reverse=True))
    listing = re.compile(rf"""["']({names})["'][^\\n]{{0,40}}["']({names})["'][^\\n]{{0,40}}["']({names})["']""")
    offenders = []
    for path in [*ROOT.glob("*.py"), *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"), *(ROOT / "rep_models").rglob("*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("rep_models/catalogue.py", "rep_models/zoo.py"):
            continue
        offenders += [f"{rel}:{i}" for i, line in enumerate(path.read_text().splitlines(), 1) if listing.search(line)]
    assert not offenders, offenders
