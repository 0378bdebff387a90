"""Reputation signals from counted feedback: aggregators, JSS, badges and ratings needed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ._checks import (
    _as_bool,
    _as_float,
    _broadcast_shape,
    _check_count,
    _check_no_nan,
    _check_nonnegative,
    _check_range,
    _check_scalar,
    _fmt,
    _scalar_or_array,
)

NO_BADGE = 0
RISING_TALENT = 1
TOP_RATED = 2

JSS_BAND_90 = 0
JSS_BAND_80 = 1
JSS_BAND_75 = 2
JSS_BAND_BELOW_75 = 3
JSS_BAND_NONE = 4

AGGREGATORS = ("mean", "median", "bayesian", "beta", "wilson", "star_lower_bound", "jss")
"""Signals `ratings_needed` can solve for."""

REACHED_TOL = 1e-9
"""A signal reaches a target when ``signal >= target - REACHED_TOL`` (38.4 / 8 is not 4.8)."""

MAX_RATINGS_NEEDED = 10**6
"""Beyond this many additional ratings a target counts as unreachable."""

_LEVELS = np.arange(1.0, 6.0)  # star levels 1..5


# -- histories: validation at the boundary, plain arrays inside --------------------------------


def _history(
    stars: Any,
    weights: Any = None,
    mask: Any = None,
    extra: dict[str, Any] | None = None,
    *,
    allow_nan: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Validated ``(stars, weights, counted, extra)`` broadcast to one shape.

    Entries that do not count (mask False, or NaN stars when `allow_nan`) are ignored: they may
    hold anything, NaN included (padding of ragged histories). They come back as stars 3, weight 0.
    `extra` holds further per-contract float arrays (name -> array) to broadcast alongside.
    """
    x = _as_float(stars, "stars")
    if x.ndim == 0:
        raise ValueError("stars: must have at least one axis (the history, oldest first)")
    shape = x.shape
    m = None
    if mask is not None:
        m = _as_bool(mask, "mask")
        shape = _broadcast_shape("mask", m.shape, "stars", shape)
    w = None
    if weights is not None:
        w = _as_float(weights, "weights")
        shape = _broadcast_shape("weights", w.shape, "stars", shape)
    others = {}
    for name, value in (extra or {}).items():
        a = _as_float(value, name)
        shape = _broadcast_shape(name, a.shape, "stars", shape)
        others[name] = a
    x = np.broadcast_to(x, shape)
    counted = np.ones(shape, bool) if m is None else np.broadcast_to(m, shape).copy()
    if allow_nan:
        counted &= ~np.isnan(x)
    else:
        _check_no_nan(x, "stars", counted)
    _check_range(x, "stars", 1.0, 5.0, counted)
    if w is None:
        w = np.ones(shape)
    else:
        w = np.broadcast_to(w, shape)
        _check_nonnegative(w, "weights", counted)
    others = {k: np.broadcast_to(a, shape) for k, a in others.items()}
    x = np.where(counted, x, 3.0)
    w = np.where(counted, w, 0.0)
    return x, w, counted, others


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den == 0."""
    den = np.asarray(den, float)
    ok = den != 0
    return np.where(ok, np.asarray(num, float) / np.where(ok, den, 1.0), np.nan)


def _broadcast_param(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    a = _as_float(value, name)
    out = _broadcast_shape(name, a.shape, "result", shape)
    if out != shape:
        raise ValueError(f"{name}: shape {a.shape} does not broadcast with result shape {shape}")
    return np.broadcast_to(a, shape)


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


# -- Job Success Score ---------------------------------------------------------------------------


class _JSSSettings(NamedTuple):
    success_at: float
    fail_below: float
    windows: tuple[float, ...]
    trending: tuple[float, ...]
    min_contracts: int
    min_clients: int


def _jss_settings(
    success_at: Any,
    fail_below: Any,
    windows: Any,
    trending: Any,
    min_contracts: Any,
    min_clients: Any,
) -> _JSSSettings:
    sa = _check_scalar(success_at, "success_at", 1.0, 5.0)
    fb = _check_scalar(fail_below, "fail_below", 1.0, 5.0)
    if fb > sa:
        raise ValueError(f"fail_below: must not exceed success_at ({_fmt(fb)} > {_fmt(sa)})")
    lengths = []
    for name, ws in (("windows", windows), ("trending", trending)):
        if isinstance(ws, str) or not isinstance(ws, Sequence | np.ndarray):
            raise ValueError(f"{name}: must be a sequence of window lengths in weeks (got {ws!r})")
        lengths.append(tuple(_check_scalar(v, name, 0.0, np.inf, lo_open=True) for v in ws))
    if not lengths[0] and not lengths[1]:
        raise ValueError("windows: give at least one window (or trending windows)")
    return _JSSSettings(
        sa,
        fb,
        lengths[0],
        lengths[1],
        _check_count(min_contracts, "min_contracts", 1),
        _check_count(min_clients, "min_clients", 1),
    )


def jss_weight(values: Any) -> np.ndarray:
    """Weight of a contract in the Job Success Score by its value in dollars [P].

    $250 or less -> 1; over $250 up to $1,000 -> 1.25; over $1,000 -> 1.5.
    """
    v = _as_float(values, "values")
    _check_nonnegative(v, "values")
    return _jss_weight(v)


def _jss_weight(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 250.0, 1.0, np.where(v <= 1000.0, 1.25, 1.5))


def _client_codes(clients: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Client ids as integer codes >= 0, broadcast to `shape`."""
    arr = np.asarray(clients)
    if arr.ndim == 0:
        raise ValueError("clients: must have at least one axis (one id per contract)")
    _broadcast_shape("clients", arr.shape, "stars", shape)
    if np.broadcast_shapes(arr.shape, shape) != shape:
        raise ValueError(f"clients: shape {arr.shape} does not broadcast with stars shape {shape}")
    try:
        _, inverse = np.unique(arr.ravel(), return_inverse=True)
    except TypeError:
        raise ValueError("clients: ids must be comparable (all numbers or all strings)") from None
    return np.broadcast_to(inverse.reshape(arr.shape), shape)


def _distinct(codes: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Number of distinct codes where `inside` is True, per history."""
    c = np.sort(np.where(inside, codes, -1), axis=-1)
    new = c >= 0
    new[..., 1:] &= c[..., 1:] != c[..., :-1]
    return new.sum(axis=-1)


class _WindowStats(NamedTuple):
    total: np.ndarray  # weight of counted contracts in the window
    net: np.ndarray  # success weight minus failure weight
    contracts: np.ndarray
    clients: np.ndarray


def _jss_window_stats(
    x: np.ndarray,
    values: np.ndarray,
    ended: np.ndarray,
    codes: np.ndarray | None,
    counted: np.ndarray,
    cfg: _JSSSettings,
) -> dict[float, _WindowStats]:
    weight = _jss_weight(np.where(counted, values, 0.0))
    outcome = (x >= cfg.success_at).astype(float) - (x < cfg.fail_below)
    stats = {}
    for length in sorted(set(cfg.windows) | set(cfg.trending)):
        inside = counted & (ended >= 0) & (ended < length)
        n = inside.sum(axis=-1)
        stats[length] = _WindowStats(
            (weight * inside).sum(axis=-1),
            (weight * outcome * inside).sum(axis=-1),
            n,
            n if codes is None else _distinct(codes, inside),
        )
    return stats


def _jss_shown(
    stats: dict[float, _WindowStats],
    cfg: _JSSSettings,
    extra: np.ndarray | float = 0.0,
    extra_weight: float = 0.0,
    extra_outcome: float = 0.0,
) -> np.ndarray:
    """The shown score (NaN where no window qualifies), with `extra` new contracts at age 0."""

    def window(length: float) -> tuple[np.ndarray, np.ndarray]:
        st = stats[length]
        total = st.total + extra * extra_weight
        net = st.net + extra * extra_weight * extra_outcome
        # (100 * net) / total: weights are multiples of 0.25, so 100 * net and total are exact and
        # one correctly rounded division keeps a true half (57.5) exact for rounding half up
        score = np.clip(_safe_divide(100.0 * net, total), 0.0, 100.0)
        ok = (
            (st.contracts + extra >= cfg.min_contracts)
            & (st.clients + extra >= cfg.min_clients)
            & (total > 0)
        )
        return score, ok

    best = None
    for length in cfg.windows:
        score, ok = window(length)
        cand = np.where(ok, score, -np.inf)
        best = cand if best is None else np.maximum(best, cand)
    if cfg.trending:
        parts = [window(length) for length in cfg.trending]
        score = np.mean([p[0] for p in parts], axis=0)
        ok = np.logical_and.reduce([p[1] for p in parts])
        cand = np.where(ok, score, -np.inf)
        best = cand if best is None else np.maximum(best, cand)
    return np.where(np.isfinite(best), np.floor(best + 0.5), np.nan)


def _jss_inputs(
    stars: Any, values: Any, ended_weeks_ago: Any, clients: Any, mask: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    extra = {"values": values, "ended_weeks_ago": ended_weeks_ago}
    x, _, counted, other = _history(stars, None, mask, extra, allow_nan=True)
    v, e = other["values"], other["ended_weeks_ago"]
    _check_nonnegative(v, "values", counted)
    _check_no_nan(e, "ended_weeks_ago", counted)
    if np.any(np.isinf(e) & counted):
        raise ValueError("ended_weeks_ago: must be finite")
    codes = None if clients is None else _client_codes(clients, x.shape)
    return x, v, e, codes, counted


def job_success_score(
    stars: Any,
    values: Any,
    ended_weeks_ago: Any,
    clients: Any = None,
    mask: Any = None,
    *,
    success_at: float = 4.5,
    fail_below: float = 4.0,
    windows: Sequence[float] = (104, 52, 26),
    trending: Sequence[float] = (26, 13),
    min_contracts: int = 2,
    min_clients: int = 2,
) -> float | np.ndarray | None:
    """Job Success Score in percent: the platform's published shape [P] with assumed thresholds [A].

    - Outcome per contract with feedback: success if stars >= `success_at`, failure if stars <
      `fail_below`, neutral otherwise [A]. NaN stars are contracts without feedback: they do not
      count at all [P, since Nov 2020] (the one signal where NaN stars are allowed); mask False
      does not count either.
    - Weight by contract value (`jss_weight`) [P].
    - A window of w weeks holds the contracts with ``0 <= ended_weeks_ago < w``; its score is
      ``100 * (success weight - failure weight) / weight of all counted contracts``, clipped to
      [0, 100] [P shape, A exact form]. It qualifies with at least `min_contracts` counted
      contracts from at least `min_clients` distinct clients [P].
    - Trending is the mean of the `trending` windows' scores, qualifying when all of them do [P].
    - Shown: the highest qualifying score, rounded half up to a whole percent [P, A].

    Parameters
    ----------
    stars, values, ended_weeks_ago : array_like, shape (..., n)
        Stars (NaN: no feedback), contract values in dollars, weeks since each contract ended.
    clients : array_like, optional
        Client id per contract (ints or strings); None: every contract a distinct client.
    mask : array_like of bool, optional
        True where the feedback counts.

    Returns
    -------
    float, None or ndarray
        For one history a float, or None when no window qualifies; for a batch a float array
        with NaN there.

    Examples
    --------
    The reference case: stars (5, 3.4), values (1600, 1600), ended (6, 1) weeks ago give 0
    (one success, one failure); with the 3.4 excluded nothing qualifies: None.
    """
    cfg = _jss_settings(success_at, fail_below, windows, trending, min_contracts, min_clients)
    x, v, e, codes, counted = _jss_inputs(stars, values, ended_weeks_ago, clients, mask)
    shown = _jss_shown(_jss_window_stats(x, v, e, codes, counted, cfg), cfg)
    if shown.ndim == 0:
        return None if np.isnan(shown) else float(shown)
    return shown


# -- badges ------------------------------------------------------------------------------------


def badge(
    jss_weeks_at_90: Any, earned_52w: Any, first_contract_weeks_ago: Any, has_jss: Any
) -> np.ndarray:
    """Badge shown next to the freelancer [P, simplified].

    Rising Talent (`RISING_TALENT`) while no JSS exists; Top Rated (`TOP_RATED`) when a JSS
    exists, was >= 90 in at least 13 of the last 16 weeks (`jss_weeks_at_90`), at least $1,000
    was earned in the last 52 weeks and the first contract is over 13 weeks old; otherwise
    `NO_BADGE`. Inputs broadcast together; returns an int8 array (0-d for scalars).
    """
    weeks = _as_float(jss_weeks_at_90, "jss_weeks_at_90")
    _check_range(weeks, "jss_weeks_at_90", 0.0, 16.0)
    earned = _as_float(earned_52w, "earned_52w")
    _check_nonnegative(earned, "earned_52w")
    first = _as_float(first_contract_weeks_ago, "first_contract_weeks_ago")
    _check_range(first, "first_contract_weeks_ago", 0.0, np.inf)
    has = _as_bool(has_jss, "has_jss")
    shape = weeks.shape
    for name, a in (
        ("earned_52w", earned),
        ("first_contract_weeks_ago", first),
        ("has_jss", has),
    ):
        shape = _broadcast_shape(name, a.shape, "jss_weeks_at_90", shape)
    top = has & (weeks >= 13) & (earned >= 1000.0) & (first > 13)
    out = np.where(~has, RISING_TALENT, np.where(top, TOP_RATED, NO_BADGE))
    return np.broadcast_to(out, shape).astype(np.int8)


def jss_band(jss: Any) -> np.ndarray:
    """Band of a Job Success Score used by the hiring model [A, after the platform's guidance].

    0 for >= 90, 1 for 80-89, 2 for 75-79, 3 for < 75 and 4 for no JSS (NaN or None).
    Returns an int8 array (0-d for a scalar).
    """
    j = _as_float(jss, "jss") if jss is not None else np.asarray(np.nan)
    present = ~np.isnan(j)
    _check_range(j, "jss", 0.0, 100.0, present)
    return jss_band_unchecked(j)


def jss_band_unchecked(j: np.ndarray) -> np.ndarray:
    """`jss_band` of a float array already known to hold scores in 0-100 or NaN (the engine's
    own, every week): no input checks."""
    # the bands are 0..4 in this order, so a sum of comparisons (no masked select) gives them
    band = JSS_BAND_BELOW_75 + np.isnan(j).astype(np.int8)
    for edge in (75, 80, 90):
        band -= j >= edge
    return band


# -- ratings needed ------------------------------------------------------------------------------


_PARAMS = {
    "mean": {},
    "median": {},
    "bayesian": {"prior_mean": None, "prior_weight": None},
    "beta": {"forgetting": 1.0, "ages": None},
    "wilson": {"positive_at": 4.0, "z": 1.96},
    "star_lower_bound": {"z": 1.65},
    "jss": {
        "values": None,
        "ended_weeks_ago": None,
        "clients": None,
        "new_value": 1000.0,
        "success_at": 4.5,
        "fail_below": 4.0,
        "windows": (104, 52, 26),
        "trending": (26, 13),
        "min_contracts": 2,
        "min_clients": 2,
    },
}
_REQUIRED = {"bayesian": ("prior_mean", "prior_weight"), "jss": ("values", "ended_weeks_ago")}

Signal = Callable[[np.ndarray], np.ndarray]


class _Problem(NamedTuple):
    """The signal after n more ratings, vectorized over histories (n broadcasts)."""

    shape: tuple[int, ...]
    signal: Signal
    roots: Callable[[np.ndarray], list[np.ndarray]] | None = None  # real n where reached flips
    exhaustive: int = 64  # check n = 0..exhaustive one by one before searching


def _quadratic_roots(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
    """Real roots of a u^2 + b u + c (the linear root where a == 0); NaN where none."""
    with np.errstate(divide="ignore", invalid="ignore"):
        disc = b * b - 4 * a * c
        sq = np.sqrt(np.where(disc >= 0, disc, np.nan))
        q = -0.5 * (b + np.copysign(sq, b))
        quad = a != 0
        r1 = np.where(quad, q / a, np.where(b != 0, -c / b, np.nan))
        r2 = np.where(quad, c / q, np.nan)
    return [r1, r2]


def _mean_problem(x, w, counted, new_star, new_weight) -> _Problem:
    s, total = (w * x).sum(axis=-1), w.sum(axis=-1)

    def signal(n):
        return _safe_divide(s + n * new_weight * new_star, total + n * new_weight)

    def roots(t):  # (S + n w x) >= t (W + n w): linear in n
        slope = new_weight * (new_star - t) + 0.0 * s
        return _quadratic_roots(np.zeros_like(slope), slope, s - t * total)

    return _Problem(x.shape[:-1], signal, roots)


def _bayesian_problem(x, w, counted, new_star, new_weight, prior_mean, prior_weight) -> _Problem:
    shape = x.shape[:-1]
    c = _broadcast_param(prior_mean, "prior_mean", shape)
    _check_range(c, "prior_mean", 1.0, 5.0)
    m = _broadcast_param(prior_weight, "prior_weight", shape)
    _check_nonnegative(m, "prior_weight")
    s, total, v = (w * x).sum(axis=-1), w.sum(axis=-1), counted.sum(axis=-1)
    nw, nx = new_weight, new_star

    def signal(n):
        r = _safe_divide(s + n * nw * nx, total + n * nw)
        k = v + n
        return np.where(k > 0, _safe_divide(k * np.where(k > 0, r, 0.0) + m * c, k + m), c)

    def roots(t):
        # signal >= t  <=>  (v+n)(S + n w x) + m C (W + n w) - t (v+n+m)(W + n w) >= 0
        a = nw * (nx - t)
        b = v * nw * nx + s + m * c * nw - t * ((v + m) * nw + total)
        cc = v * s + m * c * total - t * (v + m) * total
        return _quadratic_roots(a + 0.0 * b, b, cc)

    return _Problem(shape, signal, roots)


def _median_problem(x, counted, new_star) -> _Problem:
    srt, v = _sorted_counted(x, counted)
    below = (srt < new_star).sum(axis=-1)
    equal = (srt == new_star).sum(axis=-1)
    width = srt.shape[-1]

    def element(k, n):  # k-th (0-based) of the counted stars merged with n copies of new_star
        idx = np.where(k < below, k, np.where(k < below + equal + n, -1, k - n))
        rows = np.broadcast_to(srt, (*idx.shape, width))
        got = np.take_along_axis(rows, np.clip(idx, 0, max(width - 1, 0))[..., None], -1)[..., 0]
        return np.where(idx < 0, new_star, got)

    def signal(n):
        n = np.asarray(n).astype(np.int64)
        total = v + n
        if width == 0:
            return np.where(total > 0, new_star, np.nan)
        lo = element(np.maximum((total - 1) // 2, 0), n)
        hi = element(total // 2, n)
        return np.where(total > 0, 0.5 * (lo + hi), np.nan)

    return _Problem(v.shape, signal)


def _beta_problem(stars, weights, mask, new_star, new_weight, forgetting, ages) -> _Problem:
    r0, s0, x, lam, aged = _beta_evidence(stars, weights, forgetting, mask, ages)
    rn, sn = _evidence(np.asarray(new_star))
    rn, sn = new_weight * rn, new_weight * sn

    def signal(n):
        n = np.asarray(n, float)
        if aged:  # new ratings arrive now, at age 0: weight 1 each, old ones unchanged
            old, gain = 1.0, n
        elif lam == 1.0:
            old, gain = 1.0, n
        else:  # each new rating discounts everything before it once more
            old, gain = lam**n, (1.0 - lam**n) / (1.0 - lam)
        r, s = old * r0 + gain * rn, old * s0 + gain * sn
        return (r + 1.0) / (r + s + 2.0)

    return _Problem(x.shape[:-1], signal)


def _wilson_problem(x, w, new_star, new_weight, positive_at, z) -> _Problem:
    pa = _check_scalar(positive_at, "positive_at", 1.0, 5.0)
    z = _check_scalar(z, "z", 0.0, np.inf, hi_open=True)
    pos, total = (w * (x >= pa)).sum(axis=-1), w.sum(axis=-1)
    new_pos = new_weight * float(new_star >= pa)

    def signal(n):
        return _wilson(pos + n * new_pos, total + n * new_weight, z)

    return _Problem(x.shape[:-1], signal)


def _star_bound_problem(x, w, new_star, new_weight, z) -> _Problem:
    z = _check_scalar(z, "z", 0.0, np.inf, hi_open=True)
    counts = _star_counts(x, w)
    add = _star_counts(np.asarray([new_star]), np.asarray([new_weight]))

    def signal(n):
        return _star_bound(counts + np.asarray(n, float)[..., None] * add, z)

    return _Problem(x.shape[:-1], signal)


def _jss_problem(stars, mask, new_star, p) -> _Problem:
    cfg = _jss_settings(
        p["success_at"],
        p["fail_below"],
        p["windows"],
        p["trending"],
        p["min_contracts"],
        p["min_clients"],
    )
    new_value = _check_scalar(p["new_value"], "new_value", 0.0, np.inf, hi_open=True)
    x, v, e, codes, counted = _jss_inputs(
        stars, p["values"], p["ended_weeks_ago"], p["clients"], mask
    )
    stats = _jss_window_stats(x, v, e, codes, counted, cfg)
    new_weight = float(_jss_weight(np.asarray(new_value)))
    outcome = float(new_star >= cfg.success_at) - float(new_star < cfg.fail_below)

    def signal(n):
        return _jss_shown(stats, cfg, np.asarray(n, float), new_weight, outcome)

    # each new contract comes from a new client [A]: past max(min_contracts, min_clients) more
    # contracts every window qualifies, and from there every window moves monotonically
    settle = max(cfg.min_contracts, cfg.min_clients, 64)
    return _Problem(x.shape[:-1], signal, None, settle)


def _reached_fn(problem: _Problem, target: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    def reached(n: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            sig = problem.signal(np.asarray(n))
        return np.broadcast_to(sig >= target - REACHED_TOL, problem.shape)

    return reached


def _search(reached, shape, exhaustive: int, cap: int = MAX_RATINGS_NEEDED) -> np.ndarray:
    """Fewest n in 0..cap with reached(n), checking 0..exhaustive one by one, then exponential
    and binary search (which relies on the signal being monotone in n from there on)."""
    out = np.full(shape, np.inf)
    todo = np.ones(shape, bool)
    for k in range(min(exhaustive, cap) + 1):
        hit = todo & reached(np.full(shape, k))
        out[hit] = k
        todo &= ~hit
        if not todo.any():
            return out
    lo = np.full(shape, min(exhaustive, cap), dtype=np.int64)  # not reached
    hi = lo.copy()
    active, found = todo.copy(), np.zeros(shape, bool)
    while active.any():
        hi = np.where(active, np.minimum(np.maximum(hi * 2, 1), cap), hi)
        r = reached(hi)
        found |= active & r
        lo = np.where(active & ~r, hi, lo)
        active &= ~r & (hi < cap)
    while True:
        gap = found & (hi - lo > 1)
        if not gap.any():
            break
        mid = (lo + hi) // 2
        r = reached(mid)
        hi = np.where(gap & r, mid, hi)
        lo = np.where(gap & ~r, mid, lo)
    out[found] = hi[found]
    return out


def _from_roots(reached, roots: list[np.ndarray], shape, cap: int = MAX_RATINGS_NEEDED):
    """Fewest n reaching the target among 0, 1 and the integers next to each root.

    The target is reached on a union of intervals whose ends are the roots, so the first
    integer reached is 0, 1 or ceil(root); the neighbours absorb rounding in the roots.
    """
    best = np.full(shape, np.inf)
    tries = [np.zeros(shape), np.ones(shape)]
    for r in roots:
        r = np.broadcast_to(r, shape)
        ok = np.isfinite(r) & (r > -2) & (r < cap + 2)
        base = np.ceil(np.where(ok, r, 0.0))
        tries += [np.where(ok, base + d, -1.0) for d in (-1.0, 0.0, 1.0)]
    for k in tries:
        valid = (k >= 0) & (k <= cap)
        hit = valid & reached(np.where(valid, k, 0.0).astype(np.int64))
        best = np.where(hit & (k < best), k, best)
    return best


def _minimal(reached, n: np.ndarray) -> np.ndarray:
    """True where n is finite, reached, and n - 1 is not (or n == 0)."""
    fin = np.isfinite(n)
    k = np.where(fin, n, 0).astype(np.int64)
    prev = np.where(k > 0, reached(np.maximum(k - 1, 0)), False)
    return fin & reached(k) & ~prev


def ratings_needed(
    stars: Any,
    target: Any,
    weights: Any = None,
    new_star: float = 5.0,
    new_weight: float = 1.0,
    aggregator: str = "mean",
    mask: Any = None,
    **params: Any,
) -> int | np.ndarray | None:
    """Fewest more ratings of `new_star` (weight `new_weight`) that bring a signal to `target`.

    The new ratings are appended to the counted history (newest last); the target is reached when
    ``signal >= target - 1e-9``. Closed forms [D] where the condition is a polynomial in n
    (mean: ``n >= (target * W - S) / (w * (new_star - target))``; Bayesian: a quadratic), checked
    by evaluating the signal at n and n - 1; otherwise a one-by-one check of n <= 64 and then
    exponential and binary search, exact where the signal is monotone in n (median, Beta, Wilson,
    JSS once every window qualifies; numerically for Miller's star bound). Above 10**6 ratings a
    target is unreachable.

    Parameters
    ----------
    stars, weights, mask : array_like
        The history as in `weighted_mean` (for "jss", NaN stars are contracts without feedback).
    target : float or array_like
        The signal's target (stars for mean, median, bayesian, star_lower_bound; E in (0, 1) for
        beta; a share for wilson; percent for jss); broadcastable to the result.
    aggregator : str
        One of `AGGREGATORS`.
    **params
        The aggregator's settings: bayesian ``prior_mean``, ``prior_weight`` (required); beta
        ``forgetting`` (1.0), ``ages`` (new ratings arrive at age 0); wilson ``positive_at``
        (4.0), ``z`` (1.96); star_lower_bound ``z`` (1.65); jss ``values`` and
        ``ended_weeks_ago`` (required), ``clients``, ``new_value`` (1000.0: the dollars of each
        new contract, which ends now and comes from a new client [A]) and the keyword settings
        of `job_success_score`. The median and jss ignore `weights` and `new_weight`.

    Returns
    -------
    int, None or ndarray
        For one history an int (0 when already reached) or None when unreachable; for a batch a
        float array of whole numbers with ``inf`` where unreachable.

    Examples
    --------
    Stars (5, 3.4), plain mean: 6 more 5-star ratings reach 4.8, 14 reach 4.9, 30 reach 4.95.
    """
    if not isinstance(aggregator, str) or aggregator not in AGGREGATORS:
        raise ValueError(f"aggregator: unknown {aggregator!r}; expected one of {AGGREGATORS}")
    allowed = _PARAMS[aggregator]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        takes = ", ".join(allowed) or "none"
        raise ValueError(
            f"params: {unknown} not used by the {aggregator!r} aggregator (it takes: {takes})"
        )
    missing = [k for k in _REQUIRED.get(aggregator, ()) if k not in params]
    if missing:
        raise ValueError(f"params: the {aggregator!r} aggregator needs {missing}")
    p = {**allowed, **params}
    new_star = _check_scalar(new_star, "new_star", 1.0, 5.0)
    new_weight = _check_scalar(new_weight, "new_weight", 0.0, np.inf, lo_open=True, hi_open=True)
    t = _as_float(target, "target")
    _check_no_nan(t, "target")
    if np.isinf(t).any():
        raise ValueError("target: must be finite")

    if aggregator == "jss":
        problem = _jss_problem(stars, mask, new_star, p)
    elif aggregator == "beta":
        problem = _beta_problem(
            stars, weights, mask, new_star, new_weight, p["forgetting"], p["ages"]
        )
    else:
        x, w, counted, _ = _history(stars, None if aggregator == "median" else weights, mask)
        if aggregator == "mean":
            problem = _mean_problem(x, w, counted, new_star, new_weight)
        elif aggregator == "median":
            problem = _median_problem(x, counted, new_star)
        elif aggregator == "bayesian":
            problem = _bayesian_problem(
                x, w, counted, new_star, new_weight, p["prior_mean"], p["prior_weight"]
            )
        elif aggregator == "wilson":
            problem = _wilson_problem(x, w, new_star, new_weight, p["positive_at"], p["z"])
        else:
            problem = _star_bound_problem(x, w, new_star, new_weight, p["z"])

    shape = _broadcast_shape("target", t.shape, "result", problem.shape)
    problem = problem._replace(shape=shape)  # several targets for one history: an array
    t = np.broadcast_to(t, shape)
    reached = _reached_fn(problem, t)
    if problem.roots is not None:
        n = _from_roots(reached, problem.roots(t - REACHED_TOL), problem.shape)
        suspect = np.isfinite(n) & ~_minimal(reached, n)
        suspect |= np.isinf(n) & reached(np.full(problem.shape, MAX_RATINGS_NEEDED))
        if suspect.any():  # rounding defeated the closed form: fall back to search
            n = np.where(suspect, _search(reached, problem.shape, problem.exhaustive), n)
    else:
        n = _search(reached, problem.shape, problem.exhaustive)
    if n.ndim == 0:
        return None if np.isinf(n) else int(n)
    return n
