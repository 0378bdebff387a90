"""The plan: plain numbers and arrays derived once from a scenario, everything the engine reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .design import Design, make_design
from .population_engine import PopulationPlan, population_plan
from .scenario import Scenario

__all__ = ["Plan", "make_plan"]


@dataclass(frozen=True)
class Plan:
    """Plain numbers and arrays derived once from a scenario: everything the kernel reads."""

    sc: Scenario
    weeks: int
    capacity: int
    slots: int
    delay_max: int
    ordinals: int
    gross: float
    net: float
    log_price: float
    # history, oldest first; only entries with feedback matter for signals
    h_stars: np.ndarray
    h_has_feedback: np.ndarray
    h_value: np.ndarray
    h_age: np.ndarray
    h_flagged: np.ndarray
    h_client_count: np.ndarray  # the client's record with other freelancers:
    h_client_given: np.ndarray  # mean rating given (NaN: unknown)
    h_client_received: np.ndarray  # mean feedback received (NaN: unknown)
    h_suspended: np.ndarray
    h_client_groups: np.ndarray | None  # (H, clients) one-hot when a client name repeats
    tenure0: int  # weeks since the first history contract ended (-1: no history)
    windows: tuple[int, ...]  # distinct JSS windows, ascending
    star_edges: np.ndarray  # cumsum(quality)[:4] in float64: stars = 1 + #(edges <= u)
    harsh_rated: bool  # some clients are harsh and take stars off what she earns
    design: Design | None = None  # assumption uncertainty: the run's design (sim/design.py)
    population: PopulationPlan | None = None  # freelancer and client types (sim/population.py)


def make_plan(sc: Scenario, uncertain: bool = True) -> Plan:
    """The scenario's plan; with ``uncertainty.on`` (and ``uncertain``) its design too, and
    capacity, proposal slots and harsh clients sized for the design's largest."""
    f, hist = sc.freelancer, sc.history
    design = make_design(sc) if uncertain and sc.uncertainty.on else None
    capacity, slots = f.capacity, f.proposals_per_week
    harsh = sc.market.harsh_client_share > 0
    if design is not None:
        capacity, slots = int(design.capacity.max()), int(design.proposals.max())
        harsh = bool((design.harsh_share > 0).any())
    stars = sc.history_stars()
    names = [h.client for h in hist]
    groups = None
    if len(set(names)) < len(names):
        uniq = sorted(set(names))
        groups = np.array([[n == u for u in uniq] for n in names], dtype=float)
    windows = tuple(sorted(set(sc.jss.windows) | set(sc.jss.trending)))
    return Plan(
        sc=sc,
        weeks=sc.run.weeks,
        capacity=capacity,
        slots=slots,
        delay_max=sc.signals.feedback_delay_weeks,
        ordinals=capacity * sc.run.weeks,
        gross=f.weekly_gross,
        net=f.weekly_gross * (1.0 - f.service_fee),
        log_price=float(np.log(f.hourly_rate / sc.market.market_rate)),
        h_stars=stars,
        h_has_feedback=~np.isnan(stars),
        h_value=np.array([h.value for h in hist], dtype=float),
        h_age=np.array([h.ended_weeks_ago for h in hist], dtype=np.int64),
        h_flagged=np.array([h.flagged for h in hist], dtype=bool),
        h_client_count=np.array([h.client_ratings_given for h in hist], dtype=np.int64),
        h_client_given=_known([h.client_mean_given for h in hist]),
        h_client_received=_known([h.client_mean_received for h in hist]),
        h_suspended=np.array([h.client_suspended for h in hist], dtype=bool),
        h_client_groups=groups,
        tenure0=max((h.ended_weeks_ago for h in hist), default=-1),
        windows=windows,
        star_edges=np.cumsum(np.asarray(f.quality, dtype=np.float64))[:4],
        harsh_rated=harsh and sc.market.harsh_client_shift > 0,
        design=design,
        population=population_plan(sc),
    )


def _known(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)
