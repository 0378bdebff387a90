"""repsim's model: what one retaliatory rating costs a freelancer, under rules that keep or drop it.

Public API (DESIGN.md): `Scenario`, `load_scenario`, `save_scenario`, `run`, `Result`.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

from .engine import chunk_draws, iter_chunks, make_plan, market_for, simulate_arm
from .metrics import Accumulator, Result
from .scenario import (
    Scenario,
    ScenarioError,
    dumps_scenario,
    load_scenario,
    loads_scenario,
    save_scenario,
    validate_scenario,
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
) -> Result:
    """Project the scenario's futures for every arm on common random numbers.

    ``paths``, ``weeks``, ``seed``: None takes the scenario's [run] values. ``progress(done,
    total)`` is called after each chunk with the number of paths finished.
    """
    sc = with_run(sc, paths, weeks, seed)
    plan = make_plan(sc)
    market = market_for(plan)
    acc = Accumulator(sc, plan.net)
    for first, n in iter_chunks(sc.run.paths, sc.run.chunk_paths):
        draws = chunk_draws(plan, first, n)
        for arm in sc.arms:
            simulate_arm(plan, arm, draws, market, acc.recorder(arm.name, n))
        acc.finish_chunk(first, n)
        if progress is not None:
            progress(first + n, sc.run.paths)
    info = {
        "market_mean_stars": market.market_mean,
        "outside_utility": market.outside_utility,
        "intercept": market.intercept,
    }
    return acc.result(info)
