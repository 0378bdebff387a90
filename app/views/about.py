"""About page: the model's documentation, its sources and its limits, stated plainly."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import session
from app.controls import CONTROLS, DERIVED, TAG_WORDS, field_info
from app.docs import LIMITS, read_doc


def _sources_table() -> pd.DataFrame:
    rows = []
    for c in CONTROLS:
        info = field_info(c.key)
        desc = (info.description if info is not None else "") or c.note
        key = "" if c.key in DERIVED else c.key
        rows.append({"setting": c.label, "key": key, "source": desc})
    return pd.DataFrame(rows)


def render() -> None:
    session.prepare()
    st.title("About the model")
    st.warning(LIMITS)
    st.markdown("Source tags: " + "; ".join(TAG_WORDS.values()) + ".")
    model = read_doc("model.md")
    if model is None:
        st.info("docs/model.md is not written yet; the settings and their sources are below.")
    else:
        st.markdown(model)
    with st.expander("Every setting on the Compare page and where its default comes from"):
        st.dataframe(_sources_table(), hide_index=True, width="stretch")
    simulation = read_doc("simulation.md")
    if simulation is not None:
        with st.expander("The weekly simulation, step by step (docs/simulation.md)"):
            st.markdown(simulation)


render()
