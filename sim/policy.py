"""The policy lab's run: a population's futures under every arm, as per-path outcomes."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from concurrent.futures import Executor

import numpy as np

from .draws import BLOCK, chunk_draws
from .engine import ArmKernel, _round_stars, kernel_groups, market_for
from .market import HiringMarket
from .parallel import chunks_for, parts_in_order
from .plan import Plan, make_plan
from .policy_types import ArmOutcome, PolicyRun
from .population_engine import population_plan
from .scenario import KeepArm, OracleArm, Scenario, WithoutUnfairArm

__all__ = ["policy_paths", "policy_plan", "policy_run", "policy_scenario"]

FIELDS = tuple(f.name for f in dataclasses.fields(ArmOutcome))


def _free_name(name: str, taken: set[str]) -> str:
    out, i = name, 2
    while out in taken:
        out, i = f"{name}_{i}", i + 1
    return out


def policy_scenario(sc: Scenario) -> Scenario:
    """The scenario with the arms a policy run needs added where it lacks them: one that keeps
    everything (`keep`), the `oracle` (removes exactly the unfair ratings, at once) and
    `without_unfair` (the victims' counterfactual). Arms beyond the scenario's limit of 12 are
    allowed here: nothing else reads them."""
    rules = {a.rule for a in sc.arms}
    taken = {a.name for a in sc.arms}
    extra = []
    for rule, model in (
        ("keep", KeepArm),
        ("oracle", OracleArm),
        ("without_unfair", WithoutUnfairArm),
    ):
        if rule not in rules:
            name = _free_name(rule, taken)
            taken.add(name)
            extra.append(model(name=name, rule=rule))
    if not extra:
        return sc
    return sc.model_copy(update={"arms": (*sc.arms, *extra)})


def policy_plan(sc: Scenario) -> Plan:
    """The plan of a policy run: the scenario's population (the single case: a population of one
    type) with its tallies on."""
    plan = make_plan(sc)
    pp = dataclasses.replace(population_plan(sc, single=True), tally=True)
    return dataclasses.replace(plan, population=pp)


def _arm_of(sc: Scenario, rule: str) -> str:
    return next(a.name for a in sc.arms if a.rule == rule)


def policy_paths(
    sc: Scenario, first: int, n: int, market: HiringMarket | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """Paths [first, first + n) of a policy run (``sc`` from `policy_scenario`), for a worker:
    {arm: {ArmOutcome field: (n,)}} and {"": {"kind": (n,)}}. ``market``: the run's own
    (built here when not given)."""
    plan = policy_plan(sc)
    market = market_for(plan) if market is None else market
    draws = chunk_draws(plan, first, n)
    kernels = [ArmKernel(plan, arms, draws, market) for arms in kernel_groups(sc)]
    for t in range(plan.weeks):  # the week's order of `sim.engine.simulate_arms`
        for kernel in kernels:
            kernel.start_week(t)
            _, q, _ = kernel.signals(t)
            kernel.work(t, q)
            kernel._tally_week(t)
    out: dict[str, dict[str, np.ndarray]] = {"": {"kind": draws.pop.kind.astype(np.int64)}}
    for kernel in kernels:
        for a, arm in enumerate(kernel.arms):
            rows = slice(a * n, (a + 1) * n)
            out[arm.name] = {
                "earnings": kernel.contract_weeks[rows] * plan.net,
                "jobs": kernel.jobs[rows].astype(np.int64),
                "stars": _round_stars(kernel.stars[rows]),
                "jss": kernel.jss[rows].astype(np.float64),
                "unfair_lows": kernel.lows[0, rows].copy(),
                "unfair_stopped": kernel.stopped[0, rows].copy(),
                "unfair_stop_weeks": kernel.stop_weeks[0, rows].copy(),
                "fair_lows": kernel.lows[1, rows].copy(),
                "fair_stopped": kernel.stopped[1, rows].copy(),
            }
    return out


def policy_run(
    sc: Scenario,
    *,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_paths: int | None = None,
) -> PolicyRun:
    """A population's futures under every arm of ``sc`` (plus `keep`, `oracle` and
    `without_unfair` where it lacks them: `policy_scenario`), on common random numbers: per-path
    outcomes at the horizon, never paths x weeks.

    Run in chunks of ``chunk_paths`` (default ``run.chunk_paths``; a multiple of 256), on
    ``executor`` when given (balanced across its workers, as `sim.run`); ``progress(done,
    total)`` after each chunk. The result is identical, to the bit, whatever the executor or the
    chunk size: random numbers are drawn per block of 256 paths.
    """
    sc = policy_scenario(sc)
    plan = policy_plan(sc)
    market = market_for(plan)
    if chunk_paths is not None and (chunk_paths < BLOCK or chunk_paths % BLOCK):
        raise ValueError(f"chunk_paths: must be a positive multiple of {BLOCK} (got {chunk_paths})")
    paths = sc.run.paths
    chunks = chunks_for(paths, chunk_paths or sc.run.chunk_paths, executor)
    task = functools.partial(policy_paths, sc)
    parts: list[dict[str, dict[str, np.ndarray]]] = []
    if executor is None:
        done = ((first, n, task(first, n, market)) for first, n in chunks)
    else:
        done = parts_in_order(executor, task, chunks, market)
    for first, n, part in done:
        parts.append(part)
        if progress is not None:
            progress(first + n, paths)
    kind = np.concatenate([p[""]["kind"] for p in parts])
    outcomes = {}
    for arm in sc.arms:
        columns = {f: np.concatenate([p[arm.name][f] for p in parts]) for f in FIELDS}
        outcomes[arm.name] = ArmOutcome(**columns)
    pp = plan.population
    return PolicyRun(
        scenario=sc,
        reference=_arm_of(sc, "keep"),
        oracle=_arm_of(sc, "oracle"),
        without_unfair=_arm_of(sc, "without_unfair"),
        quality=pp.mean_stars[kind],
        poor=pp.poor[kind],
        kind=kind,
        outcomes=outcomes,
    )
