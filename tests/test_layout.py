"""Presentation mode (ui/layout.py) in AppTest: ``?present=1`` (or the sidebar's toggle) folds each page's explanations
into an expander and stays in the link; the page-wide style is sent every run. The browser test
(test_browser_layout.py) checks the sidebar, the sizes and that nothing runs past the window's edge."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.strings import en

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def _gan(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/6_gan.py").run()
    assert not at.exception, at.exception
    return at


def test_present_folds_the_explanations_and_stays_in_the_link():
    at = _gan({"present": "1"})
    assert at.toggle(key="present").value is True
    (about,) = [e for e in at.expander if e.label == en.STRINGS["present.about"]]
    assert any(en.STRINGS["gan.what"] in m.value for m in about.markdown)
    assert at.query_params.get("present") == "1"
    at.toggle(key="present").set_value(False).run()
    assert not [e for e in at.expander if e.label == en.STRINGS["present.about"]]
    assert any(en.STRINGS["gan.what"] in m.value for m in at.main.markdown)  # the explanation is back in the page
    assert "present" not in at.query_params


def test_without_present_the_explanations_are_open():
    at = _gan({})
    assert at.toggle(key="present").value is False
    assert not at.expander or all(e.label != en.STRINGS["present.about"] for e in at.expander)
    assert any(en.STRINGS["gan.what"] in m.value for m in at.main.markdown)
