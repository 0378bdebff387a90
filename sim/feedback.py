"""Feedback on one contract: the six criteria, the contract's stars, and star draws for new work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._checks import (
    _as_float,
    _broadcast_shape,
    _check_no_nan,
    _check_nonnegative,
    _check_range,
    _check_scalar,
    _fmt,
    _scalar_or_array,
)

CRITERIA = ("skills", "quality", "availability", "schedule", "communication", "cooperation")
"""The six criteria a client rates from 1 to 5 [P], in the order array inputs use."""

DEFAULT_CRITERIA_WEIGHTS = dict.fromkeys(CRITERIA, 1.0)
"""Equal weights [A]: the platform says its weights are unequal and does not publish them [P].
Do not mutate; copy it (``dict(DEFAULT_CRITERIA_WEIGHTS)``) to change a weight."""

STAR_LEVELS = (1, 2, 3, 4, 5)
"""The star levels of a contract's feedback, in the order of the quality vector P(1..5 stars)."""

_SUM_TOL = 1e-9


# -- the contract's score from its criteria -----------------------------------------------------


def _criteria_array(criteria: Mapping[str, Any] | Any, name: str) -> np.ndarray:
    """Criteria as a float array whose last axis follows CRITERIA."""
    if isinstance(criteria, Mapping):
        unknown = [k for k in criteria if k not in CRITERIA]
        if unknown:
            raise ValueError(f"{name}: unknown criteria {unknown}; expected {', '.join(CRITERIA)}")
        missing = [k for k in CRITERIA if k not in criteria]
        if missing:
            raise ValueError(f"{name}: missing criteria {missing}")
        cols = [_as_float(criteria[k], f"{name}[{k!r}]") for k in CRITERIA]
        try:
            cols = np.broadcast_arrays(*cols)
        except ValueError:
            raise ValueError(f"{name}: the criteria's shapes do not broadcast together") from None
        return np.stack(cols, axis=-1)
    arr = _as_float(criteria, name)
    if arr.ndim == 0 or arr.shape[-1] != len(CRITERIA):
        got = "a single number" if arr.ndim == 0 else f"{arr.shape[-1]}"
        raise ValueError(
            f"{name}: last axis must have length {len(CRITERIA)} "
            f"(one per criterion, in CRITERIA order), got {got}"
        )
    return arr


def contract_score(
    criteria: Mapping[str, Any] | Any, weights: Mapping[str, float] | Any = None
) -> float | np.ndarray:
    """The contract's stars: the weighted mean of its six criteria.

    Parameters
    ----------
    criteria : mapping or array_like
        Either a mapping ``{name: score}`` over exactly the names in `CRITERIA` (values may be
        arrays that broadcast together), or an array whose last axis holds the six scores in
        `CRITERIA` order. Each score is between 1 and 5 [P].
    weights : mapping or array_like, optional
        Non-negative weight of each criterion, with a positive sum; a mapping over the six names
        or an array whose last axis follows `CRITERIA`. Default: equal weights [A].

    Returns
    -------
    float or ndarray
        ``sum(w_c * score_c) / sum(w_c)`` [P: a weighted mean; A: the weights]. A float for a
        single contract.

    Examples
    --------
    The reference case: 4, 4, 1, 4, 4, 3.4 under equal weights give 20.4 / 6 = 3.4.
    """
    x = _criteria_array(criteria, "criteria")
    _check_range(x, "criteria", 1.0, 5.0)
    if weights is None:
        w = np.ones(len(CRITERIA))
    else:
        w = _criteria_array(weights, "weights")
        _check_nonnegative(w, "weights")
    total = w.sum(axis=-1)
    if np.any(total <= 0):
        raise ValueError("weights: must have a positive sum")
    _broadcast_shape("weights", w.shape, "criteria", x.shape)
    return _scalar_or_array((x * w).sum(axis=-1) / total)


def check_stars_agree(
    stars: float | Any | None,
    criteria: Mapping[str, Any] | Any | None,
    weights: Mapping[str, float] | Any = None,
    tol: float = 0.05,
) -> None:
    """Raise ValueError when a contract's `stars` and its `criteria` score disagree.

    MODEL.md: a contract may give its stars, its criteria or both; both must agree within `tol`
    (0.05 by default) under the criteria weights. Nothing is checked when either is None.

    Raises
    ------
    ValueError
        e.g. "stars 3.4 and criteria score 3.52 differ by more than 0.05".
    """
    tol = _check_scalar(tol, "tol", 0.0)
    if stars is None or criteria is None:
        return
    s = _as_float(stars, "stars")
    _check_range(s, "stars", 1.0, 5.0)
    score = np.asarray(contract_score(criteria, weights))
    shape = _broadcast_shape("stars", s.shape, "criteria score", score.shape)
    s, score = np.broadcast_to(s, shape), np.broadcast_to(score, shape)
    bad = np.abs(s - score) > tol + 1e-12
    if bad.any():
        i = np.flatnonzero(bad)[0]
        got, want = s.flat[i], score.flat[i]
        raise ValueError(
            f"stars {_fmt(got)} and criteria score {_fmt(round(float(want), 2))} "
            f"differ by more than {_fmt(tol)}"
        )


# -- stars on future contracts -------------------------------------------------------------------


def _check_quality(quality: Any) -> np.ndarray:
    q = _as_float(quality, "quality")
    if q.ndim == 0 or q.shape[-1] != len(STAR_LEVELS):
        got = "a single number" if q.ndim == 0 else f"{q.shape[-1]}"
        raise ValueError(f"quality: must have 5 entries, P(1..5 stars) (got {got})")
    _check_nonnegative(q, "quality")
    total = q.sum(axis=-1)
    off = np.abs(total - 1.0) > _SUM_TOL
    if off.any():
        raise ValueError(f"quality: must sum to 1 (got {_fmt(total[off].flat[0])})")
    return q


def _upper_cdf(q: np.ndarray) -> np.ndarray:
    """Cumulative P(<= 1..4 stars), set to exactly 1 once no probability is left above."""
    cdf = np.cumsum(q, axis=-1) / q.sum(axis=-1, keepdims=True)
    left_above = np.cumsum(q[..., ::-1], axis=-1)[..., ::-1]  # P(>= k) for k = 1..5
    done = np.zeros_like(cdf, dtype=bool)
    done[..., :-1] = left_above[..., 1:] == 0  # nothing above level k
    cdf = np.where(done, 1.0, cdf)
    return cdf[..., :-1]


def stars_from_uniform(quality: Any, u: Any) -> np.ndarray:
    """Integer stars 1..5 from uniforms in [0, 1) by the inverse CDF of `quality`.

    Parameters
    ----------
    quality : array_like, shape (..., 5)
        P(1..5 stars): five non-negative numbers summing to 1 (within 1e-9) [L, D: the default
        (0.003, 0.003, 0.009, 0.085, 0.90), mixed with harsh clients, gives the field's mean
        4.84 and 88% five-star (Filippas, Horton & Golden 2022)]. Leading axes broadcast
        with `u`.
    u : array_like
        Uniforms in [0, 1), e.g. drawn up front by the engine (common random numbers).

    Returns
    -------
    ndarray of int8
        Star k where ``P(<= k-1) <= u < P(<= k)``; a level of probability 0 is never returned.
        The same `u` gives more stars under a better `quality` (first-order dominance), which
        keeps arms coupled.
    """
    q = _check_quality(quality)
    uu = _as_float(u, "u")
    _check_no_nan(uu, "u")
    bad = (uu < 0.0) | (uu >= 1.0)
    if bad.any():
        raise ValueError(f"u: values must be in [0, 1) (got {_fmt(uu[bad].flat[0])})")
    _broadcast_shape("u", uu.shape, "quality (without its last axis)", q.shape[:-1])
    cdf = _upper_cdf(q)
    stars = 1 + (uu[..., None] >= cdf).sum(axis=-1)
    return stars.astype(np.int8)


def draw_stars(quality: Any, size: int | tuple[int, ...] | None, rng: Any = None) -> np.ndarray:
    """Draw integer stars 1..5 for future contracts from the quality vector.

    Parameters
    ----------
    quality : array_like, shape (5,)
        P(1..5 stars), see `stars_from_uniform`.
    size : int or tuple of int or None
        Output shape (None: one draw, a 0-d array).
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Anything `numpy.random.default_rng` accepts (Scientific Python SPEC 7).

    Returns
    -------
    ndarray of int8
        ``stars_from_uniform(quality, rng.random(size))``.
    """
    _check_quality(quality)
    try:
        gen = np.random.default_rng(rng)
    except (TypeError, ValueError) as err:
        raise ValueError(f"rng: must be None, a seed or a numpy Generator ({err})") from None
    try:
        u = gen.random(size)
    except (TypeError, ValueError) as err:
        raise ValueError(f"size: must be a non-negative int or tuple of ints ({err})") from None
    return stars_from_uniform(quality, u)
