"""Settings one notch away from the page's, simulated ahead on idle CPU time.

After a control is changed, the page asks for the settings one step further in the same
direction and one step back (`session.step_ahead`). Those runs go to the idle pool
(`runner.on_idle`), whose workers run only on CPU time nothing else wants, and each builds the
whole View in its worker, so the server's own thread is not taken either. When the next change
lands on one of them, the page shows it at once (or waits for the rest of it, if it is under way)
instead of running it from the start. A run that the page waits for never waits for one of these:
it goes to the small pool, and the idle pool's workers give way to it.

What is kept is bounded: at most `KEEP` views (a View is about 0.2 MB pickled), of runs no larger
than `MAX_CELLS`. The environment variable REPSIM_PREFETCH=0 turns it off (the tests measure the
redraw both ways).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import sim
from app import results, runner

__all__ = ["KEEP", "MAX_CELLS", "ahead", "enabled", "start", "take"]

KEEP = 8  # views simulated ahead, kept for the server
MAX_CELLS = 4_000_000  # rule-path-weeks: twice the default page, so a notch never costs more
PREFETCHED = {"count": 0, "taken": 0}  # runs started ahead, and those a page then showed

_lock = threading.Lock()
_ahead: OrderedDict[str, Future[results.View]] = OrderedDict()
# hands the runs to the idle pool, so that the page never waits for that (nor for the pool's
# start, about a second, the first time)
_handing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="repsim-prefetch")


def enabled() -> bool:
    """On unless REPSIM_PREFETCH=0."""
    return os.environ.get("REPSIM_PREFETCH", "1") != "0"


def start() -> None:
    """Start the idle pool's workers now (each starts with a full-size run, which takes a
    second or two), so that the first notch a visitor steps is not waiting for them; the
    server calls this when it has started (app/first_page.py)."""
    if enabled():
        _handing.submit(_start_workers)


def _start_workers() -> None:
    # a pool starts a worker for each task that finds none free: one task per worker
    tasks = [runner.on_idle(os.getpid) for _ in range(runner.WORKERS)]
    for task in tasks:
        if task is not None:
            task.result()


def wanted(sc: sim.Scenario) -> bool:
    """Whether a run of ``sc`` is small enough to simulate on speculation."""
    return runner.cells(sc) <= MAX_CELLS and not runner.budget_problems(sc)


def ahead(tomls: Sequence[str]) -> None:
    """Start simulating these settings (canonical TOML) on the idle pool, in this order, unless
    they are under way or done already; those asked for earlier and not started are dropped."""
    if enabled():
        _handing.submit(_start, tuple(tomls))


def _start(tomls: tuple[str, ...]) -> None:
    with _lock:
        for toml, future in list(_ahead.items()):
            if toml not in tomls and future.cancel():
                del _ahead[toml]
        for toml in tomls:
            if toml in _ahead:
                _ahead.move_to_end(toml)
        todo = [toml for toml in tomls if toml not in _ahead]
    # handed over without the lock: a page's `take` never waits for a pool to start
    for toml in todo:
        future = runner.on_idle(results.compute_view_alone, toml)
        if future is None:  # no worker processes here
            return
        with _lock:
            PREFETCHED["count"] += 1
            _ahead[toml] = future
            while len(_ahead) > KEEP:
                _ahead.popitem(last=False)[1].cancel()


def take(toml: str) -> results.View | None:
    """The view of these settings if it was simulated ahead (waiting for the rest of it if it is
    under way); None if it was not, was not started, or failed (the page then runs it itself)."""
    with _lock:
        future = _ahead.pop(toml, None)
    if future is None or future.cancel():
        return None
    try:
        view = future.result()
    except Exception:  # a worker killed under it, say: the page's own run will say what is wrong
        return None
    PREFETCHED["taken"] += 1
    return view
