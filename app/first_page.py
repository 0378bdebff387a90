"""The first page every visitor sees, run once when the server starts and shared by all sessions.

A new session's address without settings shows the dashboard's default scenario (the command
line's, else the reference case) at today's date: the same canonical TOML, so the same run and
the same page pieces, for everybody. app/serve.py calls `prepare_in_background` when the server
has started: the run goes into the page's own server-wide cache (`session.view_for`, the same
entry a session would fill), and the worker pools start with it (the idle pool too, which
simulates the next notch ahead: app/prefetch.py). A crowd's first pages are then
drawn without a run each (the first visitor no longer pays for the pools' start nor for the run),
and every other page still runs as before. Nothing is hidden: a session asking for the default
page before the run has finished waits for that same run (the cache computes a key once).
"""

from __future__ import annotations

import logging
import threading

import sim
from app import controls, prefetch, runner, session

__all__ = ["default_toml", "prepare", "prepare_in_background"]

_log = logging.getLogger(__name__)


def default_toml(argv: list[str] | None = None) -> str:
    """The canonical TOML of the page a new session without settings shows, as the page
    builds it (`session.current` with no overrides, at today's date)."""
    base, _ = session.start_base(session.script_args() if argv is None else argv)
    return sim.dumps_scenario(sim.with_today(controls.build_scenario(base.scenario(), {})))


def prepare(argv: list[str] | None = None) -> bool:
    """Run the default page's scenario into the shared cache; False (nothing run) when it is a
    big run (those have their own store, app/long_runs.py) or over the session budget."""
    toml = default_toml(argv)
    sc = sim.loads_scenario(toml, "settings")
    if runner.cells(sc) > runner.BIG_CELLS or runner.budget_problems(sc):
        return False
    session.view_for(toml)
    prefetch.start()  # the idle pool's workers, for the first notch a visitor steps
    return True


def _prepare_logged() -> None:
    try:
        prepare()
    except Exception:  # the page runs it itself then, and shows any problem where it belongs
        _log.warning("the default page could not be prepared at start", exc_info=True)


def prepare_in_background() -> threading.Thread:
    """`prepare` on a thread of its own, so that the server takes browsers meanwhile."""
    thread = threading.Thread(target=_prepare_logged, name="repsim-first-page", daemon=True)
    thread.start()
    return thread
