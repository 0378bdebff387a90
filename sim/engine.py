"""The weekly Monte Carlo loop: `ArmKernel` assembled from its parts, run over chunks of paths."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .badges import Badges
from .contracts import ContractLedger, float32_ceiling, slot_wins
from .counted import CountedFeedback, arrival_rounds
from .design import DesignRows, design_markets, design_today_utility
from .draws import BLOCK, Draws, chunk_draws, iter_chunks
from .market import HiringMarket, cached_market, solve_intercept
from .plan import Plan, make_plan
from .population_engine import PopulationKernel
from .rule_events import STACKABLE_RULES, RuleEvents
from .scenario import Scenario
from .signals import Signals

__all__ = [
    "BLOCK",
    "ArmKernel",
    "Draws",
    "Plan",
    "Today",
    "arrival_rounds",
    "chunk_draws",
    "float32_ceiling",
    "iter_chunks",
    "kernel_groups",
    "make_plan",
    "market_for",
    "signals_today",
    "simulate_arms",
    "slot_wins",
    "trajectories",
]

METRICS = ("stars", "jss", "win_prob", "active", "jobs", "earnings", "badge")
TRACE = (*METRICS, "wins")  # `trajectories` adds wins: slots won, -1 in weeks not sending


def kernel_groups(sc: Scenario) -> list[list]:
    """The scenario's arms in groups that one kernel advances together, stacked row-wise.

    Arms whose rules only ever act on history (keep, exclude_flagged) and that share an
    aggregator run as one kernel with a row per (arm, path): every numpy operation then serves
    all of them at once. Every other arm runs alone.
    """
    groups: dict[object, list] = {}
    for arm in sc.arms:
        # in a population, an exclude_flagged arm refusing from the JSS only runs alone
        stacks = arm.rule in STACKABLE_RULES and (
            sc.population is None or getattr(arm, "scope", "all") == "all"
        )
        key = sc.aggregator_of(arm) if stacks else arm.name
        groups.setdefault(key, []).append(arm)
    return list(groups.values())


class ArmKernel(
    ContractLedger, RuleEvents, CountedFeedback, Signals, Badges, DesignRows, PopulationKernel
):
    """The state of a group of arms (`kernel_groups`) over a chunk of paths, advanced one week at
    a time. Row ``a * paths + i`` is path i under arm ``arms[a]``.

    Its parts, one mixin and module each: the contract ledger (sim/contracts.py), the arm's rule
    at work (sim/rule_events.py), the feedback each signal counts (sim/counted.py), the signals
    (sim/signals.py) and the badges (sim/badges.py). They share the kernel's state: a part
    reads what another keeps, as its docstring says."""

    def __init__(self, plan: Plan, arms: list, draws: Draws, market: HiringMarket):
        arm = arms[0]
        if len(arms) > 1 and any(a.rule not in STACKABLE_RULES for a in arms):
            raise ValueError("only keep and exclude_flagged arms run stacked")
        self.plan, self.arms, self.arm, self.d, self.market = plan, arms, arm, draws, market
        self.paths = draws.path_u.shape[0]
        self.n = self.paths * len(arms)  # rows
        self.rows = np.arange(self.n)
        self.levels = np.arange(1.0, 6.0)
        self._init_population()  # a population's rules and tallies (sim/population_engine.py)
        self._init_design()  # assumption uncertainty: each row's own (sim/design.py)
        self._init_contracts()
        self._init_counted()  # after the ledger: a rule's queue is sized by its feedback delay
        self._init_signals()
        self._init_badges()

    def start_week(self, t: int) -> None:
        """Week t before anyone sends a proposal: contracts end, JSS windows age, the rule acts,
        feedback arrives."""
        if self.dsum5 is not None and t > 0:
            self.dsum5 *= self.forgetting
        self._end_contracts(t)
        self._age_jss_windows(t)
        self._rule_events(t)
        self._arrivals(t)


def _round_stars(stars: np.ndarray) -> np.ndarray:
    return np.floor(stars * 100.0 + 0.5) / 100.0


def simulate_arms(
    plan: Plan,
    draws: Draws,
    market: HiringMarket,
    records: dict[str, Callable[[int, dict[str, np.ndarray]], None]],
    trace: bool = False,
) -> None:
    """Advance every arm over a chunk week by week, handing each week's metrics to its record:
    stars (unrounded), jss, win_prob, active, jobs, contract_weeks, badge, and with ``trace``
    also wins (slots won, -1 in weeks not sending).

    The arms step together so that a week's proposal uniforms, shared by all of them, are read
    from memory once and then from cache.
    """
    kernels = [ArmKernel(plan, arms, draws, market) for arms in kernel_groups(plan.sc)]
    n = draws.path_u.shape[0]
    for t in range(plan.weeks):
        for kernel in kernels:
            kernel.start_week(t)
            stars, q, badge = kernel.signals(t)
            active = kernel.work(t, q)
            week = {
                "stars": stars,
                "jss": kernel.jss,
                "win_prob": q,
                "active": active,
                "jobs": kernel.jobs,
                "contract_weeks": kernel.contract_weeks,
                "badge": badge,
            }
            if trace:
                week["wins"] = np.where(kernel.active - kernel.new < kernel.cap, kernel.wins, -1)
            for a, arm in enumerate(kernel.arms):
                rows = slice(a * n, (a + 1) * n)
                records[arm.name](t, {m: values[rows] for m, values in week.items()})


@dataclass(frozen=True)
class Today:
    """What clients see at week 0 under one arm, as the engine computes it (after week 0's
    rule events, before any proposal)."""

    arm: str
    counted_stars: np.ndarray  # (H,) history feedback counted in the stars
    counted_jss: np.ndarray  # (H,) history feedback counted in the JSS
    reviews: int
    stars: float  # unrounded; NaN when nothing counts
    jss: float  # shown; NaN when no window qualifies
    judged_band: int  # the JSS band clients judge (reputation.jss_band; 4: nothing to judge)
    badge: int
    utility: float
    win_prob: float


# U_path just below 1: a flagged client counts as suspended today only when that is certain
CERTAIN_ONLY = float(np.nextafter(1.0, 0.0))


def signals_today(sc: Scenario, arms=None, market: HiringMarket | None = None) -> list[Today]:
    """Week 0's signals under each arm (default: the scenario's; any number of arms), from the
    same kernel as the simulation: the Calculator and Compare read this one function.

    A suspended_client arm suspends the flagged client today only when its probability is 1.
    """
    if arms is not None:
        sc = sc.model_copy(update={"arms": tuple(arms)})  # no arm limit: nothing is simulated
    plan = week_zero_plan(sc, uncertain=False)  # today's signals: the scenario's own assumptions
    market = market_for(plan) if market is None else market
    out = []
    for arm in sc.arms:
        draws = Draws(plan, 0, 1)
        draws.path_u[:] = CERTAIN_ONLY
        kernel = ArmKernel(plan, [arm], draws, market)
        kernel.start_week(0)
        kernel.signals(0)
        _, _, _, hist, hist_jss, _ = kernel._counted(0)
        out.append(
            Today(
                arm=arm.name,
                counted_stars=hist[0].copy(),
                counted_jss=hist_jss[0].copy(),
                reviews=int(kernel.reviews[0]),
                stars=float(kernel.stars[0]),
                jss=float(kernel.jss[0]),
                judged_band=int(kernel.band[0]),
                badge=int(kernel.badge[0]),
                utility=float(kernel.v[0]),
                win_prob=float(kernel.q[0]),
            )
        )
    return out


def week_zero_plan(sc: Scenario, uncertain: bool = True) -> Plan:
    """The plan of `sc` run for one week: week 0 is the same under any horizon (nothing at week
    0 reads a later week), and its random numbers are one week's instead of the whole run's.
    ``uncertain`` as in `make_plan`."""
    if sc.run.weeks != 1:
        sc = sc.model_copy(update={"run": sc.run.model_copy(update={"weeks": 1})})
    return make_plan(sc, uncertain=uncertain)


def today_utility(plan: Plan, market: HiringMarket) -> float:
    """The first arm's utility at week 0 (for solving the intercept from a known win rate)."""
    plan = week_zero_plan(plan.sc, uncertain=plan.design is not None)
    draws = chunk_draws_for_today(plan)
    kernel = ArmKernel(plan, [plan.sc.arms[0]], draws, market)
    kernel.start_week(0)
    kernel.signals(0)
    return float(kernel.v[0])


def chunk_draws_for_today(plan: Plan) -> Draws:
    """Week 0's signals need no random numbers except U_path; path 0 of block 0 suffices."""
    return Draws(plan, 0, 1)


def market_for(plan: Plan) -> HiringMarket:
    """The scenario's market, with the intercept solved when a known win rate is given (with
    uncertainty on, the markets of the design's points: sim/design.py)."""
    if plan.design is not None:
        fixed = make_plan(plan.sc, uncertain=False)
        return design_markets(plan, market_for(fixed), design_today_utility(fixed, plan))
    market = cached_market(plan.sc)
    rate = plan.sc.hiring.known_win_rate
    if rate is not None:
        market = solve_intercept(market, today_utility(plan, market), rate)
    return market


def trajectories(sc: Scenario, paths: int | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Every path's weekly metrics, {arm: {metric: (weeks, paths)}}: for tests and small runs."""
    if paths is not None:
        sc = sc.model_copy(update={"run": sc.run.model_copy(update={"paths": paths})})
    plan = make_plan(sc)
    market = market_for(plan)
    out: dict[str, dict[str, np.ndarray]] = {}
    for arm in sc.arms:
        out[arm.name] = {m: np.empty((plan.weeks, sc.run.paths)) for m in TRACE}
    for first, n in iter_chunks(sc.run.paths, sc.run.chunk_paths):
        draws = chunk_draws(plan, first, n)
        records = {}
        for arm in sc.arms:
            store = out[arm.name]

            def record(
                t: int, week: dict[str, np.ndarray], store=store, cols=slice(first, first + n)
            ) -> None:
                week = {
                    **week,
                    "stars": _round_stars(week["stars"]),
                    "earnings": week["contract_weeks"] * plan.net,
                }
                for m in TRACE:
                    store[m][t, cols] = week[m]

            records[arm.name] = record
        simulate_arms(plan, draws, market, records, trace=True)
    for arm in out.values():
        for m in ("active", "jobs", "badge", "wins"):
            arm[m] = arm[m].astype(np.int64)
    return out
