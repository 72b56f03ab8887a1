"""In headless Chromium: a shared link opens the view it names (``/gan?seed=1234`` shows seed 1234 and its grid),
the address bar follows the controls, "Share this view" shows the link, and a bad value gets a note, not an error."""
from __future__ import annotations

import re

import pytest

pytest.register_assert_rewrite("browser_support")
from browser_support import assert_no_error, needs, screenshot, wait_idle  # noqa: E402

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_support"]


def test_gan_link_opens_with_its_seed_and_the_url_follows_the_controls(open_page):
    from playwright.sync_api import expect

    needs("gan")
    page = open_page("gan?seed=1234&truncation=0.7", wait_for_text="seed 1234")
    wait_idle(page)
    assert_no_error(page)
    seed = page.get_by_label("Seed", exact=True)
    expect(seed).to_have_value("1234")  # retried: on a busy machine the input can fill in after the caption
    # the grid, made in the page from the link's view
    assert page.get_by_text(re.compile(r"64 samples · seed 1234 · truncation ±0\.7 · decoded in your browser")).count() == 1
    assert "seed=1234" in page.url and "truncation=0.7" in page.url
    screenshot(page, "link_gan")

    seed.fill("77")
    seed.press("Enter")
    page.get_by_text("seed 77").first.wait_for()
    page.wait_for_function("() => location.search.includes('seed=77')")  # the page's report reached the server
    wait_idle(page)
    assert "seed=77" in page.url and "truncation=0.7" in page.url

    page.get_by_role("button", name="Share this view").click()
    box = page.locator('[role="dialog"] code').first
    box.wait_for()
    assert re.search(r"/gan\?seed=77&truncation=0\.7$", box.inner_text().strip()), box.inner_text()
    screenshot(page, "link_share")

    again = open_page(page.url.split("/", 3)[3], wait_for_text="seed 77")  # the link, opened in a new tab
    expect(again.get_by_label("Seed", exact=True)).to_have_value("77")


def test_a_bad_value_in_a_link_gets_a_note_not_an_error(open_page):
    from playwright.sync_api import expect

    needs("gan")
    page = open_page("gan?seed=banana", wait_for_text="was ignored")
    assert_no_error(page)
    assert page.get_by_text("The link's seed=banana was ignored").count() == 1
    expect(page.get_by_label("Seed", exact=True)).to_have_value("0")
    assert "seed=" not in page.url
