"""The catalogue (rep_models/catalogue.py) is the one list of the zoo: everything else derives from it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rep_models import catalogue
from rep_models.bars import check_bars
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
    fd = [b for b in check_bars(results) if b["model"] == "dcgan" and b["measure"].startswith("Frechet")]
    assert [(b["value"], b["passed"]) for b in fd] == [(-2.0, True), (1.0, False)]
    n_bars = (sum(len(e.bars) for e in catalogue.CATALOGUE.values()) + 2 + sum(map(len, catalogue.MAP_BARS.values()))
              + len(catalogue.NOT_A_DIGIT_BARS[2]))
    assert len(check_bars({})) == n_bars


def _listings(source: str, names: set[str]) -> list[int]:
    """Lines where a list, tuple, set or dict (its keys) holds three or more of ``names`` as string literals,
    however it is laid out (one name a line or all on one)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        elts = node.elts if isinstance(node, (ast.List, ast.Tuple, ast.Set)) else node.keys if isinstance(node, ast.Dict) else []
        if len({e.value for e in elts if isinstance(e, ast.Constant) and e.value in names}) >= 3:
            out.append(node.lineno)
    return out


def test_names_of_the_zoo_are_kept_in_the_catalogue_only():
    """Outside tests/ and bench/, a list of three or more shipped model names appears only in the catalogue
    and the recipes (a page or a module asks the catalogue which models have a role; the model registry finds
    its classes by their files)."""
    offenders = []
    for path in [*ROOT.glob("*.py"), *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py"), *(ROOT / "rep_models").rglob("*.py"),
                 *(ROOT / "scripts").rglob("*.py"), *(ROOT / "harness").rglob("*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("rep_models/catalogue.py", "rep_models/zoo.py"):
            continue
        offenders += [f"{rel}:{line}" for line in _listings(path.read_text(), set(ZOO))]
    assert not offenders, offenders


def test_the_listing_check_sees_lists_in_any_layout():
    names = {"vae", "gan", "conv_ae"}
    assert _listings('x = ["vae", "gan", "conv_ae"]', names) == [1]
    assert _listings('x = {\n    "vae": 1,\n    "gan": 2,\n    "conv_ae": 3,\n}', names) == [1]  # a registry's keys
    assert _listings('if name in ("vae",\n            "gan", "conv_ae"): pass', names) == [1]
    assert _listings('x = ["vae", "gan"]\ny = "conv_ae"', names) == []  # two are not a list of the zoo
