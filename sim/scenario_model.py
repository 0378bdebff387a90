"""`Scenario`: its sections and arms, the checks across them, derived values, memory estimate."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from .feedback import check_stars_agree, contract_score
from .population import Population
from .scenario_arms import Arm, default_arms
from .scenario_sections import (
    MAX_HISTORY,
    Freelancer,
    Hiring,
    HistoryEntry,
    JSSSettings,
    Market,
    RunSettings,
    Signals,
    StrictModel,
    Uncertainty,
)

__all__ = ["MEMORY_BUDGET_BYTES", "Scenario", "estimate_memory_bytes", "job_ring_weeks"]

MEMORY_BUDGET_BYTES = 8 * 2**30  # refuse a run estimated above this, before allocating


class Scenario(StrictModel):
    """A complete, validated question: a freelancer's history, the market, the arms to compare."""

    name: str = Field("Untitled scenario", min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    today: datetime.date | None = Field(
        None,
        description="the day weeks are counted from (a contract's `ended` date, the calendar "
        "dates of the outputs); empty: the day it is run, which `repsim run` and the dashboard "
        "write into the scenario they save",
    )
    run: RunSettings = RunSettings()
    freelancer: Freelancer = Freelancer()
    history: tuple[HistoryEntry, ...] = Field((), max_length=MAX_HISTORY)
    arms: tuple[Arm, ...] = Field(default_factory=default_arms, min_length=1, max_length=12)
    signals: Signals = Signals()
    hiring: Hiring = Hiring()
    market: Market = Market()
    jss: JSSSettings = JSSSettings()
    uncertainty: Uncertainty = Uncertainty()
    population: Population | None = Field(
        None, description="freelancers and clients of several types (absent: the single case)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        self._date_history()
        names = [a.name for a in self.arms]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"arms: names must be unique ({', '.join(dupes)} repeated)")
        for i, h in enumerate(self.history):
            if h.stars is not None and h.criteria is not None:
                try:
                    check_stars_agree(h.stars, h.criteria, self.signals.criteria_weights)
                except ValueError as e:
                    raise ValueError(f"history[{i}]: {e}") from None
        if self.run.chunk_paths % 256:
            raise ValueError("run.chunk_paths: must be a multiple of 256")
        need = estimate_memory_bytes(self)
        if need > MEMORY_BUDGET_BYTES:
            raise ValueError(
                f"run: this run needs about {need / 2**30:.1f} GiB, over the "
                f"{MEMORY_BUDGET_BYTES / 2**30:.0f} GiB budget; lower run.paths or run.weeks"
            )
        return self

    def _date_history(self) -> None:
        """Dated contracts get their `ended_weeks_ago` from `today` (set to the day it is read
        when a contract is dated and `today` is not given). Runs once, on this new instance."""
        if not any(h.ended is not None for h in self.history):
            return
        today = self.today or datetime.date.today()
        history = []
        for i, h in enumerate(self.history):
            if h.ended is None:
                history.append(h)
                continue
            days = (today - h.ended).days
            if days < 0:
                raise ValueError(
                    f"history[{i}].ended: {h.ended.isoformat()} is after today "
                    f"({today.isoformat()}); give the day the contract ended"
                )
            if days // 7 > 10_000:
                raise ValueError(f"history[{i}].ended: more than 10,000 weeks before today")
            history.append(h.model_copy(update={"ended_weeks_ago": days // 7}))
        # the instance is being built: nothing else holds it yet
        object.__setattr__(self, "today", today)
        object.__setattr__(self, "history", tuple(history))

    # -- derived, plain values the engine reads -------------------------------------------
    def history_stars(self) -> np.ndarray:
        """Each past contract's stars (NaN where no feedback was left), oldest first."""
        out = np.full(len(self.history), np.nan)
        for i, h in enumerate(self.history):
            if h.stars is not None:
                out[i] = h.stars
            elif h.criteria is not None:
                out[i] = contract_score(h.criteria, self.signals.criteria_weights)
        return out

    def aggregator_of(self, arm: Any) -> str:
        """The stars aggregator an arm uses: its own, else the scenario's."""
        return arm.aggregator or self.signals.aggregator

    def arm_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.arms)

    def sha256(self) -> str:
        from .scenario_files import scenario_sha256  # it imports this module: not at the top

        return scenario_sha256(self)


def job_ring_weeks(sc: Scenario, last_weeks: int = 0) -> int:
    """Weeks of end-week JSS buckets the engine keeps for an arm: the longest JSS window a
    contract can leave within the horizon (one ending at week 0 or later never leaves a window as
    long as the horizon), a last-weeks rule or the feedback delay, plus one."""
    leaving = [w for w in (*sc.jss.windows, *sc.jss.trending) if w < sc.run.weeks]
    return max([*leaving, last_weeks, sc.signals.feedback_delay_weeks]) + 1


def estimate_memory_bytes(sc: Scenario) -> int:
    """Peak bytes a run is expected to need (`sim.memory`); checked before allocating."""
    from .memory import estimate_bytes

    return estimate_bytes(sc)
