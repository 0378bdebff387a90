"""Star histories: validated once at the boundary, then plain arrays for the closed forms."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import (
    _as_bool,
    _as_float,
    _broadcast_shape,
    _check_no_nan,
    _check_nonnegative,
    _check_range,
)

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
