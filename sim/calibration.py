"""The default market's calibration: the stars she receives, and the field's JSS from them."""

from __future__ import annotations

import numpy as np

from .reputation import jss_band
from .scenario import Scenario

__all__ = ["field_jss_bands", "received_stars"]


def received_stars(sc: Scenario) -> np.ndarray:
    """P(1..5 stars) on her future contracts: her quality with ordinary clients, and harsh
    clients' share taking `harsh_client_shift` stars off (down to 1)."""
    m = sc.market
    quality = np.asarray(sc.freelancer.quality, dtype=float)
    harsh = np.zeros(5)
    for level, p in enumerate(quality, start=1):
        harsh[max(level - m.harsh_client_shift, 1) - 1] += p
    return (1.0 - m.harsh_client_share) * quality + m.harsh_client_share * harsh


def field_jss_bands(sc: Scenario, freelancers: int = 200_000, seed: int = 0) -> np.ndarray:
    """Shares of JSS bands (>= 90, 80-89, 75-79, < 75, none) in a field of freelancers like her:
    each with the field's log-normal review count (`competitor_reviews_median`, `_sigma`),
    every review from its own client with stars drawn from `received_stars`, equal contract
    values, all inside the longest window [D]. "None" is fewer than `jss.min_contracts`.

    The default `market.competitor_jss_bands` are this, rounded: so her JSS and the field's
    come from one assumption (model.md, "Calibration").
    """
    m, j = sc.market, sc.jss
    rng = np.random.default_rng(seed)
    n = np.rint(np.exp(rng.normal(np.log(m.competitor_reviews_median), m.competitor_reviews_sigma,
                                  freelancers))).astype(np.int64)  # fmt: skip
    counts = rng.multinomial(n, received_stars(sc))  # (freelancers, 5) by star level
    levels = np.arange(1.0, 6.0)
    success = counts @ (levels >= j.success_at)
    failure = counts @ (levels < j.fail_below)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.floor(np.clip(100.0 * (success - failure) / n, 0.0, 100.0) + 0.5)
    score = np.where(n >= max(j.min_contracts, j.min_clients), score, np.nan)
    return np.bincount(jss_band(score).ravel(), minlength=5) / freelancers
