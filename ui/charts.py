"""The charts' house style: every plotly figure of the app gets the same margins, title size, colours and
(no) toolbar from here, so the pages only say what a chart shows."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

BLUE, ORANGE, RED = "#4c78a8", "#f58518", "#e45756"
PALETTE = [BLUE, ORANGE, "#54a24b", RED, "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac", "#eeca3b", "#17becf"]
CONFIG = {"displayModeBar": False}  # a chart to read, not a tool: no zoom/pan/download toolbar


def styled(fig: go.Figure, height: int, title: str | None = None, **layout) -> go.Figure:
    """``fig`` in the house style: ``height`` px, tight margins (room above for a ``title``), then ``layout``."""
    base = {"height": height, "margin": dict(l=10, r=10, t=30 if title else 10, b=10)}
    if title:
        base["title"] = dict(text=title, font=dict(size=13))
    fig.update_layout(**{**base, **layout})
    return fig


def show(fig: go.Figure, key: str, **kwargs):
    """``st.plotly_chart`` with the house config; returns its event (for ``on_select``)."""
    return st.plotly_chart(fig, key=key, config=CONFIG, **kwargs)
