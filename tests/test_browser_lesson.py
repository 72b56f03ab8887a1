"""In headless Chromium: the Lesson opens at the step its link names, Next moves on and the address bar follows,
an exercise's experiment runs from its button, and it reads in Chinese, on a phone too (screenshots in artifacts/)."""
from __future__ import annotations

import pytest

pytest.register_assert_rewrite("browser_support")
from browser_support import assert_no_error, screenshot, wait_idle  # noqa: E402

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_support"]


def test_a_link_opens_its_step_and_next_moves_on(open_page):
    page = open_page("lesson?step=14", wait_for_text="If an autoencoder rebuilds its input perfectly, is it a good one?")
    wait_idle(page)
    assert_no_error(page)
    assert page.get_by_text("Step 14 of 18").count() == 1
    assert page.get_by_text("The one-number model keeps its 30 training digits apart").count() == 1
    screenshot(page, "lesson_step14")
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Undercomplete or overcomplete: the main risk of each?").first.wait_for()
    page.wait_for_function("() => location.search.includes('step=15')")
    wait_idle(page)
    assert_no_error(page)
    screenshot(page, "lesson_step15")


def test_an_experiment_runs_in_chinese_and_on_a_phone(open_page):
    page = open_page("lesson?step=16&lang=zh", wait_for_text="如何绑定权重？为什么要绑定？")
    wait_idle(page)
    page.get_by_role("button", name="运行实验").click()
    page.get_by_text("绑定：210,224 个参数").first.wait_for(timeout=180_000)
    wait_idle(page)
    assert_no_error(page)
    screenshot(page, "lesson_zh_tied")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.url.split("?")[0] + "?step=7&lang=zh", wait_until="commit")
    page.get_by_text("变分自动编码器").first.wait_for()
    wait_idle(page)
    assert_no_error(page)
    screenshot(page, "lesson_zh_phone")
