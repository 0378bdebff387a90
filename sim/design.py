"""Assumption uncertainty inside the run: a scrambled Sobol design of the varied assumptions, one
design point per block of paths, its hiring markets, and what a point changes row by row."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps
from scipy.stats import qmc

from .assumptions import default_value, ranges, varied
from .market import GRID_MARGIN, GRID_POINTS, HiringMarket, _sigmoid, field_parts, utility
from .scenario import Scenario

__all__ = [
    "APPLIED",
    "DESIGN_DECODE",
    "DESIGN_FIELD_JOBS",
    "Design",
    "DesignMarkets",
    "DesignRows",
    "capacity_bound",
    "design_markets",
    "design_today_utility",
    "make_design",
    "proposals_bound",
    "range_problem",
    "stars_by_edges",
]

DESIGN_SPAWN_KEY = (2,)  # the design's own stream: 0 is the market's field, (1, b) block b
FIELD_SPAWN_KEY = (3,)  # the design markets' shared field of competitors
DESIGN_FIELD_JOBS = 1024  # jobs in the design markets' field (the scenario's own has 4096)
BATCH_APPLICANTS = 2_000_000  # applicants' utilities held at once while tabulating the markets
BISECTIONS = 60  # the outside utility to ~1e-16 of its bracket (100 logit units wide)
# the ten assumptions the engine knows how to vary per row (sim/assumptions.py marks them)
APPLIED = (
    "freelancer.capacity",
    "freelancer.proposals_per_week",
    "freelancer.quality",
    "hiring.b_stars",
    "hiring.b_reviews",
    "hiring.b_jss",
    "hiring.b_top_rated",
    "market.competitors",
    "market.hire_share",
    "market.contract_weeks",
    "market.harsh_client_share",
)
COEF_KEYS = {  # design key -> the `utility` coefficient it sets
    "hiring.b_stars": "b_stars",
    "hiring.b_reviews": "b_reviews",
    "hiring.b_jss": "jss_scale",
    "hiring.b_top_rated": "b_top_rated",
}


# the registry's reading of a scenario's own value, under the name benchmarks/ still uses
scenario_value = default_value


@dataclass(frozen=True)
class Design:
    """K sets of the varied assumptions, one per design point (block b of paths takes point
    b mod K), and the per-point numbers the engine reads."""

    keys: tuple[str, ...]
    unit: np.ndarray  # (K, d) the scrambled Sobol points in [0, 1)
    values: np.ndarray  # (K, d) the assumptions' values
    capacity: np.ndarray  # (K,) int8
    proposals: np.ndarray  # (K,) int
    star_edges: np.ndarray  # (K, 4) cumsum(quality)[:4]
    log_keep: np.ndarray  # (K,) ln(1 - 1 / contract_weeks); -inf where contracts last one week
    harsh_share: np.ndarray  # (K,)
    coef: dict[str, np.ndarray]  # utility coefficients (K,): b_stars, b_reviews, jss_scale, ...
    competitors: np.ndarray  # (K,) int
    hire_share: np.ndarray  # (K,)

    @property
    def points(self) -> int:
        return self.unit.shape[0]

    def value(self, key: str) -> np.ndarray:
        """The key's value at each design point."""
        return self.values[:, self.keys.index(key)]


def make_design(sc: Scenario) -> Design:
    """The scenario's design: ``uncertainty.points`` scrambled Sobol points (seeded from the run
    seed with its own spawn key) mapped onto each varied assumption's range (`ranges`)."""
    keys = tuple(a.key for a in varied())
    unknown = [k for k in keys if k not in APPLIED]
    if unknown:  # a registry flag the engine cannot honour: a programming error, not a user's
        raise NotImplementedError(f"the engine cannot vary {unknown} per row (sim/design.py)")
    k = sc.uncertainty.points
    gen = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(sc.run.seed, spawn_key=DESIGN_SPAWN_KEY))
    )
    unit = qmc.Sobol(d=len(keys), scramble=True, rng=gen).random(k)
    bounds = ranges(sc)
    values = np.empty_like(unit)
    for i, key in enumerate(keys):
        low, high = bounds[key]
        if key in ("freelancer.capacity", "freelancer.proposals_per_week", "market.competitors"):
            # whole numbers, each equally likely: low .. high
            values[:, i] = np.minimum(np.floor(low + unit[:, i] * (high - low + 1)), high)
        else:
            values[:, i] = low + unit[:, i] * (high - low)
    return _design(sc, keys, unit, values)


def _design(sc: Scenario, keys: tuple[str, ...], unit: np.ndarray, values: np.ndarray) -> Design:
    def col(key: str) -> np.ndarray:
        if key in keys:
            return values[:, keys.index(key)]
        return np.full(unit.shape[0], default_value(sc, key))

    quality = np.asarray(sc.freelancer.quality, dtype=np.float64)
    five = col("freelancer.quality")
    rest = 1.0 - quality[4]
    if rest > 0:  # the other four shares rescaled in proportion
        lower = quality[None, :4] * ((1.0 - five) / rest)[:, None]
    else:
        lower = np.repeat(((1.0 - five) / 4)[:, None], 4, axis=1)
    edges = np.cumsum(np.concatenate([lower, five[:, None]], axis=1), axis=1)[:, :4]
    # ln(1 - p_end) point by point, each as the fixed run's scalar computes it; -inf for
    # contracts of one week, which makes every duration 1
    with np.errstate(divide="ignore"):
        log_keep = np.array([np.log1p(-(1.0 / w)) for w in col("market.contract_weeks")])
    return Design(
        keys=keys,
        unit=unit,
        values=values,
        capacity=col("freelancer.capacity").astype(np.int8),
        proposals=col("freelancer.proposals_per_week").astype(np.int64),
        star_edges=edges,
        log_keep=log_keep,
        harsh_share=col("market.harsh_client_share"),
        coef={name: col(key) for key, name in COEF_KEYS.items()},
        competitors=col("market.competitors").astype(np.int64),
        hire_share=col("market.hire_share"),
    )


def _bound(sc: Scenario, key: str, own: int) -> int:
    if not sc.uncertainty.on or key not in {a.key for a in varied()}:
        return own
    return int(ranges(sc)[key][1])


def capacity_bound(sc: Scenario) -> int:
    """The most contracts a path can hold at once in this run (its design's largest capacity)."""
    return _bound(sc, "freelancer.capacity", sc.freelancer.capacity)


def proposals_bound(sc: Scenario) -> int:
    """The most proposals a path sends in a week in this run (its design's largest)."""
    return _bound(sc, "freelancer.proposals_per_week", sc.freelancer.proposals_per_week)


def setting_limits(key: str) -> list[tuple[str, float]]:
    """The setting's own limits as (op, bound) pairs, op one of ge, gt, le, lt (quality: a share;
    b_jss: a multiplier of the band terms, at most 10 as each term)."""
    if key == "freelancer.quality":
        return [("ge", 0.0), ("le", 1.0)]
    if key == "hiring.b_jss":
        return [("ge", 0.0), ("le", 10.0)]
    section, name = key.split(".")
    model = Scenario.model_fields[section].annotation
    metadata = model.model_fields[name].metadata  # annotated_types: Ge(ge=0), Lt(lt=1), ...
    return [
        (a, getattr(r, a))
        for r in metadata
        for a in ("ge", "gt", "le", "lt")
        if getattr(r, a, None) is not None
    ]


def range_problem(key: str, low: float, high: float) -> str | None:
    """Why a design key's range is not allowed (None: it is): the values the run draws must be
    allowed by the setting's own limits (`setting_limits`)."""
    rules = [dict([rule]) for rule in setting_limits(key)]
    for rule in rules:
        for op, bound in rule.items():
            bad = {"ge": low < bound, "gt": low <= bound, "le": high > bound, "lt": high >= bound}
            if bad.get(op, False):
                word = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}[op]
                return f"{key!r}: [{low:g}, {high:g}] must be {word} {bound:g}, as the setting"
    return None


# -- contract attributes, decoded with each path's own assumptions -----------------------------
def stars_by_edges(edges: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Stars of uniforms ``u`` when each has its own quality (a design point's, a freelancer
    type's): 1 + the number of its row of four edges (cumsum(quality)[:4]) at or below u, as
    `np.searchsorted(edges, u, side="right")` gives for one row of edges."""
    return 1 + (edges <= u.astype(np.float64)[:, None]).sum(axis=1)


def _decode_stars(plan, u: np.ndarray, point: np.ndarray) -> np.ndarray:
    return stars_by_edges(plan.design.star_edges[point], u)


def _decode_duration(plan, u: np.ndarray, point: np.ndarray) -> np.ndarray:
    # ln(1 - u) / -inf is 0: contracts of one week
    keep = plan.design.log_keep[point]
    duration = 1 + np.floor(np.log1p(-u.astype(np.float64)) / keep).astype(np.int64)
    return np.minimum(duration, plan.weeks + 1)


def _decode_harsh(plan, u: np.ndarray, point: np.ndarray) -> np.ndarray:
    return u < plan.design.harsh_share[point]


DESIGN_DECODE = {"stars": _decode_stars, "duration": _decode_duration, "harsh": _decode_harsh}


# -- the markets, one per design point -----------------------------------------------------------
@dataclass(frozen=True)
class DesignMarkets:
    """Win probability by design point: K tabulated q(V) stacked row-wise, each read as
    `HiringMarket.win_prob` reads its own (the same arithmetic, so a point whose market settings
    are the scenario's gives its market's numbers to the bit)."""

    market_mean: float
    q: np.ndarray  # (K, GRID_POINTS)
    shift: np.ndarray  # (K,) intercept - first grid point
    scale: np.ndarray  # (K,) grid points per logit unit
    outside_utilities: np.ndarray  # (K,)
    intercepts: np.ndarray  # (K,)
    base: HiringMarket  # the scenario's own market

    @property
    def outside_utility(self) -> float:
        return self.base.outside_utility

    @property
    def intercept(self) -> float:
        return self.base.intercept

    def win_prob(self, v: np.ndarray, point: np.ndarray) -> np.ndarray:
        """Probability that one proposal wins, for utilities ``v`` at design points ``point``."""
        g = self.q.shape[1]
        x = (np.asarray(v, dtype=float) + self.shift[point]) * self.scale[point]
        x = np.clip(x, 0.0, g - 1.0)
        i = np.minimum(x.astype(np.intp), g - 2)
        flat = self.q.reshape(-1)
        j = point * g + i
        return flat[j] + (x - i) * (flat[j + 1] - flat[j])


def _same_market(sc: Scenario, design: Design) -> np.ndarray:
    """Design points whose market settings are the scenario's own (they reuse its market)."""
    same = (design.competitors == sc.market.competitors) & (
        design.hire_share == sc.market.hire_share
    )
    for key, name in COEF_KEYS.items():
        same &= design.coef[name] == default_value(sc, key)
    return same


def _field_parts(sc: Scenario, jobs: int, competitors: int) -> tuple[np.ndarray, ...]:
    """The design markets' shared field (its own stream): stars, reviews, band, badge, price."""
    rng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(sc.run.seed, spawn_key=FIELD_SPAWN_KEY))
    )
    return field_parts(sc, rng, jobs, competitors)


def _tabulate(log_den: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """q(V) = mean_j sigmoid(V - log_den[k, j]) on each point's grid of GRID_POINTS, by linear
    binning of the denominators onto the grid and one FFT convolution with the sigmoid (error
    of the order h^2/80 with h the grid step, ~1e-5; tests/test_uncertainty.py checks it).
    Returns (first grid point, last grid point, q), each per point."""
    k, jobs = log_den.shape
    g = GRID_POINTS
    g0 = log_den.min(axis=1) - GRID_MARGIN
    g1 = log_den.max(axis=1) + GRID_MARGIN
    h = (g1 - g0) / (g - 1)
    x = (log_den - g0[:, None]) / h[:, None]
    i = np.clip(np.floor(x).astype(np.intp), 0, g - 2)
    w = x - i
    base = (np.arange(k) * g)[:, None]
    mass = np.bincount((base + i).ravel(), (1.0 - w).ravel(), minlength=k * g)
    mass += np.bincount((base + i + 1).ravel(), w.ravel(), minlength=k * g)
    mass = mass.reshape(k, g) / jobs
    offsets = np.arange(-(g - 1), g)
    kernel = _sigmoid(offsets[None, :] * h[:, None])
    q = sps.fftconvolve(mass, kernel, mode="full", axes=1)[:, g - 1 : 2 * g - 1]
    q = np.maximum.accumulate(np.clip(q, 0.0, 1.0), axis=1)
    return g0, g1, q


def _outside_utilities(log_sum: np.ndarray, no_hire: np.ndarray) -> np.ndarray:
    """V_0 per point such that the mean share of jobs without a hire is ``no_hire`` (bisection
    on every point at once; 0 where there are no competitors, as `market._outside_utility`)."""
    empty = np.all(np.isneginf(log_sum), axis=1)
    finite = np.where(np.isneginf(log_sum), np.nan, log_sum)
    lo = np.where(empty, -1.0, np.nanmin(np.where(empty[:, None], 0.0, finite), axis=1) - 40.0)
    hi = np.where(empty, 1.0, np.nanmax(np.where(empty[:, None], 0.0, finite), axis=1) + 40.0)
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        above = np.mean(_sigmoid(mid[:, None] - log_sum), axis=1) > no_hire
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return np.where(empty, 0.0, 0.5 * (lo + hi))


@functools.lru_cache(maxsize=8)
def _tables_from(key: str, used: int) -> tuple[np.ndarray, ...]:
    sc = Scenario.model_validate_json(key)
    design = make_design(sc)
    return _tables(sc, design, used)


def _tables(sc: Scenario, design: Design, used: int | None = None) -> tuple[np.ndarray, ...]:
    """Per point: first and last grid point, q on the grid, outside utility (NaN rows where the
    point reuses the scenario's market, or is beyond the first ``used`` points, which a run
    of fewer blocks than points never reads)."""
    k, g = design.points, GRID_POINTS
    g0, g1, q, v0 = np.full(k, np.nan), np.full(k, np.nan), np.full((k, g), np.nan), np.full(k, 0.0)
    own = np.flatnonzero(~_same_market(sc, design) & (np.arange(k) < (used or k)))
    if own.size:
        # the field's width from the scenario (not from the points built): a point's market
        # is the same whichever other points a run needs
        width = max(int(design.competitors.max()), int(ranges(sc)["market.competitors"][1]), 1)
        jobs = min(sc.market.field_size, DESIGN_FIELD_JOBS)
        field = _field_parts(sc, jobs, width)
        batch = max(1, BATCH_APPLICANTS // (jobs * width))  # bounded memory, whatever the ranges
        for start in range(0, own.size, batch):
            part = own[start : start + batch]
            g0[part], g1[part], q[part], v0[part] = _markets(sc, design, part, field)
    return g0, g1, q, v0


def _markets(sc: Scenario, design: Design, part: np.ndarray, field: tuple) -> tuple:
    """`_tables` for the design points ``part``, on the shared field."""
    stars, reviews, band, badge, log_price = field
    comp = design.competitors[part]
    coef = {name: design.coef[name][part][:, None, None] for name in COEF_KEYS.values()}
    v = utility(stars, reviews, band, badge, log_price, sc, sc.market.competitor_stars_mean,
                coef=coef)  # fmt: skip
    v = np.where(np.arange(stars.shape[1])[None, None, :] < comp[:, None, None], v, -np.inf)
    top = v.max(axis=2)
    safe = np.where(np.isneginf(top), 0.0, top)
    with np.errstate(divide="ignore"):
        log_sum = np.log(np.exp(v - safe[:, :, None]).sum(axis=2)) + safe
    v0 = _outside_utilities(log_sum, 1.0 - design.hire_share[part])
    log_den = np.logaddexp(log_sum, v0[:, None])
    # one point at a time: a point's table never depends on which others share the batch
    tables = [_tabulate(row[None]) for row in log_den]
    g0, g1, q = (np.concatenate([t[i] for t in tables]) for i in range(3))
    return g0, g1, q, v0


def design_markets(plan, base: HiringMarket, v_today: np.ndarray | None) -> DesignMarkets:
    """The markets of the plan's design points: a point whose market settings are the
    scenario's reuses ``base`` (its market); the others are tabulated on a shared field of
    DESIGN_FIELD_JOBS jobs. ``v_today`` (K,), each point's utility today, solves the intercepts
    when ``hiring.known_win_rate`` is set."""
    sc, design = plan.sc, plan.design
    relevant = {
        "run": {"seed": sc.run.seed},
        "freelancer": {"quality": sc.freelancer.quality, "capacity": sc.freelancer.capacity,
                       "proposals_per_week": sc.freelancer.proposals_per_week},
        "market": sc.market.model_dump(),
        "hiring": sc.hiring.model_dump(),
        "signals": {"shown": sc.signals.shown},
        "uncertainty": sc.uncertainty.model_dump(),
        "arms": [{"name": "a", "rule": "keep"}],
    }  # fmt: skip
    from .draws import BLOCK  # draws imports this module

    used = min(design.points, -(-sc.run.paths // BLOCK))  # the points the run's blocks take
    g0, g1, q, v0 = _tables_from(Scenario.model_validate(relevant).model_dump_json(), used)
    g0, g1, q, v0 = g0.copy(), g1.copy(), q.copy(), v0.copy()
    same = np.isnan(g0)
    grid = base.v_grid
    intercepts = np.zeros(design.points)
    rate = sc.hiring.known_win_rate
    for p in range(design.points):
        if same[p]:
            q[p] = base.q_grid
            v0[p] = base.outside_utility
            intercepts[p] = base.intercept
        elif rate is not None:
            target = float(np.clip(rate, q[p, 0], q[p, -1]))
            v_grid = np.linspace(g0[p], g1[p], GRID_POINTS)
            intercepts[p] = float(np.interp(target, q[p], v_grid)) - v_today[p]
    shift = np.where(same, base.intercept - grid[0], intercepts - g0)
    scale = np.where(same, (grid.size - 1) / (grid[-1] - grid[0]), (GRID_POINTS - 1) / (g1 - g0))
    return DesignMarkets(base.market_mean, q, shift, scale, v0, intercepts, base)


def design_today_utility(fixed, plan) -> np.ndarray | None:
    """Each design point's utility today (None without a known win rate): the first arm's week-0
    signals (``fixed``: the plan without a design) under each point's hiring coefficients."""
    if plan.sc.hiring.known_win_rate is None:
        return None
    from .engine import ArmKernel, cached_market, chunk_draws_for_today  # engine imports this

    sc = fixed.sc
    kernel = ArmKernel(fixed, [sc.arms[0]], chunk_draws_for_today(fixed), cached_market(sc))
    kernel.start_week(0)
    kernel.signals(0)
    one = slice(0, 1)
    return utility(kernel.stars[one], kernel.reviews[one], kernel.band[one], kernel.badge[one],
                   fixed.log_price, sc, kernel.market.market_mean,
                   evidence=kernel.evidence[one], coef=plan.design.coef)  # fmt: skip


# -- the kernel's rows -----------------------------------------------------------------------------
class DesignRows:
    """`ArmKernel`'s assumptions row by row (sim/engine.py): with uncertainty on, each row's
    design point (its path's block's), capacity and hiring coefficients (its proposals are in
    the draws: `Draws` fills the slots a point does not send with uniforms that never win);
    with it off, the scenario's (scalars: the arithmetic is the fixed run's).

    Reads the kernel's plan, draws (``d``), arms and market.
    """

    def _init_design(self) -> None:
        design = self.plan.design
        if design is None:
            self.point, self.cap = None, self.plan.capacity
            return
        self.point = np.tile(self.d.point, len(self.arms))
        self.cap = design.capacity[self.point]
        self.row_coef = {name: c[self.point] for name, c in design.coef.items()}

    def _coef(self, rows: np.ndarray | None) -> dict[str, np.ndarray] | None:
        """The utility coefficients of ``rows`` (None: every row); None with uncertainty off."""
        if self.point is None:
            return None
        if rows is None:
            return self.row_coef
        return {name: c[rows] for name, c in self.row_coef.items()}

    def _win_prob(self, v: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
        """Win probability of utilities ``v`` on ``rows`` (None: every row)."""
        if self.point is None:
            return self.market.win_prob(v)
        return self.market.win_prob(v, self.point if rows is None else self.point[rows])
