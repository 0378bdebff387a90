"""What drives the headline: a tornado of one-at-a-time swings over each assumption's range.

Each chosen assumption is set to its low and to its high (`sim.assumptions.ranges`, the scenario's
``[uncertainty]`` table included) with everything else at the scenario's own values, and the
scenario is run with the same seed as the default run: the same futures (common random numbers),
so a swing is the assumption's effect and little Monte Carlo noise. Three figures, each for the
scenario's compared rule (the second arm) against its reference (the first): the headline cost,
the mean net earnings difference by the horizon (`Result.difference`); the lasting recovery,
the median week from which the reference's win rate stays at 95% of the rule's
(`Result.recovery_summary`; a future not back for good within the horizon counts as later than
it, and a median beyond the horizon is ``None``); and the share of futures not back for good by
the horizon, which still moves when the median is beyond it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any

from . import assumptions
from .assumptions import Assumption, by_key, default_value, ranges, with_value
from .engine import iter_chunks, make_plan, today_utility
from .market import HiringMarket, cached_market, solve_intercept
from .metrics import Accumulator, Result
from .scenario import Scenario, ScenarioError

__all__ = [
    "DEFAULT_PATHS",
    "FIGURES",
    "Bar",
    "Tornado",
    "chosen_keys",
    "run_on",
    "tornado",
]

DEFAULT_PATHS = 2000
FIGURES = ("earnings", "recovery", "not_recovered")
# market settings the competitor field does not read: a change keeps the default run's field
FIELD_FREE = (
    "market_rate",
    "contract_weeks",
    "client_suspension_rate",
    "client_ratings_given_mean",
    "harsh_client_share",
    "harsh_client_shift",
    "harsh_client_mean",
    "client_mean_given",
    "harsh_client_mean_received",
    "client_mean_received",
)
# her own offer: the cost scales with it, it is not an uncertainty about the world
OWN_FACTS = ("freelancer.hourly_rate", "freelancer.hours_per_week", "market.market_rate")
AGGREGATOR_SETTINGS = {
    "bayesian": ("signals.prior_mean", "signals.prior_weight"),
    "wilson": ("signals.positive_at",),
}


def chosen_keys(sc: Scenario) -> tuple[str, ...]:
    """The assumptions a tornado varies by default, in registry order: every `varied` one (the
    world the probabilistic run draws), the JSS thresholds when clients see the JSS, and the
    settings of an aggregator some rule uses (the Bayesian prior, Wilson's positive stars)."""
    keys = {a.key for a in assumptions.varied()}
    if sc.signals.shown in ("both", "jss"):
        keys |= {"jss.success_at", "jss.fail_below"}
    for arm in sc.arms:
        keys |= set(AGGREGATOR_SETTINGS.get(sc.aggregator_of(arm), ()))
    return tuple(a.key for a in assumptions.ASSUMPTIONS if a.key in keys)


# -- running one modified scenario --------------------------------------------------------------


def market_of(sc: Scenario, base: Scenario) -> HiringMarket:
    """The market `sim.run` builds for ``sc`` (`engine.market_for`), taking the competitor field
    of ``base`` where the two differ only in settings the field does not read (no rebuild)."""
    field_free = {k: getattr(base.market, k) for k in FIELD_FREE}
    twin = sc.model_copy(update={"market": sc.market.model_copy(update=field_free)})
    market = cached_market(twin)
    rate = sc.hiring.known_win_rate
    if rate is not None:
        market = solve_intercept(market, today_utility(make_plan(sc), market), rate)
    return market


def run_on(sc: Scenario, market: HiringMarket) -> Result:
    """`sim.run(sc)` on a given market, chunk by chunk: bit-identical to `sim.run` when the
    market is `market_of(sc, base)` (tests/test_sensitivity.py)."""
    from . import simulate_paths

    chunks = list(iter_chunks(sc.run.paths, sc.run.chunk_paths))
    if len(chunks) == 1:  # the tornado's size: the chunk's own accumulator holds every path
        acc = simulate_paths(sc, 0, sc.run.paths, market)
    else:
        acc = Accumulator(sc, make_plan(sc).net)
        for first, n in chunks:
            acc.merge(simulate_paths(sc, first, n, market))
    info = {
        "market_mean_stars": market.market_mean,
        "outside_utility": market.outside_utility,
        "intercept": market.intercept,
    }
    return acc.result(info)


def scenario_figures(sc: Scenario, base: Scenario, arm: str) -> dict[str, float | None]:
    """One modified scenario's figures (a task for a worker process: small to send back)."""
    return figures(run_on(sc, market_of(sc, base)), arm)


# -- the tornado --------------------------------------------------------------------------------


def figures(res: Result, arm: str) -> dict[str, float | None]:
    """The tornado's figures of one run: the mean earnings difference (arm minus reference), the
    median lasting recovery week (None: beyond the horizon) and the share of futures not back for
    good within the horizon (which still moves when the median is beyond it)."""
    recovery = res.recovery_summary(arm)
    return {
        "earnings": res.difference(arm, "earnings")["mean"],
        "recovery": recovery["median"],
        "not_recovered": recovery["share_not_recovered"],
    }


@dataclass(frozen=True)
class Bar:
    """One assumption's bar for one figure: the figure at its low and at its high."""

    figure: str
    key: str
    tag: str
    low: float
    default: float
    high: float
    at_low: float | None
    at_default: float | None
    at_high: float | None
    sign: int

    @property
    def swing(self) -> float | None:
        """The figure at the high minus the figure at the low (None where one is beyond the
        horizon)."""
        if self.at_low is None or self.at_high is None:
            return None
        return self.at_high - self.at_low

    @property
    def variance(self) -> float | None:
        """The figure's variance when the assumption alone is uniform over its range and the
        figure piecewise linear through its values at the low, the default and the high (the
        default outside the range: linear between the ends); None where a figure is missing."""
        ends = (self.at_low, self.at_default, self.at_high)
        if any(x is None for x in ends) or self.high <= self.low:
            return None if any(x is None for x in ends) else 0.0
        f_a, f_b, f_c = (float(x) for x in ends)  # type: ignore[arg-type]
        a, b, c = self.low, self.default, self.high
        if not a <= b <= c:
            return (f_c - f_a) ** 2 / 12.0
        width = c - a
        mean = ((b - a) * (f_a + f_b) + (c - b) * (f_b + f_c)) / (2.0 * width)
        square = (
            (b - a) * (f_a * f_a + f_a * f_b + f_b * f_b)
            + (c - b) * (f_b * f_b + f_b * f_c + f_c * f_c)
        ) / (3.0 * width)
        return max(square - mean * mean, 0.0)

    @property
    def size(self) -> float:
        """How far the figure moves, for sorting: a move past the horizon counts as the
        distance to the horizon's end (the lower bound it is)."""
        s = self.swing
        return abs(s) if s is not None else math.inf if self.at_low != self.at_high else 0.0


@dataclass(frozen=True)
class Tornado:
    """Bars per figure, each list sorted by swing (largest first), and the default run's
    figures."""

    scenario: str
    sha256: str
    reference: str
    arm: str
    paths: int
    weeks: int
    seed: int
    base: dict[str, float | None]
    bars: dict[str, tuple[Bar, ...]] = field(default_factory=dict)
    runs: int = 0  # distinct scenarios run, the default one included

    def variance_shares(self, figure: str) -> dict[str, float | None]:
        """Each assumption's share of the figure's variance, first order: its `Bar.variance`
        over their sum, as if the figure were the sum of one-at-a-time effects, each
        assumption uniform over its range and independent (no interactions). None where a
        figure is missing, or nothing varies."""
        variances = {b.key: b.variance for b in self.bars.get(figure, ())}
        total = sum(v for v in variances.values() if v is not None)
        if any(v is None for v in variances.values()) or total <= 0:
            return dict.fromkeys(variances)
        return {k: v / total for k, v in variances.items()}  # type: ignore[operator]

    def rows(self) -> list[dict[str, Any]]:
        """tornado.csv's rows: per figure, its bars from the largest swing down."""
        shares = {fig: self.variance_shares(fig) for fig in FIGURES}
        return [
            {
                "figure": b.figure,
                "rank": i,
                "assumption": b.key,
                "tag": b.tag,
                "low": b.low,
                "default": b.default,
                "high": b.high,
                "at_low": b.at_low,
                "at_default": b.at_default,
                "at_high": b.at_high,
                "swing": b.swing,
                "variance_share": shares[fig][b.key],
            }
            for fig in FIGURES
            for i, b in enumerate(self.bars.get(fig, ()), 1)
        ]


COLUMNS = (
    "figure",
    "rank",
    "assumption",
    "tag",
    "low",
    "default",
    "high",
    "at_low",
    "at_default",
    "at_high",
    "swing",
    "variance_share",
)


def _settings(sc: Scenario, keys: Sequence[str], source: str) -> list[tuple[str, float, float]]:
    spans = ranges(sc)
    out = []
    problems = []
    for key in keys:
        try:
            by_key(key)
        except KeyError:
            problems.append((source, str(key), "not an assumption with a range (docs/model.md)"))
            continue
        out.append((key, *spans[key]))
    if problems:
        raise ScenarioError(problems)
    return out


def tornado(
    sc: Scenario,
    keys: Sequence[str] | None = None,
    *,
    paths: int | None = DEFAULT_PATHS,
    arm: str | None = None,
    executor: Executor | None = None,
    in_flight: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    source: str = "",
) -> Tornado:
    """The tornado of ``sc``: each assumption of ``keys`` (default `chosen_keys`) at its low and
    its high, the others at their defaults, on the default run's seed and ``paths`` (None: the
    scenario's own). ``arm`` is the compared rule (default the second). Uncertainty is off in
    every run: the point is one assumption at a time. Runs of equal scenarios are made once, so
    a range of width zero, or a bound equal to the default, gives exactly zero swing.

    ``executor`` runs the scenarios (in any order: the result is the same); ``in_flight`` caps
    how many it holds at once, so that other work sent to a shared pool waits for at most that
    many runs rather than the whole tornado. ``progress(done, total)`` counts runs.
    """
    if len(sc.arms) < 2:
        raise ScenarioError([(source, "arms", "a tornado compares two rules; give at least two")])
    arm = sc.arms[1].name if arm is None else arm
    if arm not in sc.arm_names()[1:]:
        raise ScenarioError(
            [(source, "arm", f"{arm!r} is not a compared rule ({', '.join(sc.arm_names()[1:])})")]
        )
    base = sc.model_copy(update={"uncertainty": sc.uncertainty.model_copy(update={"on": False})})
    if paths is not None and paths != base.run.paths:
        from . import with_run

        base = with_run(base, paths=paths)  # validated: a problem names run.paths
    keys = chosen_keys(sc) if keys is None else tuple(keys)
    settings = _settings(sc, keys, source)
    # every distinct scenario to run, the default first
    scenarios: dict[str, Scenario] = {base.model_dump_json(): base}
    at: dict[tuple[str, str], str] = {}
    problems = []
    for key, low, high in settings:
        for side, value in (("low", low), ("high", high)):
            try:
                s = with_value(base, key, value)
            except ScenarioError as e:
                problems += [
                    (source, f'uncertainty.ranges."{key}"', f"{side} {value:g}: {msg}")
                    for _, _, msg in e.problems
                ]
                continue
            text = s.model_dump_json()
            scenarios.setdefault(text, s)
            at[key, side] = text
    if problems:
        raise ScenarioError(problems)
    values: dict[str, dict[str, float | None]] = {}
    if executor is None:
        for i, (text, s) in enumerate(scenarios.items(), 1):
            values[text] = scenario_figures(s, base, arm)
            if progress is not None:
                progress(i, len(scenarios))
    else:
        todo = list(scenarios.items())
        futures: dict[Future, str] = {}
        done = 0
        while todo or futures:
            while todo and (in_flight is None or len(futures) < in_flight):
                text, s = todo.pop(0)
                futures[executor.submit(scenario_figures, s, base, arm)] = text
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                values[futures.pop(future)] = future.result()
                done += 1
                if progress is not None:
                    progress(done, len(scenarios))
    default = values[base.model_dump_json()]
    bars: dict[str, list[Bar]] = {fig: [] for fig in FIGURES}
    for key, low, high in settings:
        a: Assumption = by_key(key)
        for fig in FIGURES:
            bars[fig].append(
                Bar(
                    figure=fig,
                    key=key,
                    tag=a.tag,
                    low=low,
                    default=default_value(base, key),
                    high=high,
                    at_low=values[at[key, "low"]][fig],
                    at_default=default[fig],
                    at_high=values[at[key, "high"]][fig],
                    sign=a.sign,
                )
            )
    order = {key: i for i, (key, _, _) in enumerate(settings)}
    return Tornado(
        scenario=sc.name,
        sha256=sc.sha256(),
        reference=sc.arms[0].name,
        arm=arm,
        paths=base.run.paths,
        weeks=base.run.weeks,
        seed=base.run.seed,
        base=default,
        runs=len(scenarios),
        bars={
            fig: tuple(sorted(b, key=lambda b: (-b.size, order[b.key]))) for fig, b in bars.items()
        },
    )
