"""Big dashboard runs in the background: a progress bar, a Cancel button, the previous results kept.

A run over `runner.BIG_CELLS` arm-path-weeks (4x the default page) runs on a thread of its own
while the page shows its progress, chunk by chunk, and a Cancel button. Cancel drops the chunks
not yet started (the worker finishes the one in hand, about 1/32 of the run, and is free), and
the page goes on showing the results it showed before. A big run that its session stops
looking at for `runner.ABANDONED` seconds (the tab closed, another page shown) stops too.
A finished big run is kept for the
server (at most `KEEP`), so that coming back to it does not run it again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import streamlit as st

import sim
from app import results, runner, session

__all__ = ["KEEP", "view_for"]

JOB = "repsim-big-run"  # session_state: the session's big run in flight (a Job)
SHOWN = "repsim-shown"  # session_state: the last View this session showed
KEEP = 8  # finished big runs kept for the server: a View is a few MB (no per-path arrays)
POLL = 0.25  # seconds between updates of the progress bar

# the page greys every element while its script runs (compare.BUSY_CSS): a big run's script
# runs all along, and its bar and button stay at full strength
CSS = """<style>
[data-testid=stMain] .st-key-repsim-progress.st-key-repsim-progress
  [data-testid=stElementContainer] { opacity: 1 !important; }
</style>"""


@dataclass
class Job:
    """A session's big run: its scenario, its ticket (progress, cancel) and its future View."""

    toml: str
    ticket: runner.Ticket
    future: Future[results.View]


_threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="repsim-big-runs")
_lock = threading.Lock()
_done: OrderedDict[str, results.View] = OrderedDict()


def _compute(toml: str, ticket: runner.Ticket) -> results.View:
    with runner.watching(ticket):
        return results.compute_view(toml)


def _kept(toml: str) -> results.View | None:
    with _lock:
        view = _done.get(toml)
        if view is not None:
            _done.move_to_end(toml)
        return view


def _keep(view: results.View) -> None:
    with _lock:
        _done[view.toml] = view
        _done.move_to_end(view.toml)
        while len(_done) > KEEP:
            _done.popitem(last=False)


def view_for(toml: str) -> results.View | None:
    """The view to show for these settings: a run as `session.view_for` does it, a big one with
    progress and Cancel (a run whose session has gone stops by itself: `runner.ABANDONED`).
    After a Cancel: the previous view (None if there is none), under a note.
    Over the session budget: `sim.ScenarioError`, as `session.view_for`."""
    sc = sim.loads_scenario(toml, "settings")
    if runner.cells(sc) <= runner.BIG_CELLS:
        view = session.view_for(toml)
    else:
        problems = runner.budget_problems(sc)
        if problems:
            raise sim.ScenarioError(problems)
        view = _kept(toml) or _big(toml, sc)
    if view is None:
        return _previous(sc)
    job = st.session_state.get(JOB)
    if job is not None and job.toml != toml:  # settings changed while a big run was going
        job.ticket.cancel()
        del st.session_state[JOB]
    st.session_state[SHOWN] = view
    return view


def _big(toml: str, sc: sim.Scenario) -> results.View | None:
    """Start (or follow, after a rerun) the session's big run; None once it is cancelled."""
    job: Job | None = st.session_state.get(JOB)
    if job is not None and job.toml != toml:  # the settings changed: the old run is not wanted
        job.ticket.cancel()
        job = None
    if job is None:
        ticket = runner.Ticket(sc.run.paths)
        ticket.seen()
        job = Job(toml, ticket, _threads.submit(_compute, toml, ticket))
        st.session_state[JOB] = job
    if job.ticket.cancelled:
        return None
    job.ticket.seen()
    st.html(CSS)
    box = st.container(key="repsim-progress")
    bar = box.progress(0.0, text=_text(job.ticket))
    box.button("Cancel", key="repsim-cancel", on_click=job.ticket.cancel, help=CANCEL_HELP)
    while True:
        job.ticket.seen()  # a closed tab stops looking: its run stops (runner.ABANDONED)
        try:
            view = job.future.result(timeout=POLL)
            break
        except FutureTimeout:
            # also where Streamlit stops this script run for a rerun (a click on Cancel, a
            # changed setting): the run goes on, and the next script run follows it
            bar.progress(min(1.0, job.ticket.done / job.ticket.total), text=_text(job.ticket))
        except runner.Cancelled:
            return None
    box.empty()
    del st.session_state[JOB]
    _keep(view)
    return view


CANCEL_HELP = "Stop this run; the results of the previous settings stay on the page."


def _text(ticket: runner.Ticket) -> str:
    if ticket.waiting:
        return "Waiting for another big run to finish (big runs take turns on one core)…"
    return (
        f"Simulated {ticket.done:,} of {ticket.total:,} futures (a big run: over "
        f"{runner.BIG_CELLS:,} rule-path-weeks, on one core)"
    )


def _again() -> None:
    st.session_state.pop(JOB, None)


def _previous(sc: sim.Scenario) -> results.View | None:
    """After a Cancel: a note, a button to run it after all, and the view shown before."""
    view = st.session_state.get(SHOWN)
    shown = "The results below are those of the previous settings." if view is not None else ""
    st.warning(
        f"Run cancelled: {sc.run.paths:,} futures over {sc.run.weeks} weeks were not simulated. "
        f"{shown} Lower the paths or weeks in the sidebar, or run it after all."
    )
    st.button("Run it after all", key="repsim-run-again", on_click=_again)
    return view
