"""Compare page: the rules side by side, headline figures, fan charts and exports."""

from __future__ import annotations

import functools
import re

import streamlit as st

import sim
from app import results, session
from app.charts import CHART_TITLES, PALETTE
from app.docs import LIMITS_SHORT
from app.export import FORMATS, MIME, chart_bytes
from app.results import Headline, View

CHART_ROWS = (("stars", "jss"), ("win_prob", "earnings"), ("recovery", "ratings_needed"))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "scenario"


def _money(text: str) -> str:
    return text.replace("$", "\\$")  # Markdown would read "$...$" as LaTeX


def _metric(col: st.delta_generator.DeltaGenerator, h: Headline) -> None:
    col.metric(h.label, h.value, help=_money(h.help) or None)
    if h.note:
        col.caption(_money(h.note))


def _swatch(view: View, arm: str) -> str:
    colour = PALETTE[view.arms.index(arm) % len(PALETTE)]
    return f'<span style="color:{colour}">■</span> **{arm}**'


def _today(view: View) -> None:
    st.subheader("Today, under each rule")
    for arm in view.arms:
        with st.container(border=True):
            figures = results.now_figures(view, arm)
            cols = st.columns([1.1] + [1] * len(figures), vertical_alignment="center")
            cols[0].markdown(_swatch(view, arm), unsafe_allow_html=True)
            for col, h in zip(cols[1:], figures, strict=True):
                _metric(col, h)


def _sentence(view: View, arm: str) -> str:
    """The comparison in words (dollars escaped: st.markdown reads $...$ as LaTeX)."""
    d = view.summary["differences"][arm]
    jobs, money = d["jobs"]["mean"] or 0.0, d["earnings"]["mean"] or 0.0
    median = d["weeks_to_recover"]["median"]
    recover = (
        f"half the futures take {median:.0f} weeks or more to recover"
        if median is not None
        else f"most futures do not recover within {view.weeks} weeks"
    )
    return (
        f"With **{arm}** instead of **{view.reference}**, the freelancer has "
        f"{abs(jobs):.1f} {'more' if jobs >= 0 else 'fewer'} jobs and "
        f"\\${abs(money):,.0f} {'more' if money >= 0 else 'less'} in net earnings by week "
        f"{view.weeks}, on average; {recover}."
    )


def _differences(view: View) -> None:
    st.subheader(f"By week {view.weeks}: each rule against {view.reference}")
    st.caption(
        f"Each figure is the rule minus {view.reference} on the same futures (common random "
        f"numbers), mean over {view.paths:,} futures with its 90% interval. With "
        f"{view.reference} as the reference, a positive figure is what keeping the feedback costs."
    )
    for arm in view.arms[1:]:
        with st.container(border=True):
            st.markdown(_swatch(view, arm) + f" vs {view.reference}", unsafe_allow_html=True)
            cols = st.columns(3)
            for col, h in zip(cols, results.difference_figures(view, arm), strict=True):
                _metric(col, h)
            st.markdown(_sentence(view, arm))


def _export_buttons(view: View, name: str) -> None:
    stem = f"{_slug(view.name)}-{name}"
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        for fmt in FORMATS:
            # a plain arrow, not a Material icon: 18 icon glyphs cost ~25 ms on every redraw
            st.download_button(
                f"↓ {fmt.upper()}",
                data=functools.partial(chart_bytes, view.specs[name], fmt),  # built when clicked
                file_name=f"{stem}.{fmt}",
                mime=MIME[fmt],
                key=f"export-{name}-{fmt}",
                on_click="ignore",
                type="tertiary",
            )


def _charts(view: View) -> None:
    for row in CHART_ROWS:
        cols = st.columns(2)
        for col, name in zip(cols, row, strict=True):
            with col:
                st.vega_lite_chart(
                    spec=view.specs[name], width="content", theme=None, alt=CHART_TITLES[name]
                )
                _export_buttons(view, name)


def _files(view: View) -> None:
    st.subheader("Files")
    stem = _slug(view.name)
    files = (
        ("Bands (CSV)", view.bands_csv, f"{stem}-bands.csv", "text/csv"),
        ("Summary (JSON)", view.summary_json, "summary.json", "application/json"),
        ("Scenario (TOML)", lambda: view.toml, f"{stem}.toml", "application/toml"),
    )
    cols = st.columns(len(files))
    for col, (label, data, file_name, mime) in zip(cols, files, strict=True):
        col.download_button(
            label, data=data, file_name=file_name, mime=mime, key=f"file-{file_name}",
            on_click="ignore",
        )  # fmt: skip
    st.caption(
        "The scenario TOML holds every setting, [run] included: `repsim run` accepts it as is. "
        "The address bar holds the same settings: copy it to share this view."
    )


def render() -> None:
    session.prepare()
    session.sidebar()
    for note in session.notices():
        st.warning(note)
    sc, problems = session.current()
    st.title("What one unfair rating costs")
    if sc is None:
        st.error(
            "These settings do not make a valid scenario; change the control named below.\n\n"
            + session.problems_markdown(problems)
        )
        return
    st.markdown(f"**{session.plain(sc.name)}.** {session.plain(sc.description)}")
    with st.spinner(f"Simulating {sc.run.paths:,} futures over {sc.run.weeks} weeks…"):
        try:
            view = session.view_for(sim.dumps_scenario(sc))
        except (MemoryError, sim.ScenarioError, ValueError) as e:
            # a valid scenario that still cannot run here: say so, keep the settings
            st.error(
                f"This scenario could not be simulated: {e}. Try fewer paths or weeks "
                "(Simulation in the sidebar); your settings are kept."
            )
            return
    st.info(LIMITS_SHORT)
    _today(view)
    if len(view.arms) > 1:
        _differences(view)
    _charts(view)
    _files(view)
    st.caption(
        f"{view.paths:,} futures × {view.weeks} weeks · seed {view.seed} · "
        f"scenario sha256 `{view.sha256[:16]}`"
    )


render()
