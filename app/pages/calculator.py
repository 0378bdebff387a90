"""Calculator page: one's own contracts in a table, today's signals under every rule."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import sim
from app import calculator, controls, session
from sim.market import HiringMarket, build_market

TABLE_KEY = "calculator-table"
TOOLBAR_ROOM = 32  # px: with the gap between elements, the height of a table's toolbar
HELP = (
    "One row per past contract, oldest first. Give its **stars**, or all six **criteria** "
    "(1-5; the contract's stars are their weighted mean, equal weights [A]), or both if they "
    "agree. **value** is what the contract paid in dollars; **ended_weeks_ago** when it ended; "
    "tick **flagged** on the disputed feedback. Where you know the client's record with other "
    "freelancers, give how many rated contracts it had and the mean it gave or received (the "
    "flagged-client rule reads it). Rows can be added and deleted."
)


@st.cache_data(max_entries=8, show_spinner=False)
def _market(market_toml: str) -> HiringMarket:
    """The sampled competitor field depends on the market, hiring and seed, not the history."""
    return build_market(sim.loads_scenario(market_toml, "market"))


def _editor(sc: sim.Scenario) -> pd.DataFrame:
    frame = calculator.history_frame(sc)
    number = st.column_config.NumberColumn
    config = {
        "client": st.column_config.TextColumn("client", required=True, pinned=True),
        "stars": number("stars", min_value=1.0, max_value=5.0, step=0.1, format="%.1f"),
        **{k: number(k, min_value=1.0, max_value=5.0, step=0.1) for k in calculator.CRITERIA},
        "value": number("value ($)", min_value=1.0, step=50.0, format="%.0f"),
        "ended_weeks_ago": number("ended_weeks_ago", min_value=0, step=1),
        "flagged": st.column_config.CheckboxColumn("flagged"),
        "client_ratings_given": number("client's rated contracts", min_value=0, step=1),
        "client_mean_given": number("client gave (mean)", min_value=1.0, max_value=5.0),
        "client_mean_received": number("client received (mean)", min_value=1.0, max_value=5.0),
        "client_suspended": st.column_config.CheckboxColumn("client suspended"),
    }
    return st.data_editor(
        frame,
        key=TABLE_KEY,
        num_rows="dynamic",
        column_config=config,
        hide_index=True,
        placeholder="",  # a missing value is an empty cell, not "None"
    )


def render() -> None:
    session.prepare()
    st.title("Calculator")
    st.markdown(
        "Type in your own contracts and see, at once, what clients are shown today under each "
        "rule, and how many 5-star contracts it takes to climb back. Closed forms, no simulation; "
        "the market and signal settings come from the Compare page."
    )
    st.caption(HELP)
    sc, problems = session.current()
    if sc is None:
        st.error("The settings do not validate:\n\n" + controls.problems_markdown(problems))
        return
    edited = _editor(sc)
    data = sc.model_dump(mode="json")
    data["history"] = calculator.history_rows(edited)
    try:
        mine = sim.validate_scenario(data, "table")
    except sim.ScenarioError as e:
        st.error("Fix these cells (rows count from 0):\n\n" + session.problems_markdown(e.problems))
        return
    table = calculator.signals_today(
        mine, _market(sim.dumps_scenario(sc.model_copy(update={"history": ()})))
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
