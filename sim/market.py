"""The competitor field and the conditional-logit hiring model with an outside option."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize

from .reputation import JSS_BAND_NONE, NO_BADGE, RISING_TALENT, TOP_RATED
from .scenario import Scenario

__all__ = [
    "HiringMarket",
    "build_market",
    "cached_market",
    "field_parts",
    "solve_intercept",
    "utility",
]

GRID_POINTS = 2049
GRID_MARGIN = 18.0  # beyond this many logit units from the field the win probability is < 2e-8


def utility(
    stars: np.ndarray,
    reviews: np.ndarray,
    jss_band: np.ndarray,
    badge: np.ndarray,
    log_price: np.ndarray | float,
    sc: Scenario,
    market_mean: float,
    *,
    evidence: np.ndarray | None = None,
    coef: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """V = b_stars·f(n)·(stars - market mean) + b_reviews·ln(1+e) + b_jss + b_badge + b_price·ln p.

    Stars are NaN for an applicant with no counted feedback: they show no stars, so the term is 0
    [A]. f(n) = n / (n + half) lets stars count less at few reviews (Resnick et al. 2006's view);
    half = 0 gives f = 1. ``evidence`` e is the five-star-equivalent count of the reviews, the
    sum of (stars - 1) / 4: a 5-star review adds 1, a 1-star review nothing, so a low rating
    never adds experience (model.md, "Monotone by construction"); None takes
    n·(stars - 1) / 4, all reviews at the shown stars (the competitors' case). ``jss_band`` is
    the band clients judge (4: no feedback in any window). Signals clients do not see
    (``signals.shown``) contribute nothing. ``coef`` (sim/design.py, assumption uncertainty)
    replaces b_stars, b_reviews and b_top_rated by arrays and scales the JSS band terms by
    ``jss_scale``, each broadcast against the applicants.
    """
    h, shown = sc.hiring, sc.signals.shown
    c = coef or {}
    reviews = np.asarray(reviews, dtype=float)
    stars = np.asarray(stars, dtype=float)
    if evidence is None:
        evidence = np.where(np.isnan(stars), 0.0, reviews * (stars - 1.0) * 0.25)
    v = c.get("b_reviews", h.b_reviews) * np.log1p(evidence) + h.b_price * np.asarray(
        log_price, dtype=float
    )
    if shown in ("both", "stars"):
        half = h.b_stars_half_at_reviews
        trust = reviews / (reviews + half) if half > 0 else 1.0
        term = c.get("b_stars", h.b_stars) * trust * (stars - market_mean)
        v = v + np.where(np.isnan(term), 0.0, term)
    if shown in ("both", "jss"):
        b_jss = np.array([*h.b_jss, 0.0])
        b_badge = np.array([0.0, h.b_rising_talent, h.b_top_rated])
        if coef is None:
            v = v + b_jss.take(jss_band) + b_badge.take(badge)
        else:
            top = np.where(badge == TOP_RATED, c["b_top_rated"], b_badge.take(badge))
            v = v + b_jss.take(jss_band) * c["jss_scale"] + top
    return v


@dataclass(frozen=True)
class HiringMarket:
    """A sampled field of jobs, reduced to what a proposal needs: win probability given V.

    ``log_denominators[j]`` is ln(exp(V_0) + sum_i exp(V_ij)) for job j of the field. A proposal
    to a job drawn at random from the field wins with probability
    q(V) = mean_j 1 / (1 + exp(ln D_j - V));
    proposals are independent given V, so comparing one uniform per proposal with q(V) is exact.
    q is tabulated once on a fine grid and read by linear interpolation (absolute error a few
    1e-6 at most, relative under 1e-4: tests/test_market.py).
    """

    log_denominators: np.ndarray
    outside_utility: float
    market_mean: float
    intercept: float
    v_grid: np.ndarray
    q_grid: np.ndarray

    def win_prob(self, v: np.ndarray) -> np.ndarray:
        """Probability that one proposal wins, for utilities ``v`` (intercept added here).

        Linear interpolation on the uniform grid, by direct indexing (no search); constant
        beyond the grid's ends, where q is within 2e-8 of 0 or of its limit.
        """
        g = self.v_grid
        x = (np.asarray(v, dtype=float) + (self.intercept - g[0])) * ((g.size - 1) / (g[-1] - g[0]))
        x = np.clip(x, 0.0, g.size - 1.0)
        i = np.minimum(x.astype(np.intp), g.size - 2)
        q = self.q_grid
        return q[i] + (x - i) * (q[i + 1] - q[i])

    def exact_win_prob(self, v: float) -> float:
        """q(V) by the full mean over the field (no grid), for tests and the scalar reference."""
        return float(np.mean(_sigmoid(v + self.intercept - self.log_denominators)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def field_parts(
    sc: Scenario, rng: np.random.Generator, jobs: int, competitors: int
) -> tuple[np.ndarray, ...]:
    """A field of competing applicants, shape (jobs, competitors), drawn from ``rng`` in a fixed
    order: their stars, reviews, JSS band, badge and ln(price / market rate)."""
    m = sc.market
    shape = (jobs, competitors)
    stars = np.clip(rng.normal(m.competitor_stars_mean, m.competitor_stars_sd, shape), 1.0, 5.0)
    reviews = np.rint(
        np.exp(rng.normal(np.log(m.competitor_reviews_median), m.competitor_reviews_sigma, shape))
    )
    band = rng.choice(5, size=shape, p=np.asarray(m.competitor_jss_bands))
    top = (band == 0) & (rng.random(shape) < m.competitor_top_rated_share)
    badge = np.where(band == JSS_BAND_NONE, RISING_TALENT, np.where(top, TOP_RATED, NO_BADGE))
    log_price = rng.normal(0.0, m.competitor_price_sigma, shape)
    return stars, reviews, band, badge, log_price


def sample_field(sc: Scenario, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Competitor utilities, shape (jobs, competitors), and the market's mean stars."""
    m = sc.market
    stars, reviews, band, badge, log_price = field_parts(sc, rng, m.field_size, m.competitors)
    market_mean = float(m.competitor_stars_mean)
    v = utility(stars, reviews, band, badge, log_price, sc, market_mean)
    return v, market_mean


def _outside_utility(log_sum_competitors: np.ndarray, no_hire_share: float) -> float:
    """V_0 such that the mean share of jobs ending without a hire equals ``no_hire_share``."""
    if log_sum_competitors.size == 0 or np.all(np.isneginf(log_sum_competitors)):
        return 0.0

    def gap(v0: float) -> float:
        return float(np.mean(_sigmoid(v0 - log_sum_competitors))) - no_hire_share

    lo, hi = log_sum_competitors.min() - 40.0, log_sum_competitors.max() + 40.0
    return float(optimize.brentq(gap, lo, hi, xtol=1e-12))


@functools.lru_cache(maxsize=32)
def _market_from(key: str) -> HiringMarket:
    return build_market(Scenario.model_validate_json(key))


def cached_market(sc: Scenario) -> HiringMarket:
    """`build_market`, remembered for the settings it depends on (the dashboard reruns often)."""
    relevant = {
        "run": {"seed": sc.run.seed},
        "market": sc.market.model_dump(),
        "hiring": sc.hiring.model_dump(),
        "signals": {"shown": sc.signals.shown},
        "arms": [{"name": "a", "rule": "keep"}],
    }
    return _market_from(Scenario.model_validate(relevant).model_dump_json())


def build_market(sc: Scenario) -> HiringMarket:
    """Sample the field from the scenario's seed (spawn key 0) and tabulate q(V)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(sc.run.seed, spawn_key=(0,))))
    v, market_mean = sample_field(sc, rng)
    if v.shape[1]:
        log_sum = np.logaddexp.reduce(v, axis=1)
    else:
        log_sum = np.full(v.shape[0], -np.inf)
    v0 = _outside_utility(log_sum, 1.0 - sc.market.hire_share)
    log_den = np.logaddexp(log_sum, v0)
    grid = np.linspace(log_den.min() - GRID_MARGIN, log_den.max() + GRID_MARGIN, GRID_POINTS)
    q = np.concatenate(
        [np.mean(_sigmoid(g[:, None] - log_den), axis=1) for g in np.array_split(grid, 16)]
    )
    q = np.maximum.accumulate(q)  # guard monotonicity against rounding
    return HiringMarket(log_den, v0, market_mean, 0.0, grid, q)


def solve_intercept(market: HiringMarket, v_today: float, win_rate: float) -> HiringMarket:
    """The market with the intercept that makes q(v_today) equal ``win_rate`` (clipped to reach)."""
    target = float(np.clip(win_rate, market.q_grid[0], market.q_grid[-1]))
    intercept = float(np.interp(target, market.q_grid, market.v_grid)) - v_today
    return replace(market, intercept=intercept)
