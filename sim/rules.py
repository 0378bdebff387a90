"""Exclusion rules: each maps a history to a boolean mask of the feedback that counts (True)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from ._checks import (
    _as_bool,
    _as_float,
    _broadcast_shape,
    _check_count,
    _check_no_nan,
    _check_nonnegative,
    _check_range,
    _check_scalar,
)
from .reputation import _evidence, _history


def _broadcast(named: dict[str, np.ndarray]) -> tuple[int, ...]:
    """The common shape of the named arrays, or ValueError naming the one that does not fit."""
    items = list(named.items())
    ref, shape = items[0][0], items[0][1].shape
    for name, a in items[1:]:
        shape = _broadcast_shape(name, a.shape, ref, shape)
    return shape


def keep(stars: Any) -> np.ndarray:
    """Everything counts: an all-True mask of the shape of `stars` (the `keep` arm)."""
    shape = np.shape(stars)
    if len(shape) == 0:
        raise ValueError("stars: must have at least one axis (the history, oldest first)")
    return np.ones(shape, bool)


def exclude_flagged(flagged: Any, weeks_since_report: Any, delay_weeks: float = 0) -> np.ndarray:
    """Drop flagged feedback once the platform upholds the report [P].

    A flagged rating stops counting when ``weeks_since_report >= delay_weeks`` (the support
    queue; default 0: at once) [A: the delay]. NaN or negative `weeks_since_report` means not
    reported yet: the rating counts.

    Parameters
    ----------
    flagged : array_like of bool, shape (..., n)
        True for the disputed feedback.
    weeks_since_report : array_like
        Weeks since each rating was reported; broadcastable with `flagged`.
    delay_weeks : float
        Non-negative.
    """
    f = _as_bool(flagged, "flagged")
    w = _as_float(weeks_since_report, "weeks_since_report")
    d = _check_scalar(delay_weeks, "delay_weeks", 0.0, np.inf, hi_open=True)
    shape = _broadcast({"flagged": f, "weeks_since_report": w})
    with np.errstate(invalid="ignore"):
        removed = f & (w >= d)
    return np.broadcast_to(~removed, shape).copy()


def flagged_client(
    client_mean: Any,
    client_count: Any,
    threshold: float = 3.0,
    min_ratings: int = 3,
) -> np.ndarray:
    """Keep feedback except from clients flagged for a history of poor feedback [P].

    A client is flagged when it had at least `min_ratings` earlier rated contracts whose mean is
    below `threshold`. The platform flags "a client that repeatedly receives poor feedback from
    freelancers" [P]; the forum thread behind this project describes clients who "consistently
    give poor reviews": pass the mean the client received or the mean it gave. Uber drops low
    ratings from frequent low raters [P]; the defaults (3.0, 3) are [A]. Which signals the removal
    applies to (the platform: the JSS only, and only feedback that counts against the
    freelancer) is the engine's business, not this mask's.

    Parameters
    ----------
    client_mean : array_like, shape (..., n)
        Mean stars of the rating client's earlier contracts (1..5; NaN when unknown).
    client_count : array_like
        How many earlier rated contracts that mean is over (non-negative).

    Returns
    -------
    ndarray of bool
        True where the feedback counts (its client is not flagged).
    """
    mean = _as_float(client_mean, "client_mean")
    count = _as_float(client_count, "client_count")
    shape = _broadcast({"client_mean": mean, "client_count": count})
    _check_range(mean, "client_mean", 1.0, 5.0, ~np.isnan(mean))
    _check_nonnegative(count, "client_count")
    thr = _check_scalar(threshold, "threshold", 1.0, 5.0)
    k = _check_count(min_ratings, "min_ratings", 0)
    with np.errstate(invalid="ignore"):
        flagged = (count >= k) & (mean < thr)
    return np.broadcast_to(~flagged, shape).copy()


harsh_rater = flagged_client  # the rule's earlier name


def suspended_client(
    suspended: Any, weeks_since_suspension_known: Any, delay_weeks: float = 0
) -> np.ndarray:
    """Drop feedback from clients later suspended, once `delay_weeks` have passed [P].

    Upwork's JSS and eBay discount feedback from suspended accounts [P]; the delay is [A].
    NaN or negative `weeks_since_suspension_known` means not known yet: the rating counts.
    """
    s = _as_bool(suspended, "suspended")
    w = _as_float(weeks_since_suspension_known, "weeks_since_suspension_known")
    d = _check_scalar(delay_weeks, "delay_weeks", 0.0, np.inf, hi_open=True)
    shape = _broadcast({"suspended": s, "weeks_since_suspension_known": w})
    with np.errstate(invalid="ignore"):
        removed = s & (w >= d)
    return np.broadcast_to(~removed, shape).copy()


# -- Whitby, Jøsang & Indulska 2004: iterated filtering of unfair ratings -------------------------


def _whitby_evidence(x: np.ndarray, binary_threshold: float | None) -> tuple[np.ndarray, ...]:
    """Per-rating evidence (r, s): fractional (v = (x - 3)/2) or binary at `binary_threshold`."""
    if binary_threshold is None:
        return _evidence(x)
    r = (x >= binary_threshold).astype(float)
    return r, 1.0 - r


def _whitby_bounds(r: np.ndarray, s: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """The q- and (1-q)-quantiles of Beta(r + 1, s + 1), computed once per distinct (r, s)."""
    pairs, inverse = np.unique(
        np.stack([r.ravel(), s.ravel()], axis=-1), axis=0, return_inverse=True
    )
    lo = stats.beta.ppf(q, pairs[:, 0] + 1.0, pairs[:, 1] + 1.0)
    hi = stats.beta.ppf(1.0 - q, pairs[:, 0] + 1.0, pairs[:, 1] + 1.0)
    inverse = inverse.reshape(r.shape)
    return lo[inverse], hi[inverse]


def _whitby_loop(
    r: np.ndarray, s: np.ndarray, count: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Iterate: E over kept; drop kept entries whose quantile interval excludes E; until stable."""
    kept = count > 0
    for _ in range(kept.shape[-1] + 1):
        rr = (count * r * kept).sum(axis=-1, keepdims=True)
        ss = (count * s * kept).sum(axis=-1, keepdims=True)
        e = (rr + 1.0) / (rr + ss + 2.0)
        out = kept & ((lo > e) | (hi < e))
        if not out.any():
            break
        kept = kept & ~out
    return kept


def _check_q(q: Any) -> float:
    return _check_scalar(q, "q", 0.0, 0.5, hi_open=True)


def _check_binary_threshold(b: Any) -> float | None:
    return None if b is None else _check_scalar(b, "binary_threshold", 1.0, 5.0)


def whitby_filter(
    stars: Any, q: float = 0.01, binary_threshold: float | None = None, mask: Any = None
) -> np.ndarray:
    """Iterated Beta filtering of unfair ratings (Whitby, Jøsang & Indulska 2004) [L].

    Each rating is one rater's opinion with evidence ``r_i = (1 + v_i) / 2``, ``s_i = 1 - r_i``,
    ``v = (x - 3) / 2`` (or, with `binary_threshold` b, ``r_i = 1`` if ``x >= b`` else 0). Loop:
    the aggregate ``E = (R + 1) / (R + S + 2)`` over the kept ratings; drop every kept rating
    whose Beta(r_i + 1, s_i + 1) has its q-quantile above E or its (1 - q)-quantile below E;
    stop when nothing more is dropped. Idempotent: filtering the kept set keeps it all.

    Parameters
    ----------
    stars : array_like, shape (..., n)
        Stars 1..5, history on the last axis; leading axes are a batch.
    q : float
        Quantile in [0, 0.5); 0.01 in the paper.
    binary_threshold : float, optional
        Stars at or above count as one positive observation, below as one negative.
    mask : array_like of bool, optional
        Ratings already False never count (and are returned False).

    Returns
    -------
    ndarray of bool
        True for ratings kept (counted).
    """
    q = _check_q(q)
    b = _check_binary_threshold(binary_threshold)
    x, _, counted, _ = _history(stars, None, mask)
    r, s = _whitby_evidence(x, b)
    lo, hi = _whitby_bounds(r, s, q)
    return _whitby_loop(r, s, counted.astype(float), lo, hi)


def whitby_filter_counts(
    values: Any, counts: Any, q: float = 0.01, binary_threshold: float | None = None
) -> np.ndarray:
    """`whitby_filter` over star levels with counts: the same result as on the expanded history.

    Parameters
    ----------
    values : array_like, shape (..., L)
        Star levels (1..5), e.g. the distinct stars seen so far.
    counts : array_like, shape (..., L)
        How many counted ratings sit at each level (non-negative; broadcast with `values`).

    Returns
    -------
    ndarray of bool, shape (..., L)
        True for levels whose ratings are kept; False for dropped levels and levels with no
        ratings. The Beta quantiles are computed once per level; the loop only compares.
    """
    q = _check_q(q)
    b = _check_binary_threshold(binary_threshold)
    v = _as_float(values, "values")
    c = _as_float(counts, "counts")
    if v.ndim == 0:
        raise ValueError("values: must have at least one axis (the star levels)")
    shape = _broadcast_shape("counts", c.shape, "values", v.shape)
    _check_range(v, "values", 1.0, 5.0)
    _check_nonnegative(c, "counts")
    r, s = _whitby_evidence(v, b)
    lo, hi = _whitby_bounds(r, s, q)  # once per level, before broadcasting over the batch
    return _whitby_loop(r, s, np.broadcast_to(c, shape), lo, hi)


def window(
    ended_weeks_ago: Any,
    last_n: int | None = None,
    last_weeks: float | None = None,
    mask: Any = None,
) -> np.ndarray:
    """Count only recent feedback: the last N counted contracts, or those under M weeks old.

    Uber counts a driver's last 500 rated trips, Lyft the last 100, Fiverr two years [P].
    Exactly one of `last_n` (by order on the last axis: the last N entries where `mask` is True)
    and `last_weeks` (``ended_weeks_ago < last_weeks``) must be given.

    Parameters
    ----------
    ended_weeks_ago : array_like, shape (..., n)
        Weeks since each contract ended, oldest first.
    mask : array_like of bool, optional
        The rated, counted contracts (default all); the result is within it.

    Returns
    -------
    ndarray of bool
    """
    if (last_n is None) == (last_weeks is None):
        raise ValueError("last_n: give exactly one of last_n and last_weeks")
    e = _as_float(ended_weeks_ago, "ended_weeks_ago")
    if e.ndim == 0:
        raise ValueError("ended_weeks_ago: must have at least one axis (the history)")
    named = {"ended_weeks_ago": e}
    if mask is not None:
        named["mask"] = _as_bool(mask, "mask")
    shape = _broadcast(named)
    m = np.broadcast_to(named.get("mask", True), shape)
    e = np.broadcast_to(e, shape)
    if last_n is not None:
        n = _check_count(last_n, "last_n", 0)
        from_end = np.cumsum(m[..., ::-1], axis=-1)[..., ::-1]  # counted at or after each
        return m & (from_end <= n)
    weeks = _check_scalar(last_weeks, "last_weeks", 0.0, np.inf, lo_open=True)
    _check_no_nan(e, "ended_weeks_ago", m)
    return m & (e < weeks)


RULES: dict[str, Callable[..., np.ndarray]] = {
    "keep": keep,
    "exclude_flagged": exclude_flagged,
    "flagged_client": flagged_client,
    "suspended_client": suspended_client,
    "whitby": whitby_filter,
    "window": window,
}
"""Rule name (as in scenario files) -> function returning the mask of counted feedback."""
