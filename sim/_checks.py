"""Input validation shared by the closed forms: errors name the argument and the problem."""

from __future__ import annotations

from typing import Any

import numpy as np


def _fmt(x: Any) -> str:
    """A short human form of a number for error messages."""
    try:
        return f"{float(x):g}"
    except (TypeError, ValueError):
        return repr(x)


def _as_float(a: Any, name: str) -> np.ndarray:
    """`a` as a float array, or ValueError naming `name`."""
    try:
        out = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: must be numbers ({err})") from None
    return out


def _as_bool(a: Any, name: str) -> np.ndarray:
    """`a` as a boolean array; other dtypes are refused (an int 0/1 array is a likely mix-up)."""
    out = np.asarray(a)
    if out.dtype != bool:
        raise ValueError(f"{name}: must be boolean (got dtype {out.dtype})")
    return out


def _broadcast_shape(name: str, shape: tuple[int, ...], ref: str, ref_shape: tuple[int, ...]):
    """The broadcast of two shapes, or ValueError naming both arguments."""
    try:
        return np.broadcast_shapes(shape, ref_shape)
    except ValueError:
        raise ValueError(
            f"{name}: shape {shape} does not broadcast with {ref} shape {ref_shape}"
        ) from None


def _check_no_nan(a: np.ndarray, name: str, where: np.ndarray | None = None) -> None:
    bad = np.isnan(a) if where is None else (np.isnan(a) & where)
    if bad.any():
        raise ValueError(f"{name}: contains NaN")


def _check_range(
    a: np.ndarray,
    name: str,
    lo: float,
    hi: float,
    where: np.ndarray | None = None,
    what: str | None = None,
) -> None:
    """NaN check, then `lo <= a <= hi` where `where` is True (everywhere when None)."""
    _check_no_nan(a, name, where)
    bad = (a < lo) | (a > hi)
    if where is not None:
        bad &= where
    if bad.any():
        got = a[bad].flat[0]
        what = what or f"values must be between {_fmt(lo)} and {_fmt(hi)}"
        raise ValueError(f"{name}: {what} (got {_fmt(got)})")


def _check_nonnegative(a: np.ndarray, name: str, where: np.ndarray | None = None) -> None:
    """No NaN, finite and >= 0 where `where` is True."""
    _check_no_nan(a, name, where)
    neg = a < 0
    inf = np.isinf(a)
    if where is not None:
        neg &= where
        inf &= where
    if neg.any():
        raise ValueError(f"{name}: must be non-negative (got {_fmt(a[neg].flat[0])})")
    if inf.any():
        raise ValueError(f"{name}: must be finite")


def _check_scalar(
    x: Any, name: str, lo: float = -np.inf, hi: float = np.inf, *, lo_open=False, hi_open=False
) -> float:
    """A finite real number within [lo, hi] (ends open on request), or ValueError naming `name`."""
    if isinstance(x, bool) or np.ndim(x) != 0:
        raise ValueError(f"{name}: must be a single number (got {x!r})")
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be a number (got {x!r})") from None
    if np.isnan(v):
        raise ValueError(f"{name}: is NaN")
    below = v <= lo if lo_open else v < lo
    above = v >= hi if hi_open else v > hi
    if below or above:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        raise ValueError(f"{name}: must be in {left}{_fmt(lo)}, {_fmt(hi)}{right} (got {_fmt(v)})")
    return v


def _check_count(x: Any, name: str, lo: int = 0) -> int:
    """A whole number >= lo."""
    if isinstance(x, bool) or not isinstance(x, int | np.integer):
        raise ValueError(f"{name}: must be a whole number (got {x!r})")
    if x < lo:
        raise ValueError(f"{name}: must be at least {lo} (got {x})")
    return int(x)


def _scalar_or_array(a: np.ndarray) -> float | np.ndarray:
    """A Python float for a 0-d result, the array otherwise."""
    return float(a) if np.ndim(a) == 0 else a
