"""The latent map where WebGL is there but its shaders fail (an old or blocklisted GPU driver): the map must fall
back to its 2-D canvas and still show the 10,000 dots, not a blank square."""
from __future__ import annotations

import pytest
from browser_support import assert_no_error, browser, st_server, wait_idle  # noqa: F401

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_support"]

MAP_CANVAS = "canvas[data-role='latent-map']"
BREAK_SHADERS = """
WebGLRenderingContext.prototype.getShaderParameter = function (shader, pname) {
  return pname === this.COMPILE_STATUS ? false : null;
};
WebGLRenderingContext.prototype.getShaderInfoLog = function () { return "compile failed (test)"; };
"""
FIND_CANVAS = ("() => { for (const e of document.querySelectorAll('*')) { const c = e.shadowRoot && "
               f"e.shadowRoot.querySelector({MAP_CANVAS!r}); if (c) return c; }} return null; }}")


def test_map_falls_back_to_2d_when_shaders_fail(st_server, browser):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1400, "height": 1200})
    try:
        ctx.add_init_script(BREAK_SHADERS)
        page = ctx.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{st_server}/latent_map")
        page.get_by_role("heading", name="Latent map", exact=True).first.wait_for()
        page.wait_for_function(f"() => {{ const c = ({FIND_CANVAS})(); return c && Number(c.dataset.points) >= 10000; }}",
                               timeout=60_000)
        wait_idle(page)
        renderer, inked = page.evaluate(f"""() => {{
            const c = ({FIND_CANVAS})();
            const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let inked = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) inked++;
            return [c.dataset.renderer, inked / (c.width * c.height)];
        }}""")
        assert renderer == "2d"
        assert inked > 0.01, f"only {100 * inked:.2f} % of the map's pixels are drawn"
        assert_no_error(page)
    finally:
        ctx.close()
