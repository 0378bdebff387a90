"""Reputation's closed forms in one import: gathers sim/stars.py, jss.py and ratings_needed.py."""

from __future__ import annotations

from ._history import _history as _history
from .jss import (
    JSS_BAND_75,
    JSS_BAND_80,
    JSS_BAND_90,
    JSS_BAND_BELOW_75,
    JSS_BAND_NONE,
    NO_BADGE,
    RISING_TALENT,
    TOP_RATED,
    badge,
    job_success_score,
    jss_band,
    jss_band_unchecked,
    jss_weight,
)
from .ratings_needed import AGGREGATORS, MAX_RATINGS_NEEDED, REACHED_TOL, Signal, ratings_needed
from .stars import _evidence as _evidence
from .stars import (
    bayesian_average,
    beta_reputation,
    median,
    star_counts,
    star_lower_bound,
    weighted_mean,
    wilson_lower_bound,
)

__all__ = [
    "AGGREGATORS",
    "JSS_BAND_75",
    "JSS_BAND_80",
    "JSS_BAND_90",
    "JSS_BAND_BELOW_75",
    "JSS_BAND_NONE",
    "MAX_RATINGS_NEEDED",
    "NO_BADGE",
    "REACHED_TOL",
    "RISING_TALENT",
    "TOP_RATED",
    "Signal",
    "badge",
    "bayesian_average",
    "beta_reputation",
    "job_success_score",
    "jss_band",
    "jss_band_unchecked",
    "jss_weight",
    "median",
    "ratings_needed",
    "star_counts",
    "star_lower_bound",
    "weighted_mean",
    "wilson_lower_bound",
]
