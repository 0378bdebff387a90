"""repsim's model: what one retaliatory rating costs a freelancer, under rules that keep or drop it.

Public API (DESIGN.md): `Scenario`, `load_scenario`, `save_scenario`, `run`, `Result`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Executor
from importlib.metadata import PackageNotFoundError, version

from .engine import BLOCK, chunk_draws, iter_chunks, make_plan, market_for, simulate_arms
from .market import HiringMarket
from .metrics import Accumulator, Result
from .parallel import balanced_chunk_paths, executor_workers, parts_in_order
from .scenario import (
    Scenario,
    ScenarioError,
    dumps_scenario,
    load_scenario,
    loads_scenario,
    save_scenario,
    validate_scenario,
    with_today,
)

try:
    __version__ = version("repsim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "dumps_scenario",
    "load_scenario",
    "loads_scenario",
    "run",
    "save_scenario",
    "validate_scenario",
    "with_run",
    "with_today",
]


def with_run(
    sc: Scenario, paths: int | None = None, weeks: int | None = None, seed: int | None = None
) -> Scenario:
    """The scenario with [run] values replaced where given, validated like a file."""
    changes = {
        k: v for k, v in (("paths", paths), ("weeks", weeks), ("seed", seed)) if v is not None
    }
    if not changes:
        return sc
    data = sc.model_dump()
    data["run"].update(changes)
    return validate_scenario(data, "run")


def run(
    sc: Scenario,
    paths: int | None = None,
    weeks: int | None = None,
    seed: int | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    chunk_paths: int | None = None,
    workers: int | None = None,
) -> Result:
    """Project the scenario's futures for every arm on common random numbers.

    ``paths``, ``weeks``, ``seed``: None takes the scenario's [run] values. ``progress(done,
    total)`` is called after each chunk with the number of paths finished. ``executor`` (a
    `concurrent.futures.Executor`, e.g. a process pool) runs the chunks (``run.chunk_paths`` paths
    each, or ``chunk_paths``: a multiple of 256 that overrides it for this call) in parallel,
    the chunks balanced across its ``workers`` (default: as many as it has, when it says):
    smaller where needed so that every worker gets as many equal chunks. The result is
    identical, to the bit, to a run without it, whatever the chunk size.
    """
    sc = with_run(sc, paths, weeks, seed)
    plan = make_plan(sc)
    market = market_for(plan)
    if chunk_paths is not None and (chunk_paths < BLOCK or chunk_paths % BLOCK):
        raise ValueError(f"chunk_paths: must be a positive multiple of {BLOCK} (got {chunk_paths})")
    size = chunk_paths or sc.run.chunk_paths
    if executor is not None:
        workers = executor_workers(executor) if workers is None else workers
        size = balanced_chunk_paths(sc.run.paths, size, workers or 1)
    chunks = list(iter_chunks(sc.run.paths, size))
    acc = Accumulator(sc, plan.net)
    if executor is None:
        for first, n in chunks:
            _simulate_chunk(plan, market, acc, first, n)
            if progress is not None:
                progress(first + n, sc.run.paths)
    else:
        # the market goes with each chunk: a worker would otherwise build it again (~65 ms);
        # Dask gets it once
        task = functools.partial(simulate_paths, sc)
        for first, n, part in parts_in_order(executor, task, chunks, market):
            acc.merge(part)  # in path order, each part dropped once merged (bounded memory)
            if progress is not None:
                progress(first + n, sc.run.paths)
    info = {
        "market_mean_stars": market.market_mean,
        "outside_utility": market.outside_utility,
        "intercept": market.intercept,
    }
    return acc.result(info)


def _simulate_chunk(plan, market, acc: Accumulator, first: int, n: int) -> None:
    draws = chunk_draws(plan, first, n)
    simulate_arms(plan, draws, market, {a.name: acc.recorder(a.name, n) for a in plan.sc.arms})
    acc.finish_chunk(first, n)


def simulate_paths(
    sc: Scenario, first: int, n: int, market: HiringMarket | None = None
) -> Accumulator:
    """Paths [first, first + n) of a run, for a worker process; ``market`` is the run's own
    (`market_for` of the scenario's plan), built here when not given."""
    plan = make_plan(sc)
    acc = Accumulator(sc, plan.net, first, n)
    _simulate_chunk(plan, market_for(plan) if market is None else market, acc, first, n)
    return acc
