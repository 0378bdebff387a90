"""Headline figures of per-path values: the mean with its intervals, and recovery weeks, each
with its range over the futures and over the plausible assumptions (design points)."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .draws import BLOCK
from .scenario import Scenario

__all__ = ["Z90", "path_points", "recovery_figures", "three_figures"]

Z90 = 1.6448536269514722  # two-sided 90% normal quantile


def path_points(sc: Scenario) -> np.ndarray | None:
    """Each path's design point (block b of paths takes point b mod points); None when
    uncertainty is off."""
    if not sc.uncertainty.on:
        return None
    return (np.arange(sc.run.paths) // BLOCK) % sc.uncertainty.points


def three_figures(d: np.ndarray, points: np.ndarray | None) -> dict[str, Any]:
    """The headline figures of per-path values ``d``: the mean with its 90% Monte Carlo
    interval ("ci90"); the 5-95% range across futures ("futures90"); and with ``points`` (each
    path's design point: uncertainty on) the 5-95% range across futures and assumptions
    ("assumptions90"; None with fixed assumptions). "p05" and "p95" are over every path.

    With fixed assumptions the futures range is the paths' own 5th and 95th percentiles. With
    uncertainty on it is the futures range within an assumption set: each design point's 5th
    and 95th percentiles, averaged with its paths as weights; and the interval of the mean is
    the cluster-robust one over design points (paths sharing a point are not independent).
    """
    mean = float(d.mean())
    p05, p95 = _quantile(d, 0.05), _quantile(d, 0.95)
    if points is None:
        half = Z90 * float(d.std(ddof=1)) / math.sqrt(d.size) if d.size > 1 else math.nan
        return {
            "mean": mean,
            "ci90": [mean - half, mean + half],
            "p05": p05,
            "p95": p95,
            "futures90": [p05, p95],
            "assumptions90": None,
        }
    held, groups = _groups(d, points)
    sizes = np.array([g.size for g in groups], dtype=float)
    lows, highs = _group_quantiles(groups, (0.05, 0.95))
    means = np.array([g.mean() for g in groups])
    share = sizes / sizes.sum()
    k = held.size
    if k > 1:  # cluster-robust variance of the mean, clusters = design points
        var = k / (k - 1) * float(np.sum((share * (means - mean)) ** 2))
        half = Z90 * math.sqrt(var)
    else:
        half = math.nan
    return {
        "mean": mean,
        "ci90": [mean - half, mean + half],
        "p05": p05,
        "p95": p95,
        "futures90": [float(share @ lows), float(share @ highs)],
        "assumptions90": [p05, p95],
    }


def recovery_figures(w: np.ndarray, points: np.ndarray | None) -> dict[str, Any]:
    """Weeks to recover per path (-1: not within the horizon) as headline figures: the median
    week (None: most futures are not back within the horizon) and the share not back; with
    ``points`` (uncertainty on) "assumptions90", the 5-95% range of both over the design points
    (each point's own median and share: how far the typical future's recovery moves with the
    assumptions; a None end is "not within the horizon"). None with fixed assumptions."""

    def figures(x: np.ndarray) -> tuple[float | None, float]:
        median = _quantile(x, 0.5)
        return (median if math.isfinite(median) else None), float(np.mean(np.isinf(x)))

    w = w.astype(float)
    w[w < 0] = np.inf
    median, never = figures(w)
    out: dict[str, Any] = {"median": median, "share_not_recovered": never, "assumptions90": None}
    if points is not None:
        _, groups = _groups(w, points)
        medians = _group_quantiles(groups, (0.5,))[0]  # inf: most not back
        shares = np.array([np.count_nonzero(np.isinf(g)) / g.size for g in groups])
        lo, hi = _quantile(medians, 0.05), _quantile(medians, 0.95)
        out["assumptions90"] = {
            "median": [lo if math.isfinite(lo) else None, hi if math.isfinite(hi) else None],
            "share_not_recovered": [_quantile(shares, 0.05), _quantile(shares, 0.95)],
        }
    return out


def _quantile(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q, method="inverted_cdf"))


def _groups(x: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The design points held and each one's values of ``x``, in their order in ``x`` (a
    group's mean sums in that order)."""
    order = np.argsort(points, kind="stable")
    held, starts = np.unique(points[order], return_index=True)
    return held, np.split(x[order], starts[1:])


def _group_quantiles(groups: list[np.ndarray], qs: tuple[float, ...]) -> list[np.ndarray]:
    """`_quantile` of each group at each q: the order statistic numpy's inverted CDF picks,
    found by asking it for the index in a group of that size (the same rule, exactly)."""
    ordered = [np.sort(g) for g in groups]
    out = []
    for q in qs:
        at = {n: _order_statistic(n, q) for n in {g.size for g in ordered}}
        out.append(np.array([float(g[at[g.size]]) for g in ordered]))
    return out


@functools.lru_cache(maxsize=256)
def _order_statistic(n: int, q: float) -> int:
    """The index in a sorted array of n values whose value `_quantile` at q returns."""
    return int(np.quantile(np.arange(n), q, method="inverted_cdf"))
