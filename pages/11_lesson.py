"""Lesson: the chapter this app grew from, one step per screen, its exercises answered by experiments (ui/lesson.py)."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import streamlit as st

from ui import common as ui
from ui import links
from ui.i18n import t
from ui.lesson import STEPS

N = len(STEPS)
KEY = "lesson_step"

ui.page_header(t("nav.lesson"), t("lesson.what"), t("lesson.try_page"))


def _title(i: int) -> str:
    s = STEPS[i - 1]
    return t("lesson.step_title", i=i, title=t(f"lesson.{s.id}.title"), kind=t("lesson.kind.exercise" if s.exercise else "lesson.kind.chapter"))


def _move(by: int) -> None:
    st.session_state[KEY] = min(N, max(1, st.session_state.get(KEY, 1) + by))


with ui.page_guard("the lesson"):
    i = links.selectbox(t("lesson.go_to"), list(range(1, N + 1)), format_func=_title, key=KEY, param="step")
    st.progress(i / N, text=t("lesson.progress", i=i, n=N))
    step = STEPS[i - 1]
    st.header(t(f"lesson.{step.id}.title"))
    st.markdown(t(f"lesson.{step.id}.body"))
    step.demo()
    st.caption(t("common.try", what=t(f"lesson.{step.id}.try")))
    c_prev, _, c_next = st.columns([1, 3, 1])
    c_prev.button(t("lesson.prev"), icon=":material/arrow_back:", key="lesson_prev", disabled=i == 1, on_click=_move, args=(-1,),
                  width="stretch")
    c_next.button(t("lesson.next"), icon=":material/arrow_forward:", key="lesson_next", disabled=i == N, on_click=_move, args=(1,),
                  width="stretch")
