"""A population run's measures per rule: protection, signal lost, ranking, harm, hired quality.

`measures(run)` gives one `RuleMeasures` per arm of a `PolicyRun` (except the victims'
counterfactual `without_unfair`), each figure with a 90% interval clustered over the run's
blocks of 256 paths (docs: /work/notes/policy-interface.md, issue 16):

- protection = unfair lows not counting at the horizon / unfair lows received;
  protection_weeks = mean weeks from arrival to stop over those that stopped;
- signal_lost = fair lows not counting at the horizon / fair lows received;
- ranking_stars / ranking_jss = Spearman's rank correlation (scipy.stats.spearmanr) of the
  stars / JSS shown at the horizon with true quality, paths with nothing shown omitted;
- victims_harm = mean, over the paths with at least one unfair low (under the reference arm,
  so that every arm is judged on the same victims), of earnings under `without_unfair` minus
  earnings under the arm;
- poor_gain = mean, over genuinely poor workers, of earnings under the arm minus under `oracle`;
- hired_quality = sum(jobs x quality) / sum(jobs).

Intervals. Paths of one block share random numbers, so the block, not the path, is the unit of
independence (with assumption uncertainty on, every block of a design point shares its
assumptions: the cluster is then the design point, as in `sim.headlines.three_figures`).
Protection, signal lost, harm, gain and hired quality are ratios of sums (a mean over paths is
the ratio with a denominator of one per path). Their intervals use the cluster-robust
(linearised) variance of a ratio, the estimator `three_figures` uses for a mean over design
points, to which it reduces when the denominator is one per path; the quantile is Student's t
with k - 1 degrees of freedom for k clusters (1.68 for the 40 blocks of 10,000 paths, the
normal's 1.645 for many more, honestly wider for a few). Shares (protection, signal lost) are
clipped to [0, 1], which holds the true share. A rank correlation is no ratio of sums: its
interval is a percentile block bootstrap (whole clusters resampled with replacement,
`BOOTSTRAP` replicates, from a generator seeded by the scenario's seed and a spawn key of its
own, the same resamples for every arm, so the same run gives the same bytes). Each replicate
keeps the full sample's ranks (so the point figure is scipy's exactly) and recomputes the
correlation of the ranks from the resampled clusters' moment sums: one matrix product for every
replicate, cheap for a million paths, where re-ranking every replicate would cost a sort each.

A figure with nothing to measure is None (never 0 or NaN), as is an interval that cannot be
estimated: fewer than two clusters hold any of it, or fewer than `MIN_BOOTSTRAP_CLUSTERS` for
a rank correlation (too few distinct resamples).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats

from .headlines import path_points
from .policy_types import PolicyRun, RuleMeasures

__all__ = [
    "BOOTSTRAP",
    "BOOTSTRAP_SPAWN_KEY",
    "clusters_of",
    "measures",
    "ratio_interval",
    "rule_of",
    "spearman_interval",
    "t_quantile",
]

BOOTSTRAP = 1000  # block-bootstrap replicates of a rank correlation
MIN_BOOTSTRAP_CLUSTERS = 10  # fewer clusters have too few distinct resamples for an interval
# the bootstrap's own stream: the engine uses 0 (market), (1, b) blocks, 2 and 3 (design) and
# (4, b) (a population's blocks); this spells "pol", so that no engine stream is read again
BOOTSTRAP_SPAWN_KEY = (0x706F6C,)
LEVEL = 0.90

Interval = tuple[float, float] | None


def clusters_of(run: PolicyRun) -> np.ndarray:
    """Each path's cluster for the intervals: its block of random numbers, or its design point
    when the run draws assumptions (blocks sharing a point share its assumptions)."""
    points = path_points(run.scenario) if run.scenario.run.paths == run.paths else None
    return run.blocks if points is None else points


def ratio_interval(
    num: np.ndarray, den: np.ndarray, clusters: np.ndarray
) -> tuple[float, Interval]:
    """sum(num) / sum(den) with its 90% interval, clustered (`clusters`: each path's cluster).

    The linearised cluster-robust variance of a ratio estimator: with per-cluster sums N_c and
    D_c and R = sum N / sum D, var(R) = k / (k - 1) * sum_c (N_c - R D_c)^2 / (sum D)^2 over the
    k clusters that hold any denominator; no interval (None) with fewer than two. The caller
    makes sure that sum(den) is not zero.
    """
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    total = float(den.sum())
    ratio = float(num.sum()) / total
    _, index = np.unique(clusters, return_inverse=True)
    n_c = np.bincount(index, weights=num)
    d_c = np.bincount(index, weights=den)
    held = d_c != 0
    k = int(np.count_nonzero(held))
    if k < 2:
        return ratio, None
    resid = n_c[held] - ratio * d_c[held]
    half = t_quantile(k) * math.sqrt(k / (k - 1) * float(np.sum(resid * resid))) / abs(total)
    return ratio, (ratio - half, ratio + half)


def t_quantile(k: int) -> float:
    """The two-sided 90% quantile of Student's t with k - 1 degrees of freedom: with k clusters
    the variance is estimated from k values (about the normal's 1.645 for hundreds of blocks,
    wider for a few)."""
    return float(stats.t.ppf(0.5 + LEVEL / 2, k - 1))


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks, centred on zero (their mean), as spearmanr ranks them."""
    r = stats.rankdata(x)
    return r - (x.size + 1) / 2.0


def _corr(m: np.ndarray) -> np.ndarray:
    """Pearson correlation from moment sums (n, sx, sy, sxx, syy, sxy) along the last axis."""
    n, sx, sy, sxx, syy, sxy = np.moveaxis(m, -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / n
        vx = sxx - sx * sx / n
        vy = syy - sy * sy / n
        return cov / np.sqrt(vx * vy)


def spearman_interval(
    shown: np.ndarray, quality: np.ndarray, clusters: np.ndarray, rng: np.random.Generator
) -> tuple[float | None, Interval]:
    """Spearman's rho of ``shown`` against ``quality`` (NaN shown omitted) and its 90% percentile
    block-bootstrap interval (clusters resampled with replacement, the full sample's ranks
    kept). ``rng`` draws the resampling weights; None figures where nothing can be ranked."""
    shown = np.asarray(shown, dtype=float)
    valid = ~np.isnan(shown)
    if np.count_nonzero(valid) < 2:
        return None, None
    x, y = shown[valid], np.asarray(quality, dtype=float)[valid]
    if np.all(x == x[0]) or np.all(y == y[0]):  # a constant: no order to measure
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        rho = float(stats.spearmanr(x, y).statistic)
    if not math.isfinite(rho):
        return None, None
    rx, ry = _ranks(x), _ranks(y)
    _, index = np.unique(clusters[valid], return_inverse=True)
    k = int(index.max()) + 1
    sums = np.stack(
        [
            np.bincount(index, minlength=k).astype(float),
            np.bincount(index, weights=rx, minlength=k),
            np.bincount(index, weights=ry, minlength=k),
            np.bincount(index, weights=rx * rx, minlength=k),
            np.bincount(index, weights=ry * ry, minlength=k),
            np.bincount(index, weights=rx * ry, minlength=k),
        ],
        axis=1,
    )
    if k < MIN_BOOTSTRAP_CLUSTERS:
        return rho, None
    weights = rng.multinomial(k, np.full(k, 1.0 / k), size=BOOTSTRAP).astype(float)
    replicates = _corr(weights @ sums)
    replicates = replicates[np.isfinite(replicates)]
    if replicates.size < BOOTSTRAP // 2:  # most resamples degenerate: no sound interval
        return rho, None
    tail = (1 - LEVEL) / 2 * 100
    lo, hi = np.percentile(replicates, [tail, 100 - tail])
    return rho, (float(lo), float(hi))


def rule_of(run: PolicyRun, arm: str) -> str:
    """An arm's rule (a keep arm on another aggregator, a statistical filter, is still keep:
    its `aggregator` tells it apart, as in the scenario)."""
    for a in run.scenario.arms:
        if a.name == arm:
            return a.rule
    if arm == run.oracle:
        return "oracle"
    if arm == run.without_unfair:
        return "without_unfair"
    return "keep" if arm == run.reference else arm


def _share(num: np.ndarray, den: np.ndarray, clusters: np.ndarray) -> tuple[float | None, Interval]:
    """A share of the ratings (num of den) with its interval clipped to [0, 1]; None when
    there are none."""
    if float(np.sum(den)) == 0:
        return None, None
    value, interval = ratio_interval(num, den, clusters)
    if interval is not None:
        interval = (max(0.0, interval[0]), min(1.0, interval[1]))
    return value, interval


def _mean_over(
    d: np.ndarray, mask: np.ndarray, clusters: np.ndarray
) -> tuple[float | None, Interval]:
    """The mean of d over the paths in ``mask`` (a ratio: sum(d mask) / sum(mask))."""
    if not mask.any():
        return None, None
    return ratio_interval(np.where(mask, d, 0.0), mask.astype(float), clusters)


def _seed_rng(run: PolicyRun) -> np.random.Generator:
    seq = np.random.SeedSequence(run.scenario.run.seed, spawn_key=BOOTSTRAP_SPAWN_KEY)
    return np.random.Generator(np.random.PCG64(seq))


def measures(run: PolicyRun) -> list[RuleMeasures]:
    """One `RuleMeasures` per arm of the run (in the run's order; not `without_unfair`)."""
    clusters = clusters_of(run)
    quality = np.asarray(run.quality, dtype=float)
    poor = np.asarray(run.poor, dtype=bool)
    counterfactual = run.outcomes[run.without_unfair].earnings
    oracle_earnings = run.outcomes[run.oracle].earnings
    victims = run.outcomes[run.reference].unfair_lows >= 1
    out = []
    for arm, o in run.outcomes.items():
        if arm == run.without_unfair:
            continue
        # every arm resamples the same clusters: the intervals of two rules are paired
        rng = _seed_rng(run)
        protection, protection90 = _share(o.unfair_stopped, o.unfair_lows, clusters)
        stopped = int(np.sum(o.unfair_stopped))
        protection_weeks = float(np.sum(o.unfair_stop_weeks)) / stopped if stopped else None
        signal_lost, signal_lost90 = _share(o.fair_stopped, o.fair_lows, clusters)
        stars, stars90 = spearman_interval(o.stars, quality, clusters, rng)
        rng = _seed_rng(run)
        jss, jss90 = spearman_interval(o.jss, quality, clusters, rng)
        harm, harm90 = _mean_over(counterfactual - o.earnings, victims, clusters)
        gain, gain90 = _mean_over(o.earnings - oracle_earnings, poor, clusters)
        jobs = np.asarray(o.jobs, dtype=float)
        hired, hired90 = (
            ratio_interval(jobs * quality, jobs, clusters) if jobs.sum() else (None, None)
        )
        out.append(
            RuleMeasures(
                rule=rule_of(run, arm),
                arm=arm,
                parameter=None,
                value=None,
                protection=protection,
                protection90=protection90,
                protection_weeks=protection_weeks,
                signal_lost=signal_lost,
                signal_lost90=signal_lost90,
                ranking_stars=stars,
                ranking_stars90=stars90,
                ranking_jss=jss,
                ranking_jss90=jss90,
                victims_harm=harm,
                victims_harm90=harm90,
                poor_gain=gain,
                poor_gain90=gain90,
                hired_quality=hired,
                hired_quality90=hired90,
                unfair_lows=int(np.sum(o.unfair_lows)),
                fair_lows=int(np.sum(o.fair_lows)),
            )
        )
    return out
