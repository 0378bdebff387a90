"""Compare page: the rules side by side, headline figures, fan charts and exports."""

from __future__ import annotations

import contextlib
import html
import re

import streamlit as st

import sim
from app import charts, controls, dispute_view, long_runs, results, runner, session, tornado_view
from app.charts import CHART_TITLES
from app.docs import LIMITS_SHORT
from app.export_row import export_row
from app.results import Headline, View

CHART_ORDER = ("stars", "jss", "win_prob", "earnings", "recovery", "ratings_needed")
SPINNER_CELLS = 4_000_000  # rule-path-weeks above which a run is also told in words
# While a change is being computed: the figures and charts on screen are greyed and a bar runs
# along the top of the page, from the moment a sidebar slider moves (BUSY_JS marks the page at
# the key press or the release of the thumb, before the change is sent) until Streamlit says the
# run is over. Streamlit's own state comes too late for this: it shows the run as started 50 to
# 170 ms after the key press (its server starts the run within 10 ms), and on its own it greys
# the figures only after ~0.7 s, fading in over a second, with no indicator until the spinner
# shows at 0.5 s. The bar moves by a transform, which the compositor animates on its own: the
# page's main thread, busy with the redraw, paints nothing for it (a moving background was
# repainted on that thread at every frame); and in ten steps a second, not sixty, which is a
# sixth of the frames to composite on the same two cores.
WAITING = (
    ":is(html[data-repsim-busy] [data-testid=stApp],"
    " [data-testid=stApp]:is([data-test-script-state=rerunRequested],"
    "[data-test-script-state=running]))"
)
BUSY_CSS = f"""<style>
{WAITING} [data-testid=stMainBlockContainer] {{
  opacity: 0.4 !important; transition: none !important;
}}
[data-testid=stMain] [data-stale=true] {{  /* Streamlit's own, delayed fade: the block's only */
  opacity: 1 !important; transition: none !important;
}}
{WAITING} [data-testid=stMain]::before {{
  content: ""; position: fixed; top: 0; left: 0; right: 0; height: 4px; z-index: 1000100;
  background: linear-gradient(90deg, transparent 0 30%, #4e79a7 30% 70%, transparent 70%);
  animation: repsim-busy 1s steps(10) infinite; will-change: transform;
}}
@keyframes repsim-busy {{
  from {{ transform: translateX(-70%); }} to {{ transform: translateX(70%); }}
}}
</style>"""
# Marks the page busy (html[data-repsim-busy]) when a sidebar slider is moved by a key or let go
# of; the mark goes when Streamlit's run is over, or after BUSY_MS if no run came (a key at the
# end of a slider's range changes nothing). A constant: nothing from a user or a file is in it.
BUSY_MS = 1000
BUSY_JS = f"""<script>
(() => {{
  if (window.__repsimBusy) return;
  window.__repsimBusy = true;
  const root = document.documentElement;
  const slider = "[data-testid=stSidebar] [data-testid=stSlider]";
  const keys = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp", "PageDown",
                "Home", "End"];
  let timer = 0;
  const clear = () => {{ delete root.dataset.repsimBusy; clearTimeout(timer); }};
  const busy = () => {{
    root.dataset.repsimBusy = "";
    clearTimeout(timer);
    timer = setTimeout(clear, {BUSY_MS});
  }};
  const on = (e) => e.target instanceof Element && e.target.closest(slider);
  document.addEventListener("keydown", (e) => {{ if (keys.includes(e.key) && on(e)) busy(); }},
                            true);
  document.addEventListener("pointerup", (e) => {{ if (on(e)) busy(); }}, true);
  const app = document.querySelector("[data-testid=stApp]");
  let ran = false;  // the run this mark waits for has started
  new MutationObserver(() => {{
    const state = app.getAttribute("data-test-script-state");
    if (state === "running") ran = true;
    else if (state === "notRunning" && ran) {{ ran = false; clear(); }}
  }}).observe(app, {{attributes: true, attributeFilter: ["data-test-script-state"]}});
}})();
</script>"""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "scenario"


def _money(text: str) -> str:
    return text.replace("$", "\\$")  # Markdown would read "$...$" as LaTeX


def _metric(col: st.delta_generator.DeltaGenerator, h: Headline) -> None:
    col.metric(h.label, h.value, help=_money(h.help) or None)
    if h.note:
        col.caption(_money(h.note))


def _swatch(view: View, arm: str) -> str:
    """The rule's name after a square in its chart colour (the same on every chart)."""
    colour = charts.arm_colours(view.arms)[arm]
    # the name may come from an upload or an address: as text, never as HTML
    return f'<span style="color:{colour}">■</span> **{html.escape(arm)}**'


def _today(view: View) -> None:
    st.subheader("Today, under each rule")
    st.caption(session.plain(results.leaves_caption(view)))  # the dates it stops counting
    for arm in view.arms:
        with st.container(border=True):
            st.markdown(_swatch(view, arm), unsafe_allow_html=True)
            figures = results.now_figures(view, arm)
            for col, h in zip(st.columns(len(figures)), figures, strict=True):
                _metric(col, h)


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
            st.markdown(results.lead_sentence(view.summary, arm))
            cols = st.columns(3)
            for col, h in zip(cols, results.difference_figures(view, arm), strict=True):
                _metric(col, h)
            st.markdown(results.comparison_sentence(view.summary, arm, view.today))


def _export_buttons(view: View, name: str) -> None:
    export_row(view.specs[name], f"{_slug(view.name)}-{name}", f"export-{name}")


def _draw(views: list[dict], name: str) -> None:
    """One panel: its views top to bottom, each as wide as the column."""
    for spec in views:
        st.vega_lite_chart(spec=spec, width="stretch", theme=None, alt=CHART_TITLES[name])


def _grid(view: View, name: str, panels: list[list[dict]]) -> None:
    """Small multiples: one panel per rule against the reference, two to a row (one on a
    phone, where columns stack)."""
    title = charts.screen_title(view.specs[name])
    with st.container(border=True):
        if title is not None:
            st.markdown(f"**{title[0]}**")
            st.caption(title[1])
        for first in range(0, len(panels), 2):
            row = panels[first : first + 2]
            for col, views in zip(st.columns(2), row, strict=False):
                with col:
                    _draw(views, name)
        _export_buttons(view, name)


def _charts(view: View) -> None:
    """Single charts two to a row; a chart of small multiples takes a row of its own."""
    pending: list[tuple[str, list[dict]]] = []

    def flush() -> None:
        if pending:
            for col, (name, views) in zip(st.columns(2), pending, strict=False):
                with col:
                    _draw(views, name)
                    _export_buttons(view, name)
            pending.clear()

    for name in CHART_ORDER:
        panels = charts.screen_panels(view.specs[name])
        if len(panels) > 1:
            flush()
            _grid(view, name, panels)
        else:
            pending.append((name, panels[0]))
            if len(pending) == 2:
                flush()
    flush()


def _files(view: View) -> None:
    st.subheader("Files")
    stem = _slug(view.name)
    files = (
        ("Bands (CSV)", view.bands_csv, f"{stem}-bands.csv", "text/csv"),
        ("Summary (JSON)", view.summary_json, "summary.json", "application/json"),
        ("Headlines (CSV)", view.headlines_csv, f"{stem}-headlines.csv", "text/csv"),
        ("Scenario (TOML)", view.scenario_toml, f"{stem}.toml", "application/toml"),
    )
    cols = st.columns(len(files) + 1)
    with cols[-1]:
        dispute_view.report_button(view, stem)
    for col, (label, data, file_name, mime) in zip(cols, files, strict=False):
        col.download_button(
            label, data=data, file_name=file_name, mime=mime, key=f"file-{file_name}",
            on_click="ignore",
        )  # fmt: skip
    st.caption(
        "The scenario TOML holds every setting, [run] included: `repsim run` accepts it as is. "
        "The address bar holds the same settings: copy it to share this view."
    )


def render() -> None:
    st.html(BUSY_CSS + BUSY_JS, unsafe_allow_javascript=True)
    session.prepare()
    session.sidebar()
    if session.big_run(session.current()[0]):
        _figures()  # its Cancel must stop the script run: no fragment (session.big_run)
    else:
        figures()


def _figures() -> None:
    """Everything under the sidebar: what a control's change reruns (session._changed)."""
    session.pull_widgets()  # in a rerun of this fragment alone, prepare() has not run
    session.sync_url()
    for note in session.notices():
        st.warning(note)
    sc, problems = session.current()
    st.title("What one unfair rating costs")
    if sc is None:
        st.error(
            "These settings do not make a valid scenario; change the control named below.\n\n"
            + controls.problems_markdown(problems)
        )
        return
    st.markdown(f"**{session.plain(sc.name)}.** {session.plain(sc.description)}")
    # the bar at the top (BUSY_CSS) shows the page at work at once; a run well over the default
    # page's (2 million rule-path-weeks, done within the second on a quiet machine) says what
    # it does in words too: a spinner at 0.5 s in a short redraw is drawn and removed for nothing
    words = runner.cells(sc) > SPINNER_CELLS
    spinner = f"Simulating {sc.run.paths:,} futures over {sc.run.weeks} weeks…"
    with st.spinner(spinner) if words else contextlib.nullcontext():
        try:
            view = long_runs.view_for(sim.dumps_scenario(sc))  # big: progress, Cancel
        except (MemoryError, sim.ScenarioError, ValueError) as e:
            # a valid scenario that still cannot run here: say so, keep the settings
            st.error(
                f"This scenario could not be simulated: {e}. Try fewer paths or weeks "
                "(Simulation in the sidebar); your settings are kept."
            )
            return
    if view is None:  # a big run cancelled before this session showed any results
        return
    st.info(LIMITS_SHORT)
    _today(view)
    if len(view.arms) > 1:
        _differences(view)
    _charts(view)
    tornado_view.render(view, _slug(view.name))
    _files(view)
    st.caption(
        f"{view.paths:,} futures × {view.weeks} weeks · seed {view.seed} · "
        f"scenario sha256 `{view.sha256[:16]}`"
    )
    session.step_ahead()  # the next notch, simulated on idle CPU while this page is read


figures = st.fragment(_figures, key=session.FIGURES)


render()
