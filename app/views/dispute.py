"""Dispute page: the platform's facts and whether reporting the disputed feedback is worth it."""

from __future__ import annotations

import re

import streamlit as st

import sim
from app import controls, dispute_view, session


def render() -> None:
    session.prepare()
    for note in session.notices():  # an address's values that could not be used, named
        st.warning(note)
    st.title("Report the feedback?")
    sc, problems = session.current()
    if sc is None:
        st.error(
            "These settings do not make a valid scenario; change the control named below on the "
            "Compare page.\n\n" + controls.problems_markdown(problems)
        )
        return
    st.markdown(
        f"**{session.plain(sc.name)}.** The case as set on the Compare page "
        f"({sc.run.paths:,} futures × {sc.run.weeks} weeks); change it there."
    )
    with st.spinner(f"Simulating {sc.run.paths:,} futures over {sc.run.weeks} weeks…"):
        try:
            view = session.view_for(sim.dumps_scenario(sc))
        except (MemoryError, sim.ScenarioError, ValueError) as e:
            st.error(f"This scenario could not be simulated: {e}. Try fewer paths or weeks.")
            return
    dispute_view.render(sc, view)
    stem = re.sub(r"[^a-z0-9]+", "-", sc.name.lower()).strip("-") or "scenario"
    dispute_view.report_button(view, stem)


render()
