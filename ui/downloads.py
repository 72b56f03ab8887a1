"""Download buttons whose file is made only when clicked: ``data`` is a callable (``st.download_button`` calls it
on the click, streamlit 1.67), so no page encodes a PNG, GIF or model on every rerun. The bytes come from
``rep_models.exports``; ``on_click="ignore"``: a download does not rerun the page."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

MIMES = {".png": "image/png", ".gif": "image/gif", ".csv": "text/csv", ".zip": "application/zip"}


def button(label: str, make: Callable[[], bytes], file_name: str, key: str, help: str | None = None) -> None:
    """A download button for the file ``file_name`` that ``make()`` produces when clicked."""
    st.download_button(label, data=make, file_name=file_name, mime=MIMES.get(Path(file_name).suffix, "application/octet-stream"),
                       icon=":material/download:", key=key, on_click="ignore", help=help)
