"""Star aggregators: weighted mean, median, Bayesian average, beta reputation, lower bounds."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import (
    _as_float,
    _broadcast_shape,
    _check_nonnegative,
    _check_range,
    _check_scalar,
    _fmt,
    _scalar_or_array,
)
from ._history import _broadcast_param, _history, _safe_divide

_LEVELS = np.arange(1.0, 6.0)  # star levels 1..5


# -- aggregators -------------------------------------------------------------------------------


def weighted_mean(stars: Any, weights: Any = None, mask: Any = None) -> float | np.ndarray:
    """Mean of the counted stars, weighted by `weights` (contract dollars on the platform).

    ``sum(w_i * x_i) / sum(w_i)`` over counted ratings [P: oDesk 2006 weights stars by contract
    value: $1,000 at 5 stars and $200 at 1 star give 4.33]. Default weights 1: the plain mean.

    Parameters
    ----------
    stars : array_like, shape (..., n)
        Stars 1..5, history on the last axis, oldest first; leading axes are a batch.
    weights : array_like, optional
        Non-negative weights, broadcastable with `stars`.
    mask : array_like of bool, optional
        True where the feedback counts. Entries that do not count are ignored (may be NaN).

    Returns
    -------
    float or ndarray
        NaN where nothing counts (or the counted weights sum to 0).
    """
    x, w, _, _ = _history(stars, weights, mask)
    return _scalar_or_array(_safe_divide((w * x).sum(axis=-1), w.sum(axis=-1)))


def _sorted_counted(x: np.ndarray, counted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counted stars sorted ascending (uncounted as +inf at the end) and their number."""
    return np.sort(np.where(counted, x, np.inf), axis=-1), counted.sum(axis=-1)


def median(stars: Any, mask: Any = None) -> float | np.ndarray:
    """Median of the counted stars (the mean of the two middle ones for an even count).

    An alternative aggregator [L: a robust location estimate]; unweighted. NaN where nothing
    counts. Arguments as in `weighted_mean`.
    """
    x, _, counted, _ = _history(stars, None, mask)
    srt, n = _sorted_counted(x, counted)
    if srt.shape[-1] == 0:
        return _scalar_or_array(np.full(srt.shape[:-1], np.nan))
    lo = np.clip((n - 1) // 2, 0, None)[..., None]
    hi = (n // 2).clip(0, srt.shape[-1] - 1)[..., None]
    mid = 0.5 * (np.take_along_axis(srt, lo, -1) + np.take_along_axis(srt, hi, -1))[..., 0]
    return _scalar_or_array(np.where(n > 0, mid, np.nan))


def bayesian_average(
    stars: Any, prior_mean: Any, prior_weight: Any, weights: Any = None, mask: Any = None
) -> float | np.ndarray:
    """Bayesian average ``(v * R + m * C) / (v + m)`` (IMDb's form) [L].

    ``v`` is the number of counted ratings, ``R = weighted_mean(stars, weights, mask)``,
    ``m = prior_weight`` (pseudo-ratings) and ``C = prior_mean`` [A: both are settings].

    Parameters
    ----------
    prior_mean : float or array_like
        Prior stars, 1..5; broadcastable to the result shape.
    prior_weight : float or array_like
        Non-negative weight of the prior, in ratings.

    Returns
    -------
    float or ndarray
        Between `prior_mean` and the sample mean; `prior_mean` where nothing counts.
    """
    x, w, counted, _ = _history(stars, weights, mask)
    shape = x.shape[:-1]
    c = _broadcast_param(prior_mean, "prior_mean", shape)
    _check_range(c, "prior_mean", 1.0, 5.0)
    m = _broadcast_param(prior_weight, "prior_weight", shape)
    _check_nonnegative(m, "prior_weight")
    v = counted.sum(axis=-1)
    r = _safe_divide((w * x).sum(axis=-1), w.sum(axis=-1))
    out = np.where(v > 0, _safe_divide(v * np.where(v > 0, r, 0.0) + m * c, v + m), c)
    return _scalar_or_array(out)


def _evidence(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stars to Beta evidence: v = (x - 3) / 2 in [-1, 1], r = (1 + v) / 2, s = (1 - v) / 2."""
    v = (x - 3.0) / 2.0
    return (1.0 + v) / 2.0, (1.0 - v) / 2.0


def _discount(counted: np.ndarray, forgetting: float, ages: np.ndarray | None) -> np.ndarray:
    """forgetting ** k: k = counted ratings after each one, or its age in weeks."""
    if forgetting == 1.0:
        return np.ones(counted.shape)
    if ages is None:
        after = np.cumsum(counted[..., ::-1], axis=-1)[..., ::-1] - counted
        return forgetting ** after.astype(float)
    return forgetting ** np.where(counted, ages, 0.0)


def _beta_evidence(
    stars: Any, weights: Any, forgetting: Any, mask: Any, ages: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, bool]:
    """Validated, discounted evidence totals (r, s) per history, plus the history's shape."""
    lam = _check_scalar(forgetting, "forgetting", 0.0, 1.0, lo_open=True)
    extra = {} if ages is None else {"ages": ages}
    x, w, counted, other = _history(stars, weights, mask, extra)
    a = other.get("ages")
    if a is not None:
        _check_nonnegative(a, "ages", counted)
    f = w * _discount(counted, lam, a)
    r, s = _evidence(x)
    return (f * r).sum(axis=-1), (f * s).sum(axis=-1), x, lam, a is not None


def beta_reputation(
    stars: Any,
    weights: Any = None,
    forgetting: float = 1.0,
    mask: Any = None,
    ages: Any = None,
) -> float | np.ndarray:
    """Beta reputation ``E = (r + 1) / (r + s + 2)`` (Jøsang & Ismail 2002) [L].

    Star x is evidence ``v = (x - 3) / 2`` in [-1, 1]; each counted rating adds
    ``w * lambda**k * (1 + v) / 2`` to r and ``w * lambda**k * (1 - v) / 2`` to s, where lambda is
    `forgetting` [L, the setting A]. Without `ages`, k is the number of counted ratings after it
    (the newest counted has weight 1: Jøsang's sequential discounting); with `ages` (weeks, >= 0,
    broadcastable with `stars`) k is the age, so a rating of age 0 has weight 1.

    Returns
    -------
    float or ndarray
        E in (0, 1); 0.5 (no evidence, the uniform prior) where nothing counts. With dollar
        weights r and s grow with the dollars: divide weights by a typical value first.

    Examples
    --------
    One 5-star rating: r = 1, s = 0, E = 2/3. Ratings 5 then 1 with forgetting 0.5:
    r = 0.5, s = 1, E = 1.5 / 3.5.
    """
    r, s, _, _, _ = _beta_evidence(stars, weights, forgetting, mask, ages)
    return _scalar_or_array((r + 1.0) / (r + s + 2.0))


def _wilson(p: np.ndarray, n: np.ndarray, z: float) -> np.ndarray:
    ok = n > 0
    nn = np.where(ok, n, 1.0)
    phat = np.where(ok, p / nn, 0.0)
    z2 = z * z
    centre = phat + z2 / (2 * nn)
    spread = z * np.sqrt(np.maximum(phat * (1 - phat) + z2 / (4 * nn), 0.0) / nn)
    lb = (centre - spread) / (1 + z2 / nn)
    return np.where(ok, np.clip(lb, 0.0, 1.0), 0.0)


def wilson_lower_bound(positive: Any, total: Any, z: float = 1.96) -> float | np.ndarray:
    """Lower bound of the Wilson score interval for the share of positive ratings [L].

    ``(p + z^2/2n - z * sqrt((p(1 - p) + z^2/4n) / n)) / (1 + z^2/n)`` with ``p = positive / n``
    (Evan Miller, "How Not To Sort By Average Rating", 2009; Wilson 1927). 0 when total == 0.

    Parameters
    ----------
    positive, total : array_like
        Counts (or non-negative weights) with ``positive <= total``; they broadcast together.
    z : float
        Normal quantile: 1.96 for a 95% two-sided interval.
    """
    p = _as_float(positive, "positive")
    n = _as_float(total, "total")
    _broadcast_shape("positive", p.shape, "total", n.shape)
    _check_nonnegative(p, "positive")
    _check_nonnegative(n, "total")
    p, n = np.broadcast_arrays(p, n)
    over = p > n * (1 + 1e-12)
    if over.any():
        raise ValueError(
            f"positive: must not exceed total (got {_fmt(p[over].flat[0])} > "
            f"{_fmt(n[over].flat[0])})"
        )
    z = _check_scalar(z, "z", 0.0, np.inf, hi_open=True)
    return _scalar_or_array(_wilson(np.minimum(p, n), n, z))


def star_counts(stars: Any, weights: Any = None, mask: Any = None) -> np.ndarray:
    """Counts of 1, 2, 3, 4 and 5 stars among counted ratings (weighted by `weights`).

    Miller's bound needs whole levels: a fractional rating counts at its nearest level, halves
    rounded up (3.4 -> 3, 4.5 -> 5) [A], as in the engine. Returns shape (..., 5).
    """
    x, w, _, _ = _history(stars, weights, mask)
    return _star_counts(x, w)


def _star_counts(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    level = np.clip(np.floor(np.asarray(x) + 0.5), 1.0, 5.0)
    return (w[..., None] * (level[..., None] == _LEVELS)).sum(axis=-2)


def _star_bound(n: np.ndarray, z: float) -> np.ndarray:
    k = n.shape[-1]
    total = n.sum(axis=-1) + k
    a = n + 1.0
    mean = (_LEVELS * a).sum(axis=-1) / total
    second = (_LEVELS**2 * a).sum(axis=-1) / total
    return mean - z * np.sqrt(np.maximum(second - mean**2, 0.0) / (total + 1.0))


def star_lower_bound(counts: Any, z: float = 1.65) -> float | np.ndarray:
    """Evan Miller's lower bound for star ratings ("Ranking Items With Star Ratings") [L].

    With K = 5 levels s_k = k, N = sum n_k and a Dirichlet(n_k + 1) posterior:
    ``S = sum s_k (n_k + 1) / (N + K)`` and
    ``S - z * sqrt((sum s_k^2 (n_k + 1) / (N + K) - S^2) / (N + K + 1))``.

    Parameters
    ----------
    counts : array_like, shape (..., 5)
        Counts of 1, 2, 3, 4 and 5 stars (non-negative; may be fractional, see `star_counts`).
    z : float
        1.65 in Miller's article (a one-sided 95% bound).
    """
    n = _as_float(counts, "counts")
    if n.ndim == 0 or n.shape[-1] != 5:
        got = "a single number" if n.ndim == 0 else f"{n.shape[-1]}"
        raise ValueError(f"counts: last axis must have length 5, counts of 1..5 stars (got {got})")
    _check_nonnegative(n, "counts")
    z = _check_scalar(z, "z", 0.0, np.inf, hi_open=True)
    return _scalar_or_array(_star_bound(n, z))
