"""The Compare page's tornado: what drives the figures, computed on request in the background.

A tornado is about 27 runs (two seconds or more): it is computed only when asked for, on a
thread of its own, so the page returns at once and the sliders stay live; a fragment polls it
until it is done. Results are kept per scenario (keyed on its canonical TOML, at most `KEPT`),
so going back to earlier settings shows their tornado at once. `st.cache_data` would hold the
script run for the whole computation, which is what the sliders must not wait for.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import streamlit as st

import sim
from app import charts, runner
from app.export_row import export_row
from app.results import View
from app.sensitivity_command import tornado_csv
from app.tornado_chart import tornado_chart
from sim import sensitivity as sens

__all__ = ["KEPT", "Drawn", "job", "paths_for", "render"]

KEPT = 16  # tornados kept (each a few KB)
ASKED = "tornado-asked"  # session state: the scenarios (sha256) this session asked a tornado of
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Drawn:
    """A finished tornado and its chart's Vega-Lite spec."""

    tornado: sens.Tornado
    spec: dict[str, Any]


_jobs: OrderedDict[str, Future[Drawn]] = OrderedDict()
_lock = threading.Lock()
# one long-lived thread: tornados queue behind one another, and a worker pool it (re)starts
# outlives it (Linux ties a child to the thread that started it; see app/runner.py)
_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="repsim-tornado")


def paths_for(sc: sim.Scenario) -> int:
    """The tornado's paths on the dashboard: the page's, at most the tornado's default."""
    return min(sc.run.paths, sens.DEFAULT_PATHS)


def _compute(toml: str) -> Drawn:
    sc = sim.loads_scenario(toml, "settings")
    paths = paths_for(sc)
    pool = runner.pool("small")
    if pool is None:
        t = sens.tornado(sc, paths=paths)
    else:
        # at most one run per worker in flight: a slider's run sent meanwhile waits for one
        # tornado run at most, not for the whole tornado
        t = pool.call(
            lambda ex: sens.tornado(sc, paths=paths, executor=ex, in_flight=runner.WORKERS)
        )
    return Drawn(t, tornado_chart(t).to_dict())


def job(toml: str, start: bool = False) -> Future[Drawn] | None:
    """The tornado of a scenario: its job if one was asked for (a failed one is started again
    when ``start``), a new job when ``start``, else None."""
    with _lock:
        f = _jobs.get(toml)
        if f is not None and not (start and f.done() and f.exception() is not None):
            _jobs.move_to_end(toml)
            return f
        if not start:
            return None
        f = _thread.submit(_compute, toml)
        _jobs[toml] = f
        _jobs.move_to_end(toml)
        while len(_jobs) > KEPT:
            _jobs.popitem(last=False)
        return f


@functools.lru_cache(maxsize=KEPT)
def _scenario(toml: str) -> sim.Scenario:
    """The scenario of a page's TOML, parsed once (the page redraws often)."""
    return sim.loads_scenario(toml, "settings")


def _too_big(sc: sim.Scenario) -> str | None:
    runs = 2 * len(sens.chosen_keys(sc)) + 1
    size = runs * len(sc.arms) * paths_for(sc) * sc.run.weeks
    if size <= runner.BUDGET_CELLS:
        return None
    return (
        f"A tornado of this scenario is {runs} runs of {paths_for(sc):,} paths x "
        f"{sc.run.weeks} weeks x {len(sc.arms)} rules, over the dashboard's budget; run "
        "`repsim sensitivity` on its TOML instead."
    )


def _wait(toml: str) -> None:
    f = job(toml)
    if f is None or f.done():
        st.rerun()  # the whole page: the chart is drawn with no more polling
    st.info("Working out what drives the figures: about 27 runs on the same futures…")


_poll = st.fragment(_wait, run_every=POLL_SECONDS)


def _words(t: sens.Tornado) -> str:
    """The largest swing of the cost in a sentence (the chart's text alternative)."""
    b = t.bars["earnings"][0] if t.bars.get("earnings") else None
    if b is None or b.at_low is None or b.at_high is None:
        return ""

    def money(x: float) -> str:
        return f"{'-' if x < 0 else ''}\\${abs(x):,.0f}"

    return (
        f"The cost moves most with `{b.key}`: {money(b.at_low)} at {b.low:g} and "
        f"{money(b.at_high)} at {b.high:g} (at the defaults {money(b.at_default or 0.0)})."
    )


def _exports(drawn: Drawn, stem: str) -> None:
    csv = (functools.partial(tornado_csv, drawn.tornado), f"{stem}-tornado.csv")
    export_row(drawn.spec, f"{stem}-tornado", "export-tornado", csv)


def render(view: View, stem: str) -> None:
    """The tornado section: a button, then (without holding the page) the chart."""
    if len(view.arms) < 2:
        return
    sc = _scenario(view.toml)
    st.subheader("What drives the figures")
    st.caption(
        "Each assumption tagged [A] or [D] set to the low and the high end of its plausible "
        f"range (About the model lists them), the others at their defaults, on "
        f"{paths_for(sc):,} futures with the same random numbers: the longest bars are "
        f"the assumptions the answer hangs on. For {view.arms[1]} against {view.reference}."
    )
    # shown where this session asked for it (then again at once when it comes back to these
    # settings); the results are shared by every session
    asked = st.session_state.setdefault(ASKED, {})
    f = job(view.toml) if view.sha256 in asked else None
    if f is None or (f.done() and f.exception() is not None):
        problem = _too_big(sc)
        if problem is not None:
            st.warning(problem)
            return
        if f is not None:
            st.error(f"The tornado could not be computed: {f.exception()}")
        if not st.button("Show what drives the figures", key="tornado-start"):
            return
        asked[view.sha256] = True
        while len(asked) > KEPT:
            del asked[next(iter(asked))]
        job(view.toml, start=True)
        st.rerun()  # the page again without the button: the tornado, or its progress
    if not f.done():
        _poll(view.toml)
        return
    drawn = f.result()
    with st.container(border=True):
        for panel in charts.screen_panels(drawn.spec):
            for spec in panel:
                st.vega_lite_chart(
                    spec=spec, width="stretch", theme=None, alt="What drives the figures"
                )
        st.markdown(_words(drawn.tornado))
        _exports(drawn, stem)
