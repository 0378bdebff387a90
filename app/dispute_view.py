"""The dispute panel (the Dispute page): the platform's facts, then whether reporting the
feedback is worth her time (sim.dispute); and the "Case report (PDF)" download, which the
Compare page shows too. The dispute simulation runs only on the Dispute page or when the report
is downloaded, so it never slows the Compare page's redraw."""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

import sim
from app import dispute_query, report, report_typst, runner
from app.report_command import reproduce_command
from app.results import View
from sim import dispute, platform_facts

__all__ = ["case_pdf_bytes", "render", "report_button"]

KEYS = {"chance": "dispute-chance", "wait": "dispute-wait", "hours": "dispute-hours"}
STORE = dispute_query.STORE  # not a widget key: kept while other pages are shown
DEFAULTS = dispute_query.DEFAULTS
RANGE = {i.name: (i.lo, i.hi) for i in dispute_query.INPUTS}  # the address is bounded alike


def _money(text: str) -> str:
    return text.replace("$", "\\$")  # Markdown would read "$...$" as LaTeX


@st.cache_data(max_entries=16, show_spinner=False)
def _avoided(toml: str, wait: int) -> dispute.Avoided:
    """One simulation per scenario and wait; the chance and her time are arithmetic on it. It
    runs on the dashboard's worker processes (`runner.on_pool`, the big pool for a big run), not
    in the server's thread: the same result, to the bit."""
    sc = sim.loads_scenario(toml, "settings")
    size = 2 * sc.run.paths * sc.run.weeks  # two arms: the feedback stays, or it is removed
    return runner.on_pool(lambda ex: dispute.simulate_avoided(sc, wait, executor=ex), size)


def _stored() -> dict:
    """The inputs as last set on the Dispute page (the defaults before); widgets' own state
    is dropped by Streamlit while their page is not shown, this store is not."""
    return {**DEFAULTS, **st.session_state.get(STORE, {})}


def _inputs() -> dispute.DisputeInputs:
    s = _stored()
    return dispute.DisputeInputs(
        chance_upheld=s["chance"] / 100, wait_weeks=int(s["wait"]), hours=float(s["hours"])
    )


def _keep() -> None:
    st.session_state[STORE] = {
        name: st.session_state[key] for name, key in KEYS.items() if key in st.session_state
    }


def _facts(sc: sim.Scenario) -> None:
    rate = sc.freelancer.hourly_rate
    fee = platform_facts.conversion_fee(rate)
    forum = platform_facts.conversion_fee(rate, platform_facts.CONVERSION_FEE_SHARE_FORUM)
    st.markdown("**The platform's facts that bear on reporting it**")
    facts = platform_facts.FACTS
    for i, f in enumerate(facts):
        if i % 2 == 0:  # two by two on a desktop, in order one under the other on a phone
            cols = st.columns(2)
        text = f"**{f.title}.** {f.text}"
        if f.key == "conversion_fee":
            text += (
                f" At your ${rate:,.2f} an hour: "
                f"{platform_facts.CONVERSION_FEE_SHARE:.0%} × ${rate:,.2f} × "
                f"{platform_facts.CONVERSION_HOURS:,} h = **{report.money(fee)}** "
                f"({report.money(forum)} at the forum's 13.5%)."
            )
        with cols[i % 2].container(border=True):
            st.markdown(_money(text))
            st.caption(_money(f.source_line()))


def _table(values: tuple[dispute.HorizonValue, ...]) -> pd.DataFrame:
    m = report.money
    wide = {}
    if all(v.value_assumption_range is not None for v in values):
        wide["Over futures and assumptions"] = [
            f"{m(v.value_assumption_range[0])} to {m(v.value_assumption_range[1])}" for v in values
        ]
    return pd.DataFrame(
        {
            "By week": [v.weeks for v in values],
            "Expected value of reporting": [m(v.value) for v in values],
            "90% interval of that mean": [
                f"{m(v.value_ci90[0])} to {m(v.value_ci90[1])}" for v in values
            ],
            "In 9 futures of 10": [
                f"{m(v.value_range[0])} to {m(v.value_range[1])}" for v in values
            ],
            **wide,
            "Recovered if upheld (mean)": [m(v.avoided_mean) for v in values],
        }
    )


def render(sc: sim.Scenario, view: View) -> None:
    """The facts panel, the three inputs and the expected value of reporting, per horizon."""
    st.subheader("Is reporting it worth your time?")
    _facts(sc)
    if not any(h.flagged for h in sc.history):
        st.info(
            "No contract is marked as the disputed one (flagged), so there is nothing to report. "
            "Mark it in the scenario's history to see what reporting it is worth."
        )
        return
    stored = _stored()
    for name, key in KEYS.items():
        if key not in st.session_state:  # back on this page: the last values, not the defaults
            st.session_state[key] = stored[name]
    cols = st.columns(3)
    cols[0].slider(
        "Chance the report is upheld (%)",
        *RANGE["chance"],
        step=5,
        key=KEYS["chance"],
        on_change=_keep,
        help=_money(dispute.CHANCE_UPHELD_REASON),
    )
    cols[1].number_input(
        "Weeks until it is decided",
        *RANGE["wait"],
        step=1,
        key=KEYS["wait"],
        on_change=_keep,
        help=_money(dispute.WAIT_REASON),
    )
    cols[2].number_input(
        "Hours it takes you",
        *RANGE["hours"],
        step=0.5,
        format="%.1f",
        key=KEYS["hours"],
        on_change=_keep,
        help=_money(dispute.HOURS_REASON),
    )
    inputs = _inputs()
    with st.spinner("Simulating the removal after the wait…"):
        avoided = _avoided(view.toml, inputs.wait_weeks)
    values = dispute.value_of_reporting(avoided, inputs, sc)
    last = values[-1]
    label = dispute.removed_label(inputs.wait_weeks)
    m = report.money
    verdict = (
        "worth more than it costs you" if last.value > 0 else "not worth your time on these figures"
    )
    st.markdown(
        _money(
            f"By week {last.weeks}, reporting the feedback is worth **{m(last.value)}** to you on "
            f"average ({verdict}): a {inputs.chance_upheld:.0%} chance that it is **{label}**, "
            f"which recovers {m(last.avoided_mean)} of net earnings on average compared with "
            f"**if the rating stays** ({report.ranges_words({'futures90': last.avoided_range})}"
            f"), against {m(last.time_cost)} of "
            f"your time ({inputs.hours:g} h at ${sc.freelancer.hourly_rate:,.2f}). "
            f"Its value: {_value_words(last)}."
        )
    )
    st.dataframe(
        _table(values),
        hide_index=True,
        width="stretch",
        column_config={"By week": st.column_config.NumberColumn(pinned=True)},
    )
    st.caption(
        f"A future is one simulated course of your next {view.weeks} weeks; both cases run on "
        f"the same {avoided.paths:,} futures, each future's assumptions the same in both. "
        "Expected value = chance upheld × what the removal recovers − your time. "
        + (
            "With assumption uncertainty on (Compare page), each block of 256 futures draws its "
            "own value of every assumed setting from its plausible range."
            if avoided.points is not None
            else "Assumption uncertainty is off (Compare page): the model's assumptions are "
            "fixed at these settings, so there is no range over them."
        )
    )


def _value_words(v: dispute.HorizonValue) -> str:
    """The value's ranges in plain words, rounded as the Compare page's lead sentence."""
    return report.ranges_words(
        {"futures90": v.value_range, "assumptions90": v.value_assumption_range}
    )


def case_pdf_bytes(toml: str, summary: dict, specs: dict, inputs: dispute.DisputeInputs) -> bytes:
    """The case report of the page's run, as `repsim report` makes it from the same scenario."""
    sc = sim.loads_scenario(toml, "settings")
    avoided = _avoided(toml, inputs.wait_weeks) if any(h.flagged for h in sc.history) else None
    case = report.Case(
        sc,
        summary,
        specs,
        inputs if avoided is not None else None,
        avoided,
        tuple(reproduce_command(inputs, uncertainty=sc.uncertainty.on)),
    )
    return report_typst.case_pdf(case)


def report_button(view: View, file_stem: str) -> None:
    """The "Case report (PDF)" download, built when clicked."""
    st.download_button(
        "Case report (PDF)",
        data=functools.partial(case_pdf_bytes, view.toml, view.summary, view.specs, _inputs()),
        file_name=f"{file_stem}-case-report.pdf",
        mime="application/pdf",
        key="file-case-report",
        on_click="ignore",
        help="Two to four pages to attach to a support ticket or hand to counsel: the facts, "
        "what it costs with its ranges, the charts, the dispute figures, every assumption and "
        "how to reproduce it.",
    )
