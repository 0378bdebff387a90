"""The policy lab's plain data: a population run's per-path outcomes, and a rule's measures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .scenario import Scenario

__all__ = ["TRUTHS", "ArmOutcome", "PolicyRun", "RuleMeasures"]

TRUTHS = ("fair", "harsh", "retaliatory")  # a rating's ground truth; unfair: not "fair"


@dataclass(frozen=True)
class ArmOutcome:
    """One arm's outcome on every path of a population run, at the horizon (per-path vectors
    only, never paths x weeks, so that a million freelancers fit in memory)."""

    earnings: np.ndarray  # (paths,) float64 net dollars earned by the horizon
    jobs: np.ndarray  # (paths,) int contracts won
    stars: np.ndarray  # (paths,) float displayed stars at the horizon; NaN: none shown
    jss: np.ndarray  # (paths,) float displayed JSS at the horizon; NaN: none shown
    unfair_lows: np.ndarray  # (paths,) int unfair low ratings received by the horizon
    unfair_stopped: np.ndarray  # (paths,) int of those, not counting at the horizon
    unfair_stop_weeks: np.ndarray  # (paths,) float sum over those stopped of weeks until they did
    fair_lows: np.ndarray  # (paths,) int fair low ratings received by the horizon
    fair_stopped: np.ndarray  # (paths,) int of those, not counting at the horizon


@dataclass(frozen=True)
class PolicyRun:
    """A population's futures under each arm, on common random numbers (sim/policy.py)."""

    scenario: Scenario
    reference: str  # the arm that keeps everything (rule keep)
    oracle: str  # the arm that removes exactly the unfair ratings
    without_unfair: str  # the same futures without unfair ratings (victims' counterfactual)
    quality: np.ndarray  # (paths,) each freelancer's true expected stars
    poor: np.ndarray  # (paths,) bool: a genuinely poor worker (her type says so)
    kind: np.ndarray  # (paths,) int index into the scenario's population types
    outcomes: dict[str, ArmOutcome]  # by arm name, every arm of the run

    @property
    def paths(self) -> int:
        return int(self.quality.shape[0])

    @property
    def blocks(self) -> np.ndarray:
        """Each path's block of random numbers (sim/draws.BLOCK paths): intervals cluster on it."""
        from .draws import BLOCK

        return np.arange(self.paths) // BLOCK


@dataclass(frozen=True)
class RuleMeasures:
    """One rule at one setting, measured on a population (sim/policy_measures.py): each figure
    with its 90% interval (lo, hi). None where there is nothing to measure (no unfair ratings:
    protection; no fair low ratings: signal lost; no victims: harm; no poor workers: gain)."""

    rule: str  # the arm's rule: keep, oracle, exclude_flagged, flagged_client, ...
    arm: str  # the arm's name
    parameter: str | None  # the swept setting, e.g. "threshold" (None: the rule as given)
    value: float | None  # its value
    protection: float | None
    protection90: tuple[float, float] | None
    protection_weeks: float | None
    signal_lost: float | None
    signal_lost90: tuple[float, float] | None
    ranking_stars: float | None
    ranking_stars90: tuple[float, float] | None
    ranking_jss: float | None
    ranking_jss90: tuple[float, float] | None
    victims_harm: float | None
    victims_harm90: tuple[float, float] | None
    poor_gain: float | None
    poor_gain90: tuple[float, float] | None
    hired_quality: float | None
    hired_quality90: tuple[float, float] | None
    unfair_lows: int
    fair_lows: int
