"""Train live's "Compare activations" in the page (AppTest): a link opens it with its activations and learning rate,
Train steps every copy, the three charts, the table and the verdicts on the seeds' claims follow, and a new pick
starts a new comparison."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rep_models.training import activation_race

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "9_train_live.py")


@pytest.fixture(autouse=True)
def no_time_limit(monkeypatch):
    monkeypatch.setattr(activation_race, "MAX_SECONDS_PER_CALL", 1e9)  # the tests count steps


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(el.proto.spec).get("layout", {}).get("title", {}).get("text", "") for el in at.get("plotly_chart")]


def test_a_link_opens_the_comparison_and_train_steps_every_copy():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params.update({"section": "activations", "activations": "relu,leaky_relu", "lr": "large", "steps": "100"})
    at.run()
    assert not at.exception, at.exception
    race = at.session_state["act_race"]
    assert race.names == ["relu", "leaky_relu"] and race.preset == "large" and race.steps == 0
    assert not chart_titles(at) and any("Press Train" in c.value for c in at.caption)
    at.button(key="act_step").click().run()
    assert not at.exception, at.exception
    assert at.session_state["act_race"].steps == 100
    titles = chart_titles(at)
    assert any("Training loss" in c for c in titles) and any("Dead hidden units" in c for c in titles) \
        and any("Gradient norm" in c for c in titles), titles
    (table,) = at.dataframe
    assert list(table.value.iloc[:, 0]) == ["ReLU", "Leaky ReLU"] and "dead, layer 1" in table.value.columns
    said = " ".join(m.value for m in at.markdown)
    assert "What these 100 steps say" in said and "many ReLU units die" in said
    at.multiselect(key="act_names").set_value(["relu", "sigmoid", "tanh"]).run()  # a new pick: a new comparison
    assert not at.exception, at.exception
    assert at.session_state["act_race"].names == ["relu", "sigmoid", "tanh"] and at.session_state["act_race"].steps == 0
    at.multiselect(key="act_names").set_value(["relu"]).run()
    assert any("at least 2" in i.value for i in at.info)
