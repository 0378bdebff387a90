"""Where the dashboard's runs happen: a per-session budget, and two self-healing worker pools.

Design (issue 15, finding 4): runs are sorted by size. A run up to `BIG_CELLS` arm-path-weeks
(the default page is 2 million) goes to the *small* pool of `WORKERS` warm processes; a larger
one goes to a separate *big* pool of one process, and only one big run is in flight at a time
(others wait their turn behind a lock). A session's huge run therefore holds at most one core
and never queues ahead of another session's default page, which keeps the small pool to itself;
a fair queue over one pool was the alternative, but a chunk already running cannot be preempted,
so a small run would still wait for the big run's chunks in flight. Nothing larger than the
session budget (`BUDGET_CELLS`, `BUDGET_BYTES`) is run at all, whatever its source: widgets, URL
or upload.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import sim
from app.pool import HealingPool
from sim.scenario import estimate_memory_bytes

__all__ = ["BIG_CELLS", "BUDGET_BYTES", "BUDGET_CELLS", "budget_problems", "cells", "run"]

WORKERS = min(2, os.cpu_count() or 1)
BUDGET_CELLS = 100_000_000  # arm-path-weeks a dashboard run may take: ~50x the default page
BUDGET_BYTES = 2 * 2**30  # estimated peak memory of one dashboard run
BIG_CELLS = 8_000_000  # above this, a run goes to the big pool

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


def pool(kind: str) -> HealingPool | None:
    """The `small` or `big` pool, started on first use; None where processes cannot start."""
    if WORKERS < 2:
        return None
    with _lock:
        if kind not in _pools:
            try:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(["sim", "app._die_with_parent"])
            except (OSError, ValueError):
                return None
            workers, warm = (WORKERS, _warm_up) if kind == "small" else (1, None)
            _pools[kind] = HealingPool(workers, mp_context=ctx, initializer=warm)
        return _pools[kind]


def healthy() -> bool:
    """False while a pool has a dead worker that no run has replaced yet."""
    return all(p.healthy for p in list(_pools.values()))


# Linux sends PR_SET_PDEATHSIG when the *thread* that started a process ends, and Streamlit
# gives each script run a thread of its own: a forkserver started from a script run died with
# that run, and every later run paid for a new forkserver and warm workers (about 3 s). The
# pools are therefore driven from these long-lived threads, which start every process.
_owners = ThreadPoolExecutor(max_workers=4, thread_name_prefix="repsim-pools")


def _on(pool_: HealingPool, sc: sim.Scenario, workers: int) -> sim.Result:
    per_worker = -(-sc.run.paths // workers)
    chunk = min(sc.run.chunk_paths, -(-per_worker // sim.engine.BLOCK) * sim.engine.BLOCK)

    def go(executor: ProcessPoolExecutor) -> sim.Result:
        return sim.run(sc, executor=executor, chunk_paths=chunk)

    return _owners.submit(pool_.call, go).result()


def run(sc: sim.Scenario) -> sim.Result:
    """`sim.run` on the right pool (the same result, to the bit, as a serial run)."""
    if cells(sc) > BIG_CELLS:
        big = pool("big")
        with _big_turn:
            return sim.run(sc) if big is None else _on(big, sc, 1)
    small = pool("small")
    if small is None or sc.run.paths < 2 * sim.engine.BLOCK:
        return sim.run(sc)
    return _on(small, sc, WORKERS)
