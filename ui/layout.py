"""The app's page-wide style: images that fit any window, and the presentation mode for a projector.

- **Every window size.** A strip of digits is drawn at a whole-pixel scale (``ui.display.show_image``) and was cut off
  at the right edge of a narrow column (the VAE explorer's 9-step interpolation at 1400 px). Images now shrink to
  their column (``max-width: 100%``, pixels kept sharp), and nothing on a page is wider than the window.
- **Phones.** Below 640 px Streamlit stacks the columns; the Draw page's preprocessing steps then move below its
  prediction and reconstructions, so those come right under the canvas.
- **Presentation mode** (``?present=1`` or the sidebar's toggle, kept in the link): larger type and images (the
  main column zoomed), the sidebar folded away when the page opens, the explanations folded (``page_header``).

Light: no torch (app.py calls it before the slow imports).
"""
from __future__ import annotations

import streamlit as st

from ui import links
from ui.i18n import t

KEY = "present"  # the toggle's session-state key and its URL parameter


def active() -> bool:
    """Whether this session is in presentation mode: the toggle's value, else the link's ``present=1``."""
    if KEY in st.session_state:
        return bool(st.session_state[KEY])
    return (st.query_params.get(KEY) if KEY in st.query_params else None) in ("1", "true", "on")


def sidebar_state() -> str:
    """``st.set_page_config``'s ``initial_sidebar_state``: folded away on a projector."""
    return "collapsed" if active() else "auto"


def toggle() -> bool:
    """The sidebar's presentation-mode switch (``?present=1`` in the link)."""
    return links.toggle(t("present.label"), False, key=KEY, param=KEY, help=t("present.help"))


def apply() -> None:
    """The page-wide style of this run (the presentation mode's on top when it is on). Constant HTML only
    (tests/test_safety.py): a style-only ``st.html`` goes to the page's event container and takes no space."""
    st.html("""<style>
[data-testid="stImage"] img, [data-testid="stImageContainer"] { max-width: 100%; height: auto; }
[data-testid="stImage"] img { image-rendering: pixelated; }
[data-testid="stMainBlockContainer"] { overflow-wrap: anywhere; }
@media (max-width: 640px) {
  .st-key-draw_steps, [data-testid="stVerticalBlock"] > :has(> .st-key-draw_steps) { order: 1; }
}
</style>""")
    if active():  # the main column 1.3x: type and images 30 % larger on a projector
        st.html("""<style>
[data-testid="stMainBlockContainer"] { zoom: 1.3; max-width: 100%; padding-left: 2rem; padding-right: 2rem; }
</style>""")
