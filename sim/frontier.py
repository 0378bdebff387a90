"""The policy frontier: each rule with a parameter swept over its range, on one population.

`frontier(sc)` measures the scenario's own arms (`keep` and `oracle` are the corners) and then
each rule with a parameter at every setting of `SETTINGS` (or the caller's): the flagged-client
threshold, Whitby's q, the window's last_n, the Bayesian average's prior weight and the support
queue of report-and-review (exclude_flagged.delay_weeks). Every scenario runs on the scenario's
own seed: the population and its futures are the same for every rule and setting (common random
numbers), so two points of the frontier differ by their rule only.

A rule's settings are arms of one scenario (with the scenario's keep, oracle and without_unfair
arms: at most 12 arms, so more settings than fit make several scenarios). The Bayesian prior
weight is a scenario-wide setting (`signals.prior_weight`), not an arm's: each of its values is
a scenario of its own, with the keep arm and one keep arm on the Bayesian average. Scenarios are
tasks of any `concurrent.futures.Executor` (in-process, a process pool, Dask); each task runs
`sim.policy.policy_run` and measures it where it ran, so only the measures travel back, and the
result is the same, to the byte, whatever ran it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from typing import Any

from .policy_measures import measures
from .policy_types import RuleMeasures
from .scenario import Scenario, ScenarioError, validate_scenario
from .sweep import SerialExecutor

__all__ = [
    "FIXED_RULES",
    "MAX_ARMS",
    "SETTINGS",
    "Task",
    "frontier",
    "frontier_tasks",
    "run_task",
]

MAX_ARMS = 12  # a scenario's limit (sim.scenario.Scenario.arms)
FIXED_RULES = ("keep", "oracle", "without_unfair")  # every scenario of the frontier holds them
SOURCE = "frontier"

# each swept parameter (rule.setting) and its values across its range
SETTINGS: dict[str, tuple[float, ...]] = {
    # [A] flag clients whose average is below this: from hardly any to nearly every client
    "flagged_client.threshold": (2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0),
    # [L] Whitby, Jøsang & Indulska 2004: the filter's quantile, from 1% to its limit of 50%
    "whitby.q": (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.45),
    # [P] the last n ratings: Uber counts 500, Lyft 100; down to a handful
    "window.last_n": (5, 10, 20, 50, 100, 200, 500),
    # [A] the Bayesian average's prior, in ratings (sim/assumptions.py: 1 to 20)
    "signals.prior_weight": (1, 2, 5, 10, 20),
    # the support queue, in weeks, until an upheld report's rating is removed
    "exclude_flagged.delay_weeks": (0, 1, 2, 4, 8, 13, 26, 52),
}
BAYESIAN = "bayesian"  # the aggregator the prior weight belongs to (its points: rule keep)


@dataclass(frozen=True)
class Task:
    """One scenario of the frontier: which of its arms are reported, as which rule and setting
    (arm -> (rule, parameter, value)); None reports every arm as run (the scenario's own)."""

    index: int
    scenario: Scenario
    points: dict[str, tuple[str, str, float]] | None


def _number(value: float) -> str:
    return f"{value:g}"


def _arm_name(rule: str, parameter: str, value: float) -> str:
    return f"{rule} {parameter} {_number(value)}"


def _fixed_arms(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The scenario's keep (the first), oracle and without_unfair arms, or a keep arm."""
    fixed, seen = [], set()
    for arm in data["arms"]:
        rule = arm["rule"]
        if (
            rule in FIXED_RULES
            and rule not in seen
            and (rule != "keep" or not arm.get("aggregator"))
        ):
            fixed.append(arm)
            seen.add(rule)
    if "keep" not in seen:
        fixed.insert(0, {"name": "kept", "rule": "keep"})
    return fixed


def _own_settings(data: dict[str, Any], rule: str) -> dict[str, Any]:
    """The scenario's first arm of this rule, as the base of its swept arms (its scope and other
    settings kept), else the rule's defaults."""
    for arm in data["arms"]:
        if arm["rule"] == rule:
            base = {k: v for k, v in arm.items() if v is not None and k != "name"}
            if rule == "window":
                base.pop("last_weeks", None)  # the sweep sets last_n: exactly one of the two
            return base
    return {"rule": rule}


def _values(key: str, given: Sequence[Any], sc: Scenario) -> list[Any]:
    """The settings to sweep, in increasing order, without repeats; the default support queues
    only up to the horizon (a longer one never acts)."""
    values = sorted(set(given))
    if key == "exclude_flagged.delay_weeks" and given is SETTINGS[key]:
        values = [v for v in values if v < sc.run.weeks]
    return values


def _check_settings(settings: Mapping[str, Sequence[Any]], source: str) -> None:
    problems = []
    for key, values in settings.items():
        if key not in SETTINGS:
            expected = ", ".join(SETTINGS)
            problems.append((source, key, f"not a swept parameter; expected one of {expected}"))
            continue
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float):
                problems.append((source, key, f"expected numbers, got {v!r}"))
            elif key in ("window.last_n", "exclude_flagged.delay_weeks") and v != int(v):
                problems.append((source, key, f"expected whole numbers, got {v!r}"))
    if problems:
        raise ScenarioError(problems)


def _validated(
    data: dict[str, Any], key: str, source: str, problems: list[tuple[str, str, str]]
) -> Scenario | None:
    """A frontier scenario, or None with its problems added to ``problems``: a setting's own
    (a value out of its range) under the swept key, anything else under its own key."""
    try:
        return validate_scenario(data, source)
    except ScenarioError as e:
        for s, k, m in e.problems:
            own = k.startswith(("arms[", "signals.prior_weight"))
            problem = (source, key, m) if own else (s, k, m)
            if problem not in problems:
                problems.append(problem)
        return None


def frontier_tasks(
    sc: Scenario, settings: Mapping[str, Sequence[Any]] | None = None, source: str = SOURCE
) -> list[Task]:
    """The scenarios of the frontier: the scenario as given, then each swept rule's settings.

    ``settings``: values per swept parameter (keys of `SETTINGS`) replacing its defaults; an
    empty list leaves that rule out. Raises `ScenarioError` for an unknown key, a value that is
    not a number, or a setting its rule does not accept, each named by ``source`` and its key.
    """
    chosen: dict[str, Sequence[Any]] = dict(SETTINGS)
    if settings:
        _check_settings(settings, source)
        chosen.update(settings)
    base = sc.model_dump(mode="json")
    fixed = _fixed_arms(base)
    room = MAX_ARMS - len(fixed) - sum(r not in {a["rule"] for a in fixed} for r in FIXED_RULES)
    tasks, problems = [Task(0, sc, None)], []
    for key, given in chosen.items():
        values = _values(key, given, sc)
        rule, parameter = key.split(".")
        if rule == "signals":  # the Bayesian prior weight: one scenario per value
            for v in values:
                data = copy.deepcopy(base)
                data["signals"]["prior_weight"] = v
                name = _arm_name(BAYESIAN, parameter, v)
                data["arms"] = [*fixed, {"name": name, "rule": "keep", "aggregator": BAYESIAN}]
                points = {name: ("keep", parameter, float(v))}
                scenario = _validated(data, key, source, problems)
                tasks.append(Task(len(tasks), scenario, points))  # type: ignore[arg-type]
            continue
        own = _own_settings(base, rule)
        for start in range(0, len(values), room):
            data = copy.deepcopy(base)
            arms, points = [], {}
            for v in values[start : start + room]:
                name = _arm_name(rule, parameter, v)
                arms.append({**own, "name": name, parameter: v})
                points[name] = (rule, parameter, float(v))
            data["arms"] = [*fixed, *arms]
            scenario = _validated(data, key, source, problems)
            tasks.append(Task(len(tasks), scenario, points))  # type: ignore[arg-type]
    if problems:
        raise ScenarioError(problems)
    return tasks


def run_task(task: Task) -> list[RuleMeasures]:
    """Run one frontier scenario (`sim.policy.policy_run`, in this process) and measure it: its
    swept arms as their rule and setting, or every arm for the scenario as given."""
    from .policy import policy_run  # here: sim.policy imports the engine

    rows = measures(policy_run(task.scenario))
    if task.points is None:
        return rows
    out = []
    for m in rows:
        if m.arm in task.points:
            rule, parameter, value = task.points[m.arm]
            out.append(replace(m, rule=rule, parameter=parameter, value=value))
    return out


def frontier(
    sc: Scenario,
    *,
    settings: Mapping[str, Sequence[Any]] | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    source: str = SOURCE,
) -> list[RuleMeasures]:
    """The scenario's own arms, then each swept rule at each setting (`SETTINGS`, or
    ``settings``), measured on the scenario's seed; each scenario one task of ``executor``
    (default: in this process). Rows in that order whatever finished first."""
    tasks = frontier_tasks(sc, settings, source)
    executor = executor or SerialExecutor()
    lock, done = threading.Lock(), [0]

    def tick(_: Future) -> None:
        with lock:
            done[0] += 1
            if progress is not None:
                progress(done[0], len(tasks))

    # the scenarios with the most arms first, so that a pool's workers finish together; the
    # rows come back in the tasks' order whatever ran first
    futures: dict[int, Future] = {}
    for task in sorted(tasks, key=lambda t: -len(t.scenario.arms)):
        future = executor.submit(run_task, task)
        future.add_done_callback(tick)
        futures[task.index] = future
    try:
        results = [futures[t.index].result() for t in tasks]
    except BaseException:
        for f in futures.values():
            f.cancel()
        raise
    return [m for rows in results for m in rows]
