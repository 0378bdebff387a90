"""The per-design-point figures of the summary, found with one sort, against numpy per group."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.headlines import (
    Z90,
    _group_quantiles,
    _groups,
    _quantile,
    recovery_figures,
    three_figures,
)

VALUES = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from([-3.0, 0.0, 0.5, 1.0, 2.5, 7.0, 1e6])),
    min_size=1,
    max_size=60,
)


def _split(pairs):
    points = np.array([p for p, _ in pairs])
    x = np.array([v for _, v in pairs])
    return x, points


@settings(max_examples=200, deadline=None)
@given(VALUES, st.sampled_from([0.05, 0.5, 0.95, 0.25]))
def test_group_quantiles_are_numpys_per_group(pairs, q) -> None:
    x, points = _split(pairs)
    held, groups = _groups(x, points)
    assert held.tolist() == sorted(set(points.tolist()))
    for k, g in zip(held, groups, strict=True):
        assert g.tolist() == x[points == k].tolist()  # in their order: a mean sums in it
    (found,) = _group_quantiles(groups, (q,))
    expected = [_quantile(x[points == k], q) for k in held]
    assert found.tolist() == expected


def _three_figures_per_group(d, points):
    """three_figures' per-point part, written group by group as it was."""
    held = np.unique(points)
    groups = [d[points == k] for k in held]
    return (
        [_quantile(g, 0.05) for g in groups],
        [_quantile(g, 0.95) for g in groups],
        [g.mean() for g in groups],
    )


@settings(max_examples=100, deadline=None)
@given(VALUES)
def test_three_figures_and_recovery_as_per_group(pairs) -> None:
    d, points = _split(pairs)
    lows, highs, means = _three_figures_per_group(d, points)
    share = np.array([np.count_nonzero(points == k) for k in np.unique(points)], float)
    share /= share.sum()
    f = three_figures(d, points)
    assert f["futures90"] == [float(share @ np.array(lows)), float(share @ np.array(highs))]
    assert f["mean"] == float(d.mean())
    k = share.size
    if k > 1:  # the cluster-robust interval, from the groups' means in their own order
        var = k / (k - 1) * float(np.sum((share * (np.array(means) - f["mean"])) ** 2))
        half = Z90 * math.sqrt(var)
        assert f["ci90"] == [f["mean"] - half, f["mean"] + half]
    w = np.where(d < 0, -1, np.floor(np.abs(d)))  # weeks, -1: never
    r = recovery_figures(w, points)["assumptions90"]
    wf = np.where(w < 0, np.inf, w)
    medians = [_quantile(wf[points == k], 0.5) for k in np.unique(points)]
    shares = [float(np.mean(np.isinf(wf[points == k]))) for k in np.unique(points)]
    lo, hi = _quantile(np.array(medians), 0.05), _quantile(np.array(medians), 0.95)
    assert r["median"] == [lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None]
    assert r["share_not_recovered"] == [_quantile(np.array(shares), q) for q in (0.05, 0.95)]
