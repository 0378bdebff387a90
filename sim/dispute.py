"""The dispute helper: is reporting the feedback worth her time? Expected value per horizon.

Reporting costs her time for certain and, with the chance the report is upheld, removes the
disputed feedback after the support queue's wait. On the same futures (common random numbers),
the engine runs two arms, "stays" (the feedback keeps counting) and "removed after N weeks"
(`exclude_flagged` with `delay_weeks = N`); per path and horizon, the net earnings the removal
recovers is the cost avoided. The expected value of reporting is then

    chance upheld x cost avoided  -  hours x her hourly rate

stated as the three figures of every headline (`sim.headlines.three_figures`): the mean over
futures with its 90% Monte Carlo interval, the 5-95% range over futures, and, when the scenario's
assumption uncertainty is on, the 5-95% range over futures and assumptions. Both cases of a path
share its assumption draw (the arms of one run), so the range over assumptions is that of the
difference, not of two independent draws.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .engine import Plan, chunk_draws, make_plan, market_for, simulate_arms
from .headlines import path_points, three_figures
from .market import HiringMarket
from .parallel import chunks_for, parts_in_order
from .platform_facts import REPORT_BUSINESS_DAYS, wait_weeks
from .scenario import ExcludeFlaggedArm, KeepArm, Scenario

__all__ = [
    "CHANCE_UPHELD",
    "CHANCE_UPHELD_RANGE",
    "CHANCE_UPHELD_REASON",
    "HOURS",
    "HOURS_RANGE",
    "HOURS_REASON",
    "STAYS",
    "WAIT_REASON",
    "WAIT_WEEKS",
    "Avoided",
    "DisputeInputs",
    "HorizonValue",
    "avoided_paths",
    "default_horizons",
    "dispute_scenario",
    "removed_label",
    "simulate_avoided",
    "value_of_reporting",
]

CHANCE_UPHELD = 0.5
CHANCE_UPHELD_RANGE = (0.2, 0.8)
CHANCE_UPHELD_REASON = (
    "[A] the platform publishes no share of reports it upholds. Feedback given in retaliation "
    "for refusing to take the work off the platform rests on a Terms of Service violation by the "
    "client (asking to pay outside it), which is what a report can remove; but support decides "
    "one report per feedback, on the messages she can show. 50% says we do not know; 20-80% is "
    "the range from weak evidence (a phone call) to the request in writing on the platform."
)
WAIT_WEEKS = wait_weeks(REPORT_BUSINESS_DAYS)
WAIT_REASON = (
    f"[P] decided in about {REPORT_BUSINESS_DAYS} business days: "
    f"{REPORT_BUSINESS_DAYS / 5:.1f} working weeks, rounded up to {WAIT_WEEKS} because the model "
    "steps in whole weeks"
)
HOURS = 3.0
HOURS_RANGE = (1.0, 10.0)
HOURS_REASON = (
    "[A] gathering the messages and screenshots, writing the report, answering support: about "
    "3 hours; 1 hour for a short report, 10 if support asks for more"
)
STAYS = "stays"


def removed_label(wait: int) -> str:
    """The arm's plain name: "removed at once", "removed after 1 week", "removed after N weeks"."""
    if wait == 0:
        return "removed at once"
    return f"removed after {wait} week{'s' if wait != 1 else ''}"


@dataclass(frozen=True)
class DisputeInputs:
    """What the helper asks: the chance the report is upheld, the wait, and her time."""

    chance_upheld: float = CHANCE_UPHELD
    wait_weeks: int = WAIT_WEEKS
    hours: float = HOURS
    hourly_rate: float | None = None  # None: the scenario's freelancer.hourly_rate

    def problems(self) -> list[tuple[str, str]]:
        """(input, what is wrong) for each input out of its range; empty when all are valid."""
        out = []
        c = self.chance_upheld
        if not (isinstance(c, int | float) and math.isfinite(c) and 0 <= c <= 1):
            out.append(("chance_upheld", f"must be between 0 and 1 (got {c!r})"))
        w = self.wait_weeks
        if isinstance(w, bool) or not isinstance(w, int) or w < 0:
            out.append(("wait_weeks", f"must be a whole number of weeks, 0 or more (got {w!r})"))
        h = self.hours
        if not (isinstance(h, int | float) and math.isfinite(h) and 0 <= h <= 1000):
            out.append(("hours", f"must be between 0 and 1000 (got {h!r})"))
        r = self.hourly_rate
        if r is not None and not (isinstance(r, int | float) and math.isfinite(r) and r > 0):
            out.append(("hourly_rate", f"must be a positive number of dollars (got {r!r})"))
        return out

    def checked(self) -> DisputeInputs:
        """Itself, or ValueError naming every input out of range."""
        found = self.problems()
        if found:
            raise ValueError("; ".join(f"{k}: {m}" for k, m in found))
        return self

    def time_cost(self, sc: Scenario) -> float:
        """Her time in dollars: hours x her hourly rate (the scenario's unless given)."""
        rate = sc.freelancer.hourly_rate if self.hourly_rate is None else self.hourly_rate
        return float(self.hours) * float(rate)


def default_horizons(weeks: int) -> tuple[int, ...]:
    """13, 26 and 52 weeks where shorter than the run, and the run's horizon."""
    return tuple(sorted({h for h in (13, 26, 52) if h < weeks} | {weeks}))


def dispute_scenario(sc: Scenario, wait: int) -> Scenario:
    """The scenario with two arms on its own futures: the feedback stays, or it is removed
    ``wait`` weeks from today (from the stars and the JSS, as an upheld report does)."""
    if not any(h.flagged for h in sc.history):
        raise ValueError(
            "history: no disputed feedback (flagged = true) to report; mark the contract whose "
            "feedback she reports"
        )
    arms = (
        KeepArm(name=STAYS, rule="keep"),
        ExcludeFlaggedArm(
            name=removed_label(wait), rule="exclude_flagged", delay_weeks=wait, scope="all"
        ),
    )
    return sc.model_copy(update={"arms": arms})


@dataclass(frozen=True)
class Avoided:
    """Per horizon and path, the net earnings that removal after the wait recovers."""

    wait_weeks: int
    horizons: tuple[int, ...]
    paths: int
    seed: int
    values: np.ndarray = field(repr=False)  # (horizons, paths) dollars, removed minus stays
    # each path's assumption set (its block's design point); None with fixed assumptions
    points: np.ndarray | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return removed_label(self.wait_weeks)


def simulate_avoided(
    sc: Scenario,
    wait: int,
    horizons: Sequence[int] | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> Avoided:
    """Run "stays" and "removed after ``wait`` weeks" on common random numbers and keep, per
    path, the difference of cumulative net earnings at each horizon (weeks, 1 to the run's).

    ``executor`` (a `concurrent.futures.Executor`, e.g. the dashboard's worker processes) runs
    the chunks of paths in parallel, balanced across its workers as `sim.run` does; the result
    is identical, to the bit, to a run without it (the random numbers are by block of paths,
    whatever the chunk size)."""
    weeks = sc.run.weeks
    hs = default_horizons(weeks) if horizons is None else tuple(sorted(set(horizons)))
    bad = [h for h in hs if not (isinstance(h, int) and 1 <= h <= weeks)]
    if bad or not hs:
        raise ValueError(f"horizons: each must be a whole number of weeks from 1 to {weeks}")
    dsc = dispute_scenario(sc, wait)
    plan = make_plan(dsc)
    market = market_for(plan)
    chunks = chunks_for(dsc.run.paths, dsc.run.chunk_paths, executor)
    contract_weeks = np.zeros((len(hs), dsc.run.paths), np.int64)  # removed minus stays
    if executor is None:
        done = ((first, n, _avoided_weeks(plan, market, hs, first, n)) for first, n in chunks)
    else:
        done = parts_in_order(executor, functools.partial(avoided_paths, dsc, hs), chunks, market)
    for first, n, part in done:
        contract_weeks[:, first : first + n] = part
        if progress is not None:
            progress(first + n, dsc.run.paths)
    values = contract_weeks.astype(float) * plan.net
    return Avoided(wait, hs, dsc.run.paths, dsc.run.seed, values, path_points(dsc))


def avoided_paths(
    dsc: Scenario, horizons: tuple[int, ...], first: int, n: int, market: HiringMarket | None = None
) -> np.ndarray:
    """Paths [first, first + n) of a dispute run (`dispute_scenario`), for a worker process:
    per horizon and path, the contract weeks the removal recovers (removed minus stays);
    ``market`` is the run's own (`market_for` of its plan), built here when not given."""
    plan = make_plan(dsc)
    return _avoided_weeks(plan, market_for(plan) if market is None else market, horizons, first, n)


def _avoided_weeks(
    plan: Plan, market: HiringMarket, horizons: tuple[int, ...], first: int, n: int
) -> np.ndarray:
    """(horizons, n) contract weeks, "removed" minus "stays", of paths [first, first + n)."""
    at = np.array([h - 1 for h in horizons])  # a horizon of H weeks is the end of week index H - 1
    cw = {a.name: np.zeros((len(horizons), n), np.int64) for a in plan.sc.arms}
    records = {}
    for name, store in cw.items():

        def record(t: int, week: dict[str, np.ndarray], store=store) -> None:
            rows = np.flatnonzero(at == t)
            if rows.size:
                store[rows, :] = week["contract_weeks"]

        records[name] = record
    simulate_arms(plan, chunk_draws(plan, first, n), market, records)
    removed, stays = (cw[a.name] for a in plan.sc.arms[::-1])
    return removed - stays


@dataclass(frozen=True)
class HorizonValue:
    """The expected value of reporting by one horizon, in dollars."""

    weeks: int
    avoided_mean: float  # cost avoided if upheld, mean over futures
    avoided_ci90: tuple[float, float]
    avoided_range: tuple[float, float]  # 5-95% over futures
    time_cost: float
    chance_upheld: float
    value: float  # chance x avoided_mean - time_cost
    value_ci90: tuple[float, float]  # Monte Carlo interval of the mean
    value_range: tuple[float, float]  # 5-95% over futures of chance x avoided - time
    # 5-95% over futures and assumptions; None when the run's assumptions are fixed
    value_assumption_range: tuple[float, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "weeks": self.weeks,
            "avoided_mean": self.avoided_mean,
            "avoided_ci90": list(self.avoided_ci90),
            "avoided_range": list(self.avoided_range),
            "time_cost": self.time_cost,
            "chance_upheld": self.chance_upheld,
            "value": self.value,
            "value_ci90": list(self.value_ci90),
            "value_range": list(self.value_range),
            "value_assumption_range": (
                None if self.value_assumption_range is None else list(self.value_assumption_range)
            ),
        }


def value_of_reporting(
    avoided: Avoided, inputs: DisputeInputs, sc: Scenario
) -> tuple[HorizonValue, ...]:
    """Per horizon: chance x cost avoided - her time, with the MC interval, the futures range
    and (uncertainty on) the range over futures and assumptions. Cheap: the simulation is in
    ``avoided`` (which must be for ``inputs.wait_weeks``)."""
    inputs.checked()
    if avoided.wait_weeks != inputs.wait_weeks:
        raise ValueError(
            f"wait_weeks: the simulation is for {avoided.wait_weeks} weeks, not "
            f"{inputs.wait_weeks}; simulate_avoided again"
        )
    p, time = float(inputs.chance_upheld), inputs.time_cost(sc)

    def value(pair: Sequence[float]) -> tuple[float, float]:
        # chance x avoided - time is increasing in avoided (chance >= 0): the figures of the
        # value are those of the cost avoided, mapped; a chance of 0 gives exactly -time
        return (p * pair[0] - time, p * pair[1] - time)

    out = []
    for i, weeks in enumerate(avoided.horizons):
        f = three_figures(avoided.values[i], avoided.points)
        mean, ci = f["mean"], tuple(f["ci90"])
        wide = f["assumptions90"]
        out.append(
            HorizonValue(
                weeks=weeks,
                avoided_mean=mean,
                avoided_ci90=ci,
                avoided_range=tuple(f["futures90"]),
                time_cost=time,
                chance_upheld=p,
                value=p * mean - time,
                value_ci90=value(ci),
                value_range=value(f["futures90"]),
                value_assumption_range=None if wide is None else value(wide),
            )
        )
    return tuple(out)
