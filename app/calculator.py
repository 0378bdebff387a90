"""Today's signals under each rule from one's own contracts: closed forms, no simulation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import TypeAdapter

import sim
from app.controls import CATALOG
from sim import reputation
from sim.feedback import CRITERIA
from sim.market import HiringMarket, build_market, solve_intercept, utility
from sim.metrics import counted_today, ratings_needed_today
from sim.scenario import Arm

__all__ = ["COLUMNS", "history_frame", "history_rows", "signals_today"]

COLUMNS = ("client", "stars", *CRITERIA, "value", "ended_weeks_ago", "flagged")
BADGES = {reputation.NO_BADGE: "none", reputation.RISING_TALENT: "Rising Talent",
          reputation.TOP_RATED: "Top Rated"}  # fmt: skip
# the engine's thresholds for Top Rated (sim/engine.py), applied to today's history
TOP_RATED_JSS, TOP_RATED_EARNED, TOP_RATED_TENURE, EARNED_WEEKS = 90.0, 1000.0, 13, 52
_ARM = TypeAdapter(Arm)


def history_frame(sc: sim.Scenario) -> pd.DataFrame:
    """The scenario's past contracts as an editable table, oldest first."""
    rows = []
    for h in sc.history:
        crit = h.criteria or {}
        rows.append(
            {
                "client": h.client,
                "stars": h.stars,
                **{k: crit.get(k) for k in CRITERIA},
                "value": h.value,
                "ended_weeks_ago": h.ended_weeks_ago,
                "flagged": h.flagged,
            }
        )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    numeric = ["stars", *CRITERIA, "value"]
    frame[numeric] = frame[numeric].astype(float)
    frame["ended_weeks_ago"] = frame["ended_weeks_ago"].astype("Int64")
    frame["flagged"] = frame["flagged"].astype(bool)
    return frame


def _blank(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA or x == ""


def history_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Table rows as scenario `history` entries; rows left entirely empty are skipped."""
    out = []
    for rec in frame.to_dict("records"):
        if all(_blank(rec.get(k)) or rec.get(k) is False for k in COLUMNS):
            continue
        entry: dict[str, Any] = {
            "client": "" if _blank(rec.get("client")) else str(rec["client"]),
            "value": None if _blank(rec.get("value")) else float(rec["value"]),
            "ended_weeks_ago": None
            if _blank(rec.get("ended_weeks_ago"))
            else int(rec["ended_weeks_ago"]),
            "flagged": bool(rec.get("flagged") or False),
        }
        if not _blank(rec.get("stars")):
            entry["stars"] = float(rec["stars"])
        crit = {k: float(rec[k]) for k in CRITERIA if not _blank(rec.get(k))}
        if crit:
            entry["criteria"] = crit  # partial criteria: the schema names what is missing
        out.append(entry)
    return out


def rules_for(sc: sim.Scenario) -> tuple[Any, ...]:
    """The scenario's arms, then every other rule of the catalog."""
    names = set(sc.arm_names())
    extra = [_ARM.validate_python({"name": n, **spec}) for n, spec in CATALOG.items()]
    return sc.arms + tuple(a for a in extra if a.name not in names)


def _stars(sc: sim.Scenario, arm: Any, mask: np.ndarray) -> float:
    """Displayed stars at week 0 as the engine computes them (NaN when nothing counts)."""
    s = sc.signals
    x = sc.history_stars()
    if not mask.any():
        return math.nan
    values = np.array([h.value for h in sc.history], dtype=float)
    w = values if s.weighting == "value" else None
    ages = np.array([h.ended_weeks_ago for h in sc.history], dtype=float)
    agg = sc.aggregator_of(arm)
    if agg == "mean":
        return float(reputation.weighted_mean(x, w, mask))
    if agg == "bayesian":
        return float(reputation.bayesian_average(x, s.prior_mean, s.prior_weight, w, mask))
    if agg == "median":
        return float(reputation.median(x, mask))
    if agg == "beta":  # one unit of evidence per rating, as the engine counts it
        e = reputation.beta_reputation(x, None, s.forgetting, mask, ages=ages)
        return 1.0 + 4.0 * float(e)
    if agg == "wilson":
        positive = int(np.sum(mask & (np.nan_to_num(x) >= s.positive_at)))
        return 1.0 + 4.0 * float(reputation.wilson_lower_bound(positive, int(mask.sum()), s.z))
    counts = reputation.star_counts(np.nan_to_num(x, nan=1.0), None, mask)
    return float(reputation.star_lower_bound(counts, s.z))


def _jss(sc: sim.Scenario, mask: np.ndarray) -> float | None:
    if not sc.history:
        return None
    j = sc.jss
    return reputation.job_success_score(
        sc.history_stars(),
        [h.value for h in sc.history],
        [h.ended_weeks_ago for h in sc.history],
        clients=[h.client for h in sc.history],
        mask=mask,
        **j.closed_form_args(),
    )


def _badge(sc: sim.Scenario, jss: float | None) -> int:
    """Today's badge; a JSS of 90+ now is taken to have held for the last 16 weeks (as the engine
    starts)."""
    earned = sum(h.value for h in sc.history if h.ended_weeks_ago < EARNED_WEEKS)
    tenure = max((h.ended_weeks_ago for h in sc.history), default=-1)
    at90 = 16 if jss is not None and jss >= TOP_RATED_JSS else 0
    return int(reputation.badge(at90, earned, max(tenure, 0), jss is not None)[()])


def _rounded(stars: float) -> float:
    return math.floor(stars * 100.0 + 0.5) / 100.0  # as displayed (and as the engine records)


def signals_today(sc: sim.Scenario, market: HiringMarket | None = None) -> pd.DataFrame:
    """One row per rule: counted reviews, stars, JSS, badge, win probability, ratings needed."""
    arms = rules_for(sc)
    wide = sc.model_copy(update={"arms": arms})  # no 12-arm limit: nothing is simulated
    needed = ratings_needed_today(wide)
    market = build_market(sc) if market is None else market
    log_price = math.log(sc.freelancer.hourly_rate / sc.market.market_rate)
    rows, utilities = [], []
    for arm in arms:
        mask = counted_today(sc, arm)
        stars, jss = _stars(sc, arm, mask), _jss(sc, mask)
        badge = _badge(sc, jss)
        band = reputation.jss_band(jss)
        v = utility(stars, int(mask.sum()), band, badge, log_price, sc, market.market_mean)
        utilities.append(float(v))
        table = needed[arm.name]
        agg = sc.aggregator_of(arm)
        solved = agg if agg in table else "mean"  # closed forms exist for mean, bayesian, median
        by = table[solved]
        rows.append(
            {
                "rule": arm.name,
                "kind": arm.rule,
                "aggregator": agg,
                "reviews counted": int(mask.sum()),
                "stars": None if math.isnan(stars) else _rounded(stars),
                "JSS": jss,
                "badge": BADGES[badge],
                "ratings solved for": solved,
                "ratings to 4.8": by.get("4.8"),
                "ratings to 4.9": by.get("4.9"),
                "ratings to 4.95": by.get("4.95"),
                "ratings to JSS 90": table["jss"].get("90"),
            }
        )
    if sc.hiring.known_win_rate is not None:
        market = solve_intercept(market, utilities[0], sc.hiring.known_win_rate)
    for row, v in zip(rows, utilities, strict=True):
        row["win probability"] = float(market.win_prob(np.asarray(v)))
    return pd.DataFrame(rows)
