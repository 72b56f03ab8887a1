"""The two themes (.streamlit/config.toml [theme.light], [theme.dark]) and how they reach the in-page components
(ui/js/theme.js). The browser half is tests/test_browser_theme.py."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "ui" / "js"
PAINTERS = ["digit_canvas.js", "scatter_map.js", "latent_sliders.js", "frame_player.js", "gan_grid.js", "walk_player.js"]  # components that draw on a canvas


def themes() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]


def rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb(hex_colour)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_both_themes_are_configured_with_the_same_options():
    """Both [theme.light] and [theme.dark]: Streamlit's menu then offers System / Light / Dark. No plain [theme]
    colours, which would apply to both and make one of them unreadable."""
    t = themes()
    assert set(t) == {"light", "dark"}, "only the two per-scheme sections"
    assert set(t["light"]) == set(t["dark"]), "a colour set in one theme only would come from Streamlit's default in the other"
    for name in ("primaryColor", "backgroundColor", "secondaryBackgroundColor", "textColor", "borderColor"):
        assert re.fullmatch(r"#[0-9a-f]{6}", t["light"][name]) and re.fullmatch(r"#[0-9a-f]{6}", t["dark"][name]), name


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_theme_is_readable(scheme):
    t = themes()[scheme]
    assert (luminance(t["backgroundColor"]) > 0.8) == (scheme == "light"), "the light theme light, the dark one dark"
    for bg in ("backgroundColor", "secondaryBackgroundColor"):
        assert contrast(t["textColor"], t[bg]) >= 7, f"text on {bg}: WCAG AAA for body text"
    assert contrast(t["primaryColor"], t["backgroundColor"]) >= 3, "the accent (sliders, the map's lasso) stands out"
    assert contrast(t["secondaryBackgroundColor"], t["backgroundColor"]) > 1.05, "the components' mats are visible"


@pytest.mark.parametrize("name", PAINTERS)
def test_every_painting_component_follows_the_theme(name):
    """Each component that paints ships theme.js and calls followTheme on every render (ui/live.py's bundles)."""
    from ui import live

    text = (JS / name).read_text(encoding="utf-8")
    assert "followTheme(" in text, f"{name} does not follow the page's theme"
    shared = ", ".join(f'"{n}"' for n in live._RUNTIME)  # the bundle every network-running component starts with
    bundles = [b.replace("*_RUNTIME", shared)
               for b in re.findall(r'_asset\(([^)]*)\)', (ROOT / "ui" / "live.py").read_text(encoding="utf-8"))]
    mine = [b for b in bundles if f'"{name}"' in b]
    assert mine and all('"theme.js"' in b and b.index('"theme.js"') < b.index(f'"{name}"') for b in mine), f"{name}'s bundle lacks theme.js before it"
    assert "function followTheme" in live._asset("dom.js", "theme.js", name)


def test_digits_stay_white_on_black():
    """The digits are MNIST data, not chrome: what is painted as a digit stays white on black in either theme."""
    canvas = (JS / "digit_canvas.js").read_text(encoding="utf-8")
    paint = canvas[canvas.index("function paint"):canvas.index("function send")]
    assert 'ctx.fillStyle = "#000"' in paint and 'ctx.strokeStyle = ctx.fillStyle = "#fff"' in paint
    for name in ("digit_canvas.js", "frame_player.js", "latent_sliders.css"):
        assert "background: #000" in (JS / name).read_text(encoding="utf-8"), name
