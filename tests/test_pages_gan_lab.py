"""Train live's "Step a GAN" in the page (AppTest): the section opens from a link, each button moves its player,
the charts and the histogram follow, and the page never blocks on another session's stepping."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rep_models.training import gan_stepper

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "9_train_live.py")


@pytest.fixture(autouse=True)
def no_time_limit(monkeypatch):
    monkeypatch.setattr(gan_stepper, "MAX_SECONDS_PER_CALL", 1e9)  # the tests count steps


def open_gan(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["section"] = "gan"
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> list[str]:
    """The titles of the page's plotly charts."""
    import json

    out = []
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        out.append(spec.get("layout", {}).get("title", {}).get("text", ""))
    return out


def test_a_link_opens_the_section_and_each_button_moves_its_player():
    at = open_gan(steps="5")
    g = at.session_state["gan_lab"]
    assert g.steps == 0 and at.segmented_control(key="gan_lab_n").value == 5
    assert not any("judge" in c for c in charts(at))  # no score curve before the first step
    at.button(key="gan_lab_discriminator").click().run()
    assert not at.exception, at.exception
    g = at.session_state["gan_lab"]
    assert g.steps == 5 and {r.player for r in g.history} == {"discriminator"}
    at.button(key="gan_lab_generator").click().run()
    assert [r.player for r in at.session_state["gan_lab"].history[5:]] == ["generator"] * 5
    titles = charts(at)
    assert any("judge" in c for c in titles) and any("Which digits" in c for c in titles), titles
    assert any("KL divergence to uniform" in m.value for m in at.markdown)
    assert len(at.session_state["gan_lab_kl"]) == 3  # one point per view: 0, 5 and 10 steps
    at.button(key="gan_lab_reset").click().run()
    assert at.session_state["gan_lab"].steps == 0


def test_a_busy_server_says_so_instead_of_waiting(monkeypatch):
    monkeypatch.setattr(gan_stepper, "MAX_SECONDS_PER_CALL", 0.5)  # the page waits out one bounded call (2 s here), no more
    at = open_gan()
    assert gan_stepper.SERVER_SLOT.acquire(timeout=1)
    try:
        at.button(key="gan_lab_both").click().run()
    finally:
        gan_stepper.SERVER_SLOT.release()
    assert not at.exception, at.exception
    assert at.session_state["gan_lab"].steps == 0
    assert any("Someone else" in w.value for w in at.warning)


@pytest.mark.parametrize("bad", ["7", "many"])
def test_a_bad_step_count_in_the_link_is_ignored_with_a_note(bad):
    at = open_gan(steps=bad)
    assert at.segmented_control(key="gan_lab_n").value == 1
    assert any(bad in c.value for c in at.caption), [c.value for c in at.caption]
