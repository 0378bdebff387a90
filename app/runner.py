"""Where the dashboard's runs happen: a per-session budget, and three self-healing worker pools.

Design (issue 15, finding 4): runs are sorted by size. A run up to `BIG_CELLS` arm-path-weeks
(the default page is 2 million) goes to the *small* pool of `WORKERS` warm processes; a larger
one goes to a separate *big* pool of one process at a lower CPU priority (nice +10), and only
one big run is in flight at a time (others wait their turn behind a lock). A session's huge run
therefore holds at most one core, yields it to small runs when the cores are busy, and never
queues ahead of another session's default page, which keeps the small pool to itself;
a fair queue over one pool was the alternative, but a chunk already running cannot be preempted,
so a small run would still wait for the big run's chunks in flight. Nothing larger than the
session budget (`BUDGET_CELLS`, `BUDGET_BYTES`) is run at all, whatever its source: widgets, URL
or upload. A third, *idle* pool of `WORKERS` processes runs only on CPU time nothing else wants
(Linux SCHED_IDLE): the settings one notch away, simulated ahead while a page is read
(`on_idle`, app/prefetch.py).

A big run reports its progress and can be stopped: `run` takes a `Ticket` (paths done, a
cancel that drops the chunks not yet started), which app/long_runs.py shows as a progress bar
and a Cancel button. `broken()` names a pool with a dead worker, for the health check
(app/serve.py), and has it rebuilt.
"""

from __future__ import annotations

import contextlib
import contextvars
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import (
    CancelledError,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)
from typing import Any, TypeVar

import sim
from app.pool import HealingPool
from sim.scenario import estimate_memory_bytes

__all__ = [
    "ABANDONED",
    "BIG_CELLS",
    "BUDGET_BYTES",
    "BUDGET_CELLS",
    "Cancelled",
    "Ticket",
    "broken",
    "budget_problems",
    "cells",
    "on_idle",
    "on_pool",
    "run",
    "watching",
]

WORKERS = min(2, os.cpu_count() or 1)
BUDGET_CELLS = 100_000_000  # arm-path-weeks a dashboard run may take: ~50x the default page
BUDGET_BYTES = 2 * 2**30  # estimated peak memory of one dashboard run
BIG_CELLS = 8_000_000  # above this, a run goes to the big pool and shows progress and Cancel
BIG_NICE = 10  # the big pool's worker's priority below the small pool's (Linux nice)
ABANDONED = 10.0  # seconds without a look from its session after which a big run stops
BIG_CHUNKS = 32  # a big run is cut into about this many chunks: progress steps, Cancel's delay

T = TypeVar("T")
_lock = threading.Lock()
_big_turn = threading.Lock()  # one big run at a time, across sessions
_pools: dict[str, HealingPool] = {}


def cells(sc: sim.Scenario) -> int:
    """The size of a run: arms x paths x weeks."""
    return len(sc.arms) * sc.run.paths * sc.run.weeks


def budget_problems(sc: sim.Scenario) -> list[tuple[str, str, str]]:
    """Why the dashboard will not run this scenario (empty when it will), by dotted key."""
    problems = []
    size = cells(sc)
    if size > BUDGET_CELLS:
        problems.append(
            (
                "dashboard",
                "run.paths",
                f"{len(sc.arms)} rules x {sc.run.paths:,} paths x {sc.run.weeks} weeks is "
                f"{size:,} arm-path-weeks, over the dashboard's {BUDGET_CELLS:,}; lower the "
                "paths or weeks, or run it with repsim run",
            )
        )
    need = estimate_memory_bytes(sc)
    if need > BUDGET_BYTES:
        problems.append(
            (
                "dashboard",
                "run",
                f"needs about {need / 2**30:.1f} GiB, over the dashboard's "
                f"{BUDGET_BYTES / 2**30:.0f} GiB per run; lower the paths, or run it with "
                "repsim run",
            )
        )
    return problems


def _warm_up() -> None:
    """A small reference run in each new worker: a process's first run is ~0.15 s slower than
    the next (first calls into numpy and the engine), a cost that would fall on a slider change."""
    sim.run(sim.Scenario(), paths=sim.engine.BLOCK)


def _yield_cpu() -> None:
    """The big pool's worker runs at a lower priority (nice +10): when the cores are busy, the
    small pool's workers (other sessions' default pages) get them first; idle, it runs at full
    speed all the same."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(BIG_NICE)


def _warm_up_then_idle() -> None:
    """The idle pool's workers run only on CPU time nothing else wants (Linux SCHED_IDLE; where
    that is refused, the lowest nice): what they simulate ahead (app/prefetch.py) never slows
    a run that a page waits for, nor anything else on the machine. Before that, at normal
    priority, a first View at the default page's size: a process's first imports and its first
    full-size run are slower than the next (about 1 s and 0.15 s), and at idle priority they
    would last until the first notch a visitor steps."""
    from app import results

    sc = sim.Scenario()
    sc = sc.model_copy(update={"uncertainty": sc.uncertainty.model_copy(update={"on": True})})
    results.compute_view_alone(sim.dumps_scenario(sc))
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError):
        with contextlib.suppress(OSError, AttributeError):
            os.nice(19)


POOLS = {  # kind: (workers, initializer)
    "small": lambda: (WORKERS, _warm_up),
    "big": lambda: (1, _yield_cpu),
    "idle": lambda: (WORKERS, _warm_up_then_idle),
}


def pool(kind: str) -> HealingPool | None:
    """The `small`, `big` or `idle` pool, started on first use; None where processes cannot
    start."""
    if WORKERS < 2:
        return None
    with _lock:
        if kind not in _pools:
            try:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(["sim", "app._die_with_parent"])
            except (OSError, ValueError):
                return None
            workers, warm = POOLS[kind]()
            _pools[kind] = HealingPool(workers, mp_context=ctx, initializer=warm)
        return _pools[kind]


def healthy() -> bool:
    """False while a pool has a dead worker that no run has replaced yet."""
    return not broken(heal=False)


def broken(heal: bool = True) -> list[str]:
    """The pools (`small`, `big`) with a dead worker; with ``heal``, each is rebuilt in the
    background, so that the next check (and the next run) finds it whole again."""
    names = [name for name, p in list(_pools.items()) if not p.healthy]
    if heal:
        for name in names:
            _owners.submit(_pools[name].heal)  # processes start from the long-lived threads
    return names


# Linux sends PR_SET_PDEATHSIG when the *thread* that started a process ends, and Streamlit
# gives each script run a thread of its own: a forkserver started from a script run died with
# that run, and every later run paid for a new forkserver and warm workers (about 3 s). The
# pools are therefore driven from these long-lived threads, which start every process.
_owners = ThreadPoolExecutor(max_workers=4, thread_name_prefix="repsim-pools")


class Cancelled(Exception):
    """A run stopped by its session (the Cancel button, or settings changed meanwhile)."""


class Ticket:
    """One run's progress and the means to stop it, shared by the session that shows it and the
    thread that drives the run: `done` of `total` paths, `waiting` for the big pool's turn.

    A session that shows the run calls `seen` as it does; once nobody has for `ABANDONED`
    seconds (the tab was closed, the browser went away), the run stops as if cancelled.
    """

    def __init__(self, total: int):
        self.total, self.done, self.waiting = total, 0, True
        self._stop = threading.Event()
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()
        self._seen: float | None = None  # None: nobody watches (a test, a script): never abandoned

    def seen(self) -> None:
        """The session is still showing this run."""
        self._seen = time.monotonic()

    @property
    def cancelled(self) -> bool:
        if self._seen is not None and time.monotonic() - self._seen > ABANDONED:
            self.cancel()
        return self._stop.is_set()

    def cancel(self) -> None:
        """Stop the run: chunks not yet started are dropped, the one running finishes alone."""
        self._stop.set()
        with self._lock:
            for f in self._futures:
                f.cancel()

    def progress(self, done: int, total: int) -> None:
        """`sim.run`'s progress callback: counts, and stops a cancelled run between chunks."""
        self.done, self.total, self.waiting = done, total, False
        if self.cancelled:
            raise Cancelled

    def watch(self, inner: Executor) -> Executor:
        """``inner`` with every chunk it is given remembered, so that `cancel` can drop it."""
        ticket = self

        class Watched(Executor):
            def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
                with ticket._lock:
                    if ticket.cancelled:
                        raise Cancelled
                    future = inner.submit(fn, *args, **kwargs)
                    ticket._futures.append(future)
                    return future

        return Watched()


_ticket: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar("ticket", default=None)


@contextlib.contextmanager
def watching(ticket: Ticket) -> Iterator[Ticket]:
    """`run`s called by this thread inside the block report to, and obey, ``ticket``."""
    token = _ticket.set(ticket)
    try:
        yield ticket
    finally:
        _ticket.reset(token)


def _on(pool_: HealingPool, sc: sim.Scenario, workers: int, ticket: Ticket | None) -> sim.Result:
    per_worker = -(-sc.run.paths // workers)
    chunk = min(sc.run.chunk_paths, -(-per_worker // sim.engine.BLOCK) * sim.engine.BLOCK)
    if ticket is not None:  # small enough steps to show progress and to stop soon after Cancel
        step = -(-sc.run.paths // BIG_CHUNKS)
        chunk = min(chunk, max(1, -(-step // sim.engine.BLOCK)) * sim.engine.BLOCK)

    def go(executor: ProcessPoolExecutor) -> sim.Result:
        if ticket is None:
            return sim.run(sc, executor=executor, chunk_paths=chunk)
        try:
            return sim.run(
                sc, executor=ticket.watch(executor), chunk_paths=chunk, progress=ticket.progress
            )
        except CancelledError:
            raise Cancelled from None

    return _owners.submit(pool_.call, go).result()


def _take_turn(ticket: Ticket | None) -> None:
    """Wait for the big pool's turn (one big run at a time), or until the ticket is cancelled."""
    while not _big_turn.acquire(timeout=0.2):
        if ticket is not None and ticket.cancelled:
            raise Cancelled


def run(sc: sim.Scenario) -> sim.Result:
    """`sim.run` on the right pool (the same result, to the bit, as a serial run); inside
    `watching(ticket)`, a big run reports to the ticket and stops when it is cancelled."""
    ticket = _ticket.get()
    if cells(sc) > BIG_CELLS:
        big = pool("big")
        _take_turn(ticket)
        try:
            if ticket is not None:
                ticket.waiting = False
            if big is not None:
                return _on(big, sc, 1, ticket)
            return sim.run(sc, progress=None if ticket is None else ticket.progress)
        finally:
            _big_turn.release()
    small = pool("small")
    if small is None or sc.run.paths < 2 * sim.engine.BLOCK:
        return sim.run(sc)
    return _on(small, sc, WORKERS, None)


def on_pool(fn: Callable[[Executor | None], T], size: int = 0) -> T:
    """``fn(executor)`` on the small pool's worker processes (work of another page than
    Compare's, such as the Policy lab's frontier, given as tasks of an Executor); with no pool,
    ``fn(None)`` in this process. Work of more than `BIG_CELLS` arm-path-weeks (``size``) goes
    to the big pool instead, one at a time, as `run` sends a big run."""
    if size > BIG_CELLS:
        big = pool("big")
        _take_turn(None)
        try:
            return fn(None) if big is None else _owners.submit(big.call, fn).result()
        finally:
            _big_turn.release()
    small = pool("small")
    if small is None:
        return fn(None)
    return _owners.submit(small.call, fn).result()


def on_idle(fn: Callable[..., T], *args: Any) -> Future[T] | None:
    """``fn(*args)`` in one of the idle pool's worker processes, which run only on CPU time
    nothing else wants: its future, or None where there is no such pool."""
    idle = pool("idle")
    if idle is None:
        return None
    # processes are started from the pools' long-lived threads (see `_owners`)
    return _owners.submit(idle.call, lambda ex: ex.submit(fn, *args)).result()
