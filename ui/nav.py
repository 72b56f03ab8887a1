"""The app's pages and its navigation. Light on purpose: importing this module does not import torch.

Why it exists: with a ``pages/`` folder beside ``app.py``, the very first script run after a server start
uses Streamlit's legacy pages-folder mode (``PagesManager.uses_pages_directory`` is set from the folder's
existence when the first session opens; only ``st.navigation`` switches it off, for the whole process). In
that mode the sidebar lists file names and a deep link (``/vae``) runs the page script *without* ``app.py``.

So every script starts with :func:`leave_legacy_mode` before anything slow: in legacy mode it switches the
process to ``st.navigation`` and reruns at once, and the rerun goes through ``app.py`` to the same page (a
page's identity is its ``url_path``, which is what the legacy mode derives from the file name:
``pages/4_vae.py`` -> ``vae``). ``.streamlit/config.toml`` sets ``client.showSidebarNavigation = false``,
so the legacy mode's file-name list is never drawn; ``app.py`` draws the sidebar itself (:func:`sidebar`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ui import i18n, layout, links

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to the repository root
    title: str
    icon: str
    url_path: str
    section: str


PAGES: list[PageSpec] = [
    PageSpec("pages/2_draw.py", "Draw & reconstruct", ":material/draw:", "draw", "Explore"),
    PageSpec("pages/3_denoise.py", "Denoise", ":material/blur_off:", "denoise", "Explore"),
    PageSpec("pages/4_vae.py", "VAE latent explorer", ":material/tune:", "vae", "Latent spaces"),
    PageSpec("pages/5_latent_map.py", "Latent map", ":material/scatter_plot:", "latent_map", "Latent spaces"),
    PageSpec("pages/7_linear_pca.py", "Linear AE = PCA", ":material/linear_scale:", "linear_pca", "Latent spaces"),
    PageSpec("pages/6_gan.py", "GAN studio", ":material/auto_awesome:", "gan", "Generate"),
    PageSpec("pages/10_boltzmann.py", "Boltzmann machines", ":material/grain:", "boltzmann", "Generate"),
    PageSpec("pages/8_few_labels.py", "Few labels", ":material/label:", "few_labels", "Learn"),
    PageSpec("pages/9_train_live.py", "Train live", ":material/model_training:", "train_live", "Learn"),
    PageSpec("pages/11_lesson.py", "Lesson", ":material/school:", "lesson", "Learn"),
]
HOME = PageSpec("app.py", "Home", ":material/home:", "home", "")


def leave_legacy_mode() -> None:
    """Call first in ``app.py`` and in every page script. A no-op except on the first run after a start."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation does; the rerun below then runs app.py
        st.rerun()


def title(spec: PageSpec) -> str:
    """A page's title in the session's language (``nav.URL_PATH`` in the strings tables; English: ``spec.title``)."""
    return i18n.t(f"nav.{spec.url_path}")


def navigation(home: Callable[[], None]):
    """``st.navigation`` over Home (the callable ``home``) and :data:`PAGES`, grouped by section; returns
    ``{url_path: st.Page}`` and the page to run. The built-in menu is hidden (config), see :func:`sidebar`."""
    pages = {HOME.url_path: st.Page(home, title=title(HOME), icon=HOME.icon, url_path=HOME.url_path, default=True)}
    sections: dict[str, list] = {"": [pages[HOME.url_path]]}
    for spec in PAGES:
        pages[spec.url_path] = st.Page(spec.path, title=title(spec), icon=spec.icon, url_path=spec.url_path)
        sections.setdefault(spec.section, []).append(pages[spec.url_path])
    return pages, st.navigation(sections, position="sidebar")


def sidebar(pages: dict) -> None:
    """The language picker and the presentation mode, then the app's own page menu: Home, then each section's
    pages (the current one highlighted)."""
    language_picker()
    layout.toggle()
    specs = {HOME.url_path: HOME, **{p.url_path: p for p in PAGES}}
    section = None
    for url_path, page in pages.items():
        spec = specs[url_path]
        if spec.section != section:
            section = spec.section
            if section:
                st.caption(f"**{i18n.t('nav.section.' + section)}**")
        st.page_link(page, label=title(spec), icon=spec.icon)


def language_picker() -> str:
    """English or 简体中文, kept in the URL as ``lang`` (a link in Chinese opens in Chinese)."""
    return links.segmented_control(i18n.t("lang.label"), list(i18n.LANGS), key=i18n.KEY, param=i18n.KEY, default=i18n.DEFAULT,
                                   format_func=i18n.LANGS.get)
