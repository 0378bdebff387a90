"""Ratings needed (closed form): how many further ratings bring a signal to a target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ._checks import (
    _as_float,
    _broadcast_shape,
    _check_no_nan,
    _check_nonnegative,
    _check_range,
    _check_scalar,
)
from ._history import _broadcast_param, _history, _safe_divide
from .jss import _jss_inputs, _jss_settings, _jss_shown, _jss_weight, _jss_window_stats
from .stars import (
    _beta_evidence,
    _evidence,
    _sorted_counted,
    _star_bound,
    _star_counts,
    _wilson,
)

AGGREGATORS = ("mean", "median", "bayesian", "beta", "wilson", "star_lower_bound", "jss")
"""Signals `ratings_needed` can solve for."""

REACHED_TOL = 1e-9
"""A signal reaches a target when ``signal >= target - REACHED_TOL`` (38.4 / 8 is not 4.8)."""

MAX_RATINGS_NEEDED = 10**6
"""Beyond this many additional ratings a target counts as unreachable."""


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
