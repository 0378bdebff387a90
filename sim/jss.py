"""The Job Success Score, its bands and the badges it gives (closed forms)."""

from __future__ import annotations

from collections.abc import Sequence
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
)
from ._history import _history, _safe_divide

NO_BADGE = 0
RISING_TALENT = 1
TOP_RATED = 2

JSS_BAND_90 = 0
JSS_BAND_80 = 1
JSS_BAND_75 = 2
JSS_BAND_BELOW_75 = 3
JSS_BAND_NONE = 4


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
