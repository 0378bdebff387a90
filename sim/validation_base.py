"""What every validation check shares: settings, the report's row, the registry entry, verdicts."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .scenario import Scenario

PASS, FAIL, NOT_COMPARABLE = "pass", "fail", "not comparable"
FAST_PATHS = 1024  # the fast subset (make test)
FULL_PATHS = 10_000  # the report (make validate), the project's default run.paths
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SCEPTICAL_PRESET = SCENARIOS / "sceptical-buyers.toml"


@dataclass(frozen=True)
class Settings:
    """What a check may vary: paths for simulated checks, the seed, and the calibration."""

    paths: int = FULL_PATHS
    seed: int | None = None  # None: the base scenario's own seed
    base: Scenario = field(default_factory=Scenario)  # the default calibration

    @property
    def run_seed(self) -> int:
        return self.base.run.seed if self.seed is None else self.seed


@dataclass(frozen=True)
class Row:
    """One line of the report. ``reason`` says in one line why a row does not pass;
    ``explanation`` is the longer honest account printed below the table."""

    id: str
    title: str
    published: str
    source: str
    model: str
    method: str
    tolerance: str
    status: str
    reason: str = ""
    explanation: str = ""
    values: dict[str, float] = field(default_factory=dict)  # the figures, for tests


@dataclass(frozen=True)
class Check:
    """A registered check; ``fast`` ones run in ``make test`` with few paths."""

    id: str
    func: Callable[[Settings], Row]
    fast: bool
    simulated: bool  # uses paths (Monte Carlo) rather than closed forms


def _verdict(ok: bool, reason: str) -> tuple[str, str]:
    return (PASS, "") if ok else (FAIL, reason)


def _within(x: float, target: float, rel: float) -> bool:
    return math.isfinite(x) and abs(x - target) <= rel * abs(target)


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))
