"""A scenario's model as plain numbers and arrays, shared by the Mesa and numba benchmark models."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

import sim
from sim.engine import make_plan, market_for
from sim.metrics import BAND_KEYS, _Histogram

SUPPORTED_RULES = ("keep", "exclude_flagged")
# what sim.run reports week by week, so every implementation does the same work: the weekly
# distribution of each figure over the paths, as 5-95 percentiles and the mean
WEEKLY = ("stars", "jss", "win_prob", "active", "jobs", "earnings", "badge")
QUANTILES = (5, 25, 50, 75, 95)


def weekly_bands(values: np.ndarray) -> np.ndarray:
    """Bands of weekly values (weeks, paths): (weeks, 6) of the 5-95 percentiles and the mean,
    ignoring paths without a value (NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN weeks: no stars yet
        q = np.nanpercentile(values, QUANTILES, axis=1, method="inverted_cdf").T
        return np.column_stack([q, np.nanmean(values, axis=1)])


def histogram_bands(counts: np.ndarray, scale: float) -> np.ndarray:
    """Bands from weekly counts by code (weeks, bins), value = code x scale: (weeks, 6), by the
    engine's own histogram (the same inverted-CDF quantiles and mean)."""
    codes = np.arange(counts.shape[1], dtype=np.int64)
    bands = _Histogram(counts, counts @ codes, counts.sum(axis=1), scale, scale).bands()
    return np.column_stack([bands[key] for key in BAND_KEYS])


NEVER = -1  # exclude week of an arm that keeps everything


@dataclass(frozen=True)
class ModelInputs:
    """Everything the weekly loop reads (docs/simulation.md), for the supported settings only."""

    arms: tuple[str, ...]
    exclude_week: np.ndarray  # (arms,) week the flagged history is removed; NEVER to keep it
    weeks: int
    capacity: int
    slots: int
    delay_max: int
    gross: float
    net: float
    star_edges: np.ndarray  # cumsum(quality)[:4]: stars = 1 + #(u >= edge)
    harsh_share: float  # a contract's client is harsh with this probability
    harsh_shift: int  # stars a harsh client takes off the drawn stars, down to 1
    p_end: float  # weekly chance a contract ends (geometric duration, mean contract_weeks)
    feedback_rate: float
    value_weighted: bool
    # history, oldest first, entries with feedback only (for stars and the JSS)
    h_stars: np.ndarray
    h_value: np.ndarray
    h_end: np.ndarray  # -ended_weeks_ago
    h_flagged: np.ndarray
    h_client: np.ndarray  # client ids 0..clients-1 by name
    h_clients: int
    hist_earned: np.ndarray  # (weeks,) history dollars inside the 52-week earnings window
    tenure0: int  # max ended_weeks_ago over the history; -1 without history
    # Job Success Score
    success_at: float
    fail_below: float
    jss_windows: np.ndarray  # distinct lengths, ascending
    best_of: np.ndarray  # indices into jss_windows of the plain windows
    trending: np.ndarray  # indices into jss_windows averaged for "trending"
    min_contracts: int
    min_clients: int
    update_weeks: int
    # hiring: utility and the market's q(V) table
    b_stars: float
    stars_half: float
    b_reviews: float  # times ln(1 + e), e = sum of (stars - 1) / 4 over the counted feedback
    b_jss: np.ndarray  # (5,) by the band clients judge, 0.0 for none (no feedback in a window)
    b_badge: np.ndarray  # (3,) none, Rising Talent, Top Rated
    price_term: float  # b_price * ln(rate / market rate)
    market_mean: float
    use_stars: bool
    use_jss: bool
    grid_start: float  # v_grid[0] - intercept
    grid_scale: float  # (points - 1) / (v_grid[-1] - v_grid[0])
    q_grid: np.ndarray


def unsupported(sc: sim.Scenario) -> list[str]:
    """Settings of `sc` that the benchmark models do not implement (empty: all supported)."""
    out = [f"arm {a.name}: rule {a.rule}" for a in sc.arms if a.rule not in SUPPORTED_RULES]
    out += [
        f"arm {a.name}: scope {a.scope}"
        for a in sc.arms
        if a.rule in SUPPORTED_RULES and getattr(a, "scope", "all") != "all"
    ]
    out += [
        f"arm {a.name}: aggregator {sc.aggregator_of(a)}"
        for a in sc.arms
        if sc.aggregator_of(a) != "mean"
    ]
    return out


def model_inputs(sc: sim.Scenario) -> ModelInputs:
    """The plain inputs of `sc`, with the hiring market built once by repsim's own `sim.market`."""
    problems = unsupported(sc)
    if problems:
        raise NotImplementedError("; ".join(problems))
    plan = make_plan(sc)
    market = market_for(plan)
    f, h, j, m = sc.freelancer, sc.hiring, sc.jss, sc.market
    has = plan.h_has_feedback
    ids = {name: i for i, name in enumerate(dict.fromkeys(e.client for e in sc.history))}
    lengths = sorted(set(j.windows) | set(j.trending))
    ages = plan.h_age
    g = market.v_grid
    return ModelInputs(
        arms=sc.arm_names(),
        exclude_week=np.array(
            [a.delay_weeks if a.rule == "exclude_flagged" else NEVER for a in sc.arms]
        ),
        weeks=plan.weeks,
        capacity=plan.capacity,
        slots=plan.slots,
        delay_max=plan.delay_max,
        gross=plan.gross,
        net=plan.net,
        star_edges=np.cumsum(np.asarray(f.quality, dtype=np.float64))[:4],
        harsh_share=m.harsh_client_share,
        harsh_shift=m.harsh_client_shift,
        p_end=1.0 / m.contract_weeks,
        feedback_rate=sc.signals.feedback_rate,
        value_weighted=sc.signals.weighting == "value",
        h_stars=plan.h_stars[has],
        h_value=plan.h_value[has],
        h_end=-ages[has],
        h_flagged=plan.h_flagged[has],
        h_client=np.array([ids[e.client] for e in sc.history], dtype=np.int64)[has],
        h_clients=len(ids),
        hist_earned=np.array(
            [plan.h_value[ages + t < 52].sum() for t in range(plan.weeks)], dtype=np.float64
        ),
        tenure0=plan.tenure0,
        success_at=j.success_at,
        fail_below=j.fail_below,
        jss_windows=np.array(lengths, dtype=np.int64),
        best_of=np.array([lengths.index(w) for w in j.windows], dtype=np.int64),
        trending=np.array([lengths.index(w) for w in j.trending], dtype=np.int64),
        min_contracts=j.min_contracts,
        min_clients=j.min_clients,
        update_weeks=j.update_weeks,
        b_stars=h.b_stars,
        stars_half=h.b_stars_half_at_reviews,
        b_reviews=h.b_reviews,
        b_jss=np.array([*h.b_jss, 0.0]),
        b_badge=np.array([0.0, h.b_rising_talent, h.b_top_rated]),
        price_term=h.b_price * plan.log_price,
        market_mean=market.market_mean,
        use_stars=sc.signals.shown in ("both", "stars"),
        use_jss=sc.signals.shown in ("both", "jss"),
        grid_start=float(g[0]) - market.intercept,
        grid_scale=(g.size - 1) / float(g[-1] - g[0]),
        q_grid=np.asarray(market.q_grid, dtype=np.float64),
    )


def jss_weight(value: float) -> float:
    """A contract's weight in the Job Success Score by its dollar value [P]."""
    return 1.5 if value > 1000.0 else 1.25 if value > 250.0 else 1.0


def duration_weeks(u: float, p_end: float) -> int:
    """Geometric weeks >= 1 from a uniform (docs/simulation.md)."""
    return 1 if p_end >= 1.0 else 1 + math.floor(math.log1p(-u) / math.log1p(-p_end))
