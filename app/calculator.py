"""Today's signals under each rule from one's own contracts: closed forms, no simulation."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from pydantic import TypeAdapter

import sim
from app.controls import CATALOG
from sim import engine, reputation
from sim.feedback import CRITERIA
from sim.market import HiringMarket
from sim.needed import ratings_needed_in_time, ratings_needed_today
from sim.scenario import Arm

__all__ = ["COLUMNS", "history_frame", "history_rows", "signals_today"]

RECORD = ("client_ratings_given", "client_mean_given", "client_mean_received", "client_suspended")
COLUMNS = ("client", "stars", *CRITERIA, "value", "ended_weeks_ago", "flagged", *RECORD)
BADGES = {reputation.NO_BADGE: "none", reputation.RISING_TALENT: "Rising Talent",
          reputation.TOP_RATED: "Top Rated"}  # fmt: skip
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
                "client_ratings_given": h.client_ratings_given,
                "client_mean_given": h.client_mean_given,
                "client_mean_received": h.client_mean_received,
                "client_suspended": h.client_suspended,
            }
        )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    numeric = ["stars", *CRITERIA, "value", "client_mean_given", "client_mean_received"]
    frame[numeric] = frame[numeric].astype(float)
    for column in ("ended_weeks_ago", "client_ratings_given"):
        frame[column] = frame[column].astype("Int64")
    for column in ("flagged", "client_suspended"):
        frame[column] = frame[column].astype(bool)
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
            "client_suspended": bool(rec.get("client_suspended") or False),
        }
        if not _blank(rec.get("client_ratings_given")):
            entry["client_ratings_given"] = int(rec["client_ratings_given"])
        for key in ("client_mean_given", "client_mean_received"):
            if not _blank(rec.get(key)):
                entry[key] = float(rec[key])
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


def _in_time(target: dict[str, Any] | None) -> str | None:
    """ "6 by week 24": further 5-star contracts, one every contract_weeks, and the week."""
    return None if target is None else f"{target['ratings']} by week {target['week']}"


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
                "in time: to 4.8": _in_time(timed[arm.name]["targets"]["stars 4.8"]),
                "in time: to JSS 90": _in_time(timed[arm.name]["targets"]["jss 90"]),
                "win probability": today.win_prob,
            }
        )
    return pd.DataFrame(rows)
