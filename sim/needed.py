"""Ratings needed: how many further 5-star contracts bring each signal to a target, and when."""

from __future__ import annotations

import copy
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from . import reputation
from .engine import make_plan, market_for, signals_today
from .scenario import HistoryEntry, Scenario

__all__ = ["JSS_TARGET", "STAR_TARGETS", "ratings_needed_in_time", "ratings_needed_today"]

STAR_TARGETS = (4.8, 4.9, 4.95)
JSS_TARGET = 90.0
NEW_CLIENT = "new client {}"  # each further contract has a client of its own
KEPT = 128  # figures remembered (two per scenario, each a few KB)

T = TypeVar("T")
_memo: OrderedDict[tuple[str, str], Any] = OrderedDict()
_memo_lock = threading.Lock()


def _remembered(name: str, sc: Scenario, compute: Callable[[Scenario], T]) -> T:
    """``compute(sc)``, remembered by the whole scenario (its canonical JSON: any setting that
    differs is another entry, so a figure is never that of other settings); a copy each time,
    so a caller that changes it changes nothing here. The dashboard computes these while its
    run goes on (app/results.py), and the run's summary then finds them here."""
    key = (name, sc.model_dump_json())
    with _memo_lock:
        if key in _memo:
            _memo.move_to_end(key)
            return copy.deepcopy(_memo[key])
    value = compute(sc)
    with _memo_lock:
        _memo[key] = value
        while len(_memo) > KEPT:
            _memo.popitem(last=False)
    return copy.deepcopy(value)


def ratings_needed_today(sc: Scenario) -> dict[str, dict[str, dict[str, float | None]]]:
    """{arm: {aggregator: {target: n or None (unreachable)}}}: closed forms over today's counted
    feedback, as if every further 5-star contract ended today. Stars by the mean, the Bayesian
    average and the median (whichever an arm shows), the JSS from what its JSS counts.
    Remembered per scenario."""
    return _remembered("today", sc, _ratings_needed_today)


def _ratings_needed_today(sc: Scenario) -> dict[str, dict[str, dict[str, float | None]]]:
    s = sc.signals
    new_value = sc.freelancer.weekly_gross * sc.market.contract_weeks
    stars = sc.history_stars()
    values = np.array([h.value for h in sc.history], dtype=float)
    ages = np.array([h.ended_weeks_ago for h in sc.history], dtype=float)
    clients = [h.client for h in sc.history]
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for today in signals_today(sc):
        mask = today.counted_stars
        x, v = stars[mask], values[mask]
        weights = v if s.weighting == "value" else None
        new_weight = new_value if s.weighting == "value" else 1.0
        per_agg: dict[str, dict[str, Any]] = {
            "mean": {"weights": weights, "new_weight": new_weight},
            "bayesian": {
                "weights": weights,
                "new_weight": new_weight,
                "prior_mean": s.prior_mean,
                "prior_weight": s.prior_weight,
            },
            "median": {},
        }
        table: dict[str, dict[str, float | None]] = {}
        for agg, params in per_agg.items():  # every target in one call: it broadcasts
            n = reputation.ratings_needed(
                x, np.array(STAR_TARGETS), aggregator=agg, new_star=5.0, **params
            )
            table[agg] = {
                str(t): float(k) if np.isfinite(k) else None
                for t, k in zip(STAR_TARGETS, n, strict=True)
            }
        jss = today.counted_jss
        table["jss"] = {
            str(int(JSS_TARGET)): _needed(
                stars[jss],
                JSS_TARGET,
                "jss",
                new_star=5.0,
                values=values[jss],
                ended_weeks_ago=ages[jss],
                new_value=new_value,
                clients=[c for c, keep in zip(clients, jss, strict=True) if keep] or None,
            )
        }
        out[today.arm] = table
    return out


def _needed(x: np.ndarray, target: float, aggregator: str, **params: Any) -> float | None:
    if params.get("clients") is None:
        params.pop("clients", None)
    n = reputation.ratings_needed(x, target, aggregator=aggregator, **params)
    return None if n is None else float(n)


def _after(sc: Scenario, week: int, contracts: int, ends: list[int]) -> Scenario:
    """The scenario as it stands at ``week`` with ``contracts`` further 5-star contracts (ended
    in weeks ``ends``) in its history: every age grows by ``week`` and every rule's delay
    shrinks by it, so its week 0 is that week."""
    value = sc.freelancer.weekly_gross * sc.market.contract_weeks
    history = [
        h.model_copy(update={"ended_weeks_ago": h.ended_weeks_ago + week}) for h in sc.history
    ]
    history += [
        HistoryEntry(
            client=NEW_CLIENT.format(i + 1), stars=5.0, value=value, ended_weeks_ago=week - ends[i]
        )
        for i in range(contracts)
    ]
    arms = []
    for arm in sc.arms:
        delay = getattr(arm, "delay_weeks", None)
        arms.append(
            arm if delay is None else arm.model_copy(update={"delay_weeks": max(delay - week, 0)})
        )
    return sc.model_copy(update={"history": tuple(history), "arms": tuple(arms)})


def ratings_needed_in_time(sc: Scenario) -> dict[str, Any]:
    """Per arm: for the stars (by the arm's own aggregator) and the JSS, how many further 5-star
    contracts bring it to each target and in which week, with one contract ending every
    ``market.contract_weeks`` weeks, each from a new client and rated at once (None: not within
    the horizon); and for each JSS window, the week the disputed feedback stops counting in it.

    Each step is the engine's own week 0 (`signals_today`) of the scenario as it stands then:
    ages grow, rule delays run down, the windows let old feedback go. Remembered per scenario.
    """
    return _remembered("in_time", sc, _ratings_needed_in_time)


def _ratings_needed_in_time(sc: Scenario) -> dict[str, Any]:
    plan = make_plan(sc, uncertain=False)  # the scenario's own assumptions
    market = market_for(plan)  # the run's market (its intercept), not one per step
    c = sc.market.contract_weeks
    horizon = sc.run.weeks
    ends = [math.ceil(k * c) for k in range(1, int(horizon // c) + 2)]
    ends = [e for e in ends if e < horizon]
    names = sc.arm_names()
    targets = {f"stars {t}": t for t in STAR_TARGETS} | {f"jss {int(JSS_TARGET)}": JSS_TARGET}
    found: dict[str, dict[str, Any]] = {a: dict.fromkeys(targets) for a in names}
    for week in _weeks_to_check(sc, ends):
        open_ = [a for a in names if any(v is None for v in found[a].values())]
        if not open_:
            break
        k = sum(e <= week for e in ends)
        state = signals_today(_after(sc, week, k, ends), market=market)
        for today in state:
            if today.arm not in open_:
                continue
            for key, target in targets.items():
                value = today.jss if key.startswith("jss") else _rounded(today.stars)
                if found[today.arm][key] is None and value >= target:
                    found[today.arm][key] = {"ratings": k, "week": week}
    out: dict[str, Any] = {}
    flagged = [i for i, h in enumerate(sc.history) if h.flagged]
    windows = sorted(set(sc.jss.windows) | set(sc.jss.trending), reverse=True)
    for today in signals_today(_after(sc, 0, 0, ends), market=market):
        leaves = {}
        for w in windows:
            counted = [i for i in flagged if today.counted_jss[i]]
            leaves[str(w)] = (
                max(w - sc.history[i].ended_weeks_ago for i in counted) if counted else None
            )
        out[today.arm] = {
            "targets": found[today.arm],
            "disputed_leaves_window": leaves,
            "contract_weeks": c,
        }
    return out


def _weeks_to_check(sc: Scenario, ends: list[int]) -> list[int]:
    """Weeks at which a signal can change without a further contract ending, and those at
    which one ends: a rule acting (its delay), old feedback leaving a JSS window (shown from
    the next JSS update)."""
    u = sc.jss.update_weeks
    events = {0, *ends}
    events |= {getattr(a, "delay_weeks", 0) or 0 for a in sc.arms}
    for h in sc.history:
        for w in (*sc.jss.windows, *sc.jss.trending):
            leaves = w - h.ended_weeks_ago
            if leaves > 0:
                events.add(-(-leaves // u) * u)
    return sorted(e for e in events if e < sc.run.weeks)


def _rounded(stars: float) -> float:
    return -math.inf if math.isnan(stars) else math.floor(stars * 100.0 + 0.5) / 100.0
