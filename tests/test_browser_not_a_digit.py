"""In headless Chromium: a letter drawn with the mouse on the Draw page is called not a digit, with the classifier's
guess shown as unreliable and the reason beside it; a digit drawn the same way is not. Screenshots go to artifacts/."""
from __future__ import annotations

import pytest

from rep_models import checkpoint

pytest.register_assert_rewrite("browser_support")  # before the import: its asserts give full messages
from browser_support import assert_no_error, draw_strokes, screenshot, wait_idle  # noqa: E402

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_support"]

# Mouse strokes, fractions of the canvas (the same figures as tests/test_ood.py scores without a browser).
LETTER_H = [[(0.3, 0.2), (0.3, 0.8)], [(0.7, 0.2), (0.7, 0.8)], [(0.3, 0.5), (0.7, 0.5)]]  # measured: percentile 99.9
SEVEN = [[(0.25, 0.22), (0.75, 0.22), (0.42, 0.85)]]  # measured: percentile 60.8


def test_a_drawn_letter_is_flagged_as_not_a_digit(open_page):
    if not (checkpoint.PRETRAINED_DIR / "classifier.json").is_file():
        pytest.skip("the classifier is not shipped")
    page = open_page("draw", wait_for_text="Draw a digit on the black canvas")
    draw_strokes(page, LETTER_H)
    page.get_by_text("I don't think this is a digit; if it were, it would be a").wait_for()
    wait_idle(page)
    assert_no_error(page)
    assert page.get_by_text("unreliable: not a digit").count() == 1  # the classifier's guess, marked
    assert page.get_by_text("not-a-digit score").count() >= 1  # why: which score, where it falls among digits
    assert page.get_by_text("The convolutional autoencoder alone").count() == 1  # its own score stays beside it
    screenshot(page, "draw_letter_h")
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit on the black canvas").wait_for()
    draw_strokes(page, SEVEN)
    page.get_by_text("This looks like a digit").wait_for()
    wait_idle(page)
    assert page.get_by_text("I don't think this is a digit").count() == 0
    assert_no_error(page)
