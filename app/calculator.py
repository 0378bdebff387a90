"""Today's signals under each rule from one's own contracts: closed forms, no simulation."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pandas as pd
from pydantic import TypeAdapter

import sim
from app import dates
from app.controls import CATALOG
from sim import engine, reputation
from sim.market import HiringMarket
from sim.needed import ratings_needed_in_time, ratings_needed_today
from sim.scenario import Arm

__all__ = ["rules_for", "signals_today"]

BADGES = {reputation.NO_BADGE: "none", reputation.RISING_TALENT: "Rising Talent",
          reputation.TOP_RATED: "Top Rated"}  # fmt: skip
_ARM = TypeAdapter(Arm)


def rules_for(sc: sim.Scenario) -> tuple[Any, ...]:
    """The scenario's arms, then every other rule of the catalog."""
    names = set(sc.arm_names())
    extra = [_ARM.validate_python({"name": n, **spec}) for n, spec in CATALOG.items()]
    return sc.arms + tuple(a for a in extra if a.name not in names)


def _in_time(target: dict[str, Any] | None, today: datetime.date | None = None) -> str | None:
    """ "6 by week 24 (15 May 2027)": further 5-star contracts, one every contract_weeks, and the
    week (with its date when the scenario has a today)."""
    if target is None:
        return None
    return f"{target['ratings']} by {dates.week_words(target['week'], today)}"


def _rounded(stars: float) -> float:
    return math.floor(stars * 100.0 + 0.5) / 100.0  # as displayed (and as the engine records)


def signals_today(sc: sim.Scenario, market: HiringMarket | None = None) -> pd.DataFrame:
    """One row per rule: counted reviews, stars, JSS, badge, win probability, ratings needed.

    The signals come from `sim.engine.signals_today`, the simulation's own week 0, so the
    Calculator and Compare cannot disagree.
    """
    arms = rules_for(sc)
    wide = sc.model_copy(update={"arms": arms})  # no 12-arm limit: nothing is simulated
    needed = ratings_needed_today(wide)
    timed = ratings_needed_in_time(wide)
    if market is not None and sc.hiring.known_win_rate is not None:
        market = None  # the intercept is solved on the first arm's week 0: let the engine do it
    rows = []
    for arm, today in zip(arms, engine.signals_today(wide, market=market), strict=True):
        table = needed[arm.name]
        agg = sc.aggregator_of(arm)
        solved = agg if agg in table else "mean"  # closed forms exist for mean, bayesian, median
        by = table[solved]
        rows.append(
            {
                "rule": arm.name,
                "kind": arm.rule,
                "aggregator": agg,
                "reviews counted": today.reviews,
                "stars": None if math.isnan(today.stars) else _rounded(today.stars),
                "JSS": None if math.isnan(today.jss) else today.jss,
                "badge": BADGES[today.badge],
                "ratings solved for": solved,
                "ratings to 4.8": by.get("4.8"),
                "ratings to 4.9": by.get("4.9"),
                "ratings to 4.95": by.get("4.95"),
                "ratings to JSS 90": table["jss"].get("90"),
                "in time: to 4.8": _in_time(timed[arm.name]["targets"]["stars 4.8"], sc.today),
                "in time: to JSS 90": _in_time(timed[arm.name]["targets"]["jss 90"], sc.today),
                "win probability": today.win_prob,
            }
        )
    return pd.DataFrame(rows)
