"""Latent Lab: `streamlit run app.py`. The entry point: page config, navigation, sidebar and the Home page.

Navigation is ``st.navigation`` over ``ui.nav.PAGES``, drawn by ``ui.nav.sidebar``. The navigation goes out
before torch and the models are imported, and the first run after a start says that it is loading, so no
visitor looks at a blank page (ui/nav.py explains the legacy-mode switch that comes first).
"""
from __future__ import annotations

import os
import sys

import streamlit as st

from ui import i18n, layout, nav
from ui.i18n import t

nav.leave_legacy_mode()
st.set_page_config(page_title="Latent Lab", page_icon=":material/blur_on:", layout="wide", initial_sidebar_state=layout.sidebar_state())
layout.apply()  # images that fit the window; the presentation mode (ui/layout.py)



def _metrics_entry(all_metrics: dict, name: str):
    entry = all_metrics.get(name)
    if entry is None and isinstance(all_metrics.get("models"), dict):
        entry = all_metrics["models"].get(name)
    return entry if isinstance(entry, dict) else None


def home() -> None:
    st.title("Latent Lab")
    st.markdown(t("home.intro"))
    st.caption(t("home.start", device=ui.device_label()))
    links = ui.PAGES
    cols = st.columns(min(4, max(1, len(links))))
    for i, p in enumerate(links):
        cols[i % len(cols)].page_link(p.path, label=nav.title(p), icon=p.icon)

    all_metrics = ui.metrics()
    st.divider()
    st.subheader(t("home.models"))
    st.caption(t("home.models_source"))
    for family in catalogue.GROUPS:
        names = catalogue.in_group(family)
        st.markdown(f"#### {t('group.' + family)}")
        st.caption(t(f"group.{family}.blurb"))
        cols = st.columns(3)
        for i, name in enumerate(names):
            with cols[i % 3].container(border=True):
                st.markdown(f"**{i18n.model(name)}**")
                st.caption(i18n.model(name, "what"))
                c = ui.card(name) if ui.is_available(name) else None
                if c is None:
                    st.markdown(f":gray[{t('home.not_installed')}]")
                    continue
                n_params = c.get("n_parameters")
                lines = [t("home.params_m", n=f"{n_params / 1e6:.2f}") if isinstance(n_params, (int, float)) and n_params >= 1e5
                         else t("home.params", n=f"{n_params:,}") if isinstance(n_params, int) else ""]
                lines += [f"{i18n.tr(label)}: **{value}**" for label, value in headline_metrics(c, _metrics_entry(all_metrics, name))]
                st.markdown("  \n".join(x for x in lines if x))


pages, current = nav.navigation(home)
with st.sidebar:
    nav.sidebar(pages)
loading = st.empty()
if "torch" not in sys.modules:  # the first run after a start: imports take seconds
    loading.info(t("home.loading"), icon=":material/hourglass_top:")

import torch  # noqa: E402 - after the navigation and the loading notice, on purpose

from rep_models import catalogue  # noqa: E402
from rep_models.device import flush_denormals  # noqa: E402
from ui import common as ui  # noqa: E402
from ui import warmup  # noqa: E402
from ui.headlines import headline_metrics  # noqa: E402

# One intra-op thread per request: the app answers many small requests (one digit at a time) from many
# sessions at once, where torch's thread pools only fight over the cores (a 1-image conv went from about
# 1 ms to over a second on a busy 2-core machine). LATENT_LAB_TORCH_THREADS overrides it.
torch.set_num_threads(max(1, int(os.environ.get("LATENT_LAB_TORCH_THREADS", "1"))))
flush_denormals()  # per thread, and Streamlit runs each script in its own thread (rep_models.device)
warmup.start()  # once per server, after this first run: the models and caches, in the background (ui/warmup.py)

with st.sidebar:
    st.caption(t("home.device", device=ui.device_label()))
loading.empty()
current.run()
