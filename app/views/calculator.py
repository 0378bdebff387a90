"""Calculator page: one's own contracts in a table, today's signals under every rule."""

from __future__ import annotations

import streamlit as st

import sim
from app import calculator, controls, history_editor, session
from sim.market import HiringMarket, build_market

TOOLBAR_ROOM = 32  # px: with the gap between elements, the height of a table's toolbar


@st.cache_data(max_entries=8, show_spinner=False)
def _market(market_toml: str) -> HiringMarket:
    """The sampled competitor field depends on the market, hiring and seed, not the history."""
    return build_market(sim.loads_scenario(market_toml, "market"))


def render() -> None:
    session.prepare()
    st.title("Calculator")
    st.markdown(
        "Type in your own contracts and see, at once, what clients are shown today under each "
        "rule, and how many 5-star contracts it takes to climb back. Closed forms, no simulation; "
        "the market and signal settings come from the Compare page, and this table is the one "
        "in its sidebar: what you type here is what Compare simulates."
    )
    st.subheader("Your contracts")
    history_editor.render("page")  # the same table as the Compare page's sidebar
    sc, problems = session.current()
    if sc is None:
        st.error("The settings do not validate:\n\n" + controls.problems_markdown(problems))
        return
    table = calculator.signals_today(
        sc, _market(sim.dumps_scenario(sc.model_copy(update={"history": ()})))
    )
    st.subheader("Today, under each rule")
    st.space(TOOLBAR_ROOM)  # the table's toolbar shows above it on hover: not over the heading
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        placeholder="",  # the caption below calls them empty cells
        column_config={
            "rule": st.column_config.TextColumn(pinned=True),
            "stars": st.column_config.NumberColumn(format="%.2f"),
            "JSS": st.column_config.NumberColumn("JSS (%)", format="%.0f"),
            "win probability": st.column_config.NumberColumn(format="percent"),
        },
    )
    st.caption(
        "Empty cells: no stars or no Job Success Score shown yet (a JSS needs 2 contracts from 2 "
        "clients in a window), or a target out of reach. Ratings needed count further 5-star "
        "contracts under the rule's aggregator (the mean where no closed form exists), as if "
        "they all ended today; *in time* has one end every `market.contract_weeks` weeks and "
        "lets old feedback leave the JSS windows: how many, and the week (empty: not within the "
        "horizon)."
    )


render()
