"""The scenario schema (pydantic, frozen, extra="forbid"), its defaults, and TOML load/save."""

from __future__ import annotations

import datetime
import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import tomli_w
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from ._input import (
    MAX_FILE_BYTES,
    InputProblem,
    check_toml_dates,
    key_text,
    parse_toml,
    read_capped,
    to_json,
)
from .feedback import CRITERIA, check_stars_agree, contract_score
from .population import Population, Quality

__all__ = [
    "Arm",
    "Freelancer",
    "Hiring",
    "HistoryEntry",
    "JSSSettings",
    "Market",
    "RunSettings",
    "Scenario",
    "ScenarioError",
    "Signals",
    "load_scenario",
    "save_scenario",
    "scenario_sha256",
    "with_today",
]

MAX_PATHS = 10_000_000
MAX_WEEKS = 1040  # twenty years
MAX_HISTORY = 2000
MEMORY_BUDGET_BYTES = 8 * 2**30  # refuse a run estimated above this, before allocating


class ScenarioError(ValueError):
    """A scenario that cannot be used; `problems` holds one (source, dotted key, message) each."""

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """One line per problem: `file: key: what is wrong`."""
        out = []
        for source, key, message in self.problems:
            head = ": ".join(part for part in (source, key) if part)
            out.append(f"{head}: {message}" if head else message)
        return out


class _Model(BaseModel):
    # NaN and infinities are refused in every number field (allow_inf_nan), whatever the source
    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Stars = Annotated[float, Field(ge=1.0, le=5.0)]
Criterion = Annotated[float, Field(ge=1.0, le=5.0)]


class RunSettings(_Model):
    """How many futures, how far, from which seed."""

    paths: int = Field(10_000, ge=1, le=MAX_PATHS, description="futures simulated per arm")
    weeks: int = Field(104, ge=1, le=MAX_WEEKS, description="horizon in weeks")
    seed: int = Field(20260917, ge=0, lt=2**63, description="root of every random draw")
    chunk_paths: int = Field(
        16384,
        ge=256,
        le=1_000_000,
        description="paths per chunk (memory bound; no effect on results)",
    )


class Freelancer(_Model):
    """The freelancer's offer and the quality of their future work."""

    hourly_rate: float = Field(20.0, gt=0, le=10_000, description="[A] dollars per hour")
    hours_per_week: float = Field(20.0, gt=0, le=80, description="[A] hours on each contract")
    capacity: int = Field(2, ge=1, le=10, description="[A] most contracts held at once")
    proposals_per_week: int = Field(10, ge=0, le=100, description="[A] sent while under capacity")
    quality: Quality = Field(
        (0.003, 0.003, 0.009, 0.085, 0.90),
        description="[L, D] P(1..5 stars) from ordinary clients on future contracts; with harsh "
        "clients mixed in she receives a mean of 4.84 and 88% five-star, the field's (Filippas, "
        "Horton & Golden 2022)",
    )
    service_fee: float = Field(0.10, ge=0, lt=1, description="[P] platform fee, 10% since May 2023")

    @property
    def weekly_gross(self) -> float:
        """Gross dollars one active contract pays per week."""
        return self.hourly_rate * self.hours_per_week


class HistoryEntry(_Model):
    """One past contract; `stars`, `criteria`, both (they must agree) or neither (no feedback).

    When it ended: `ended_weeks_ago` (whole weeks) or `ended` (a date). A dated contract's
    `ended_weeks_ago` is worked out by the `Scenario` from its `today` (whole weeks, rounded
    down) and is not written back: the file keeps the date.
    """

    client: str = Field(min_length=1, max_length=200)
    stars: Stars | None = None
    criteria: dict[str, Criterion] | None = None
    value: float = Field(gt=0, le=10_000_000, description="dollars paid on the contract")
    ended_weeks_ago: int | None = Field(
        None, ge=0, le=10_000, description="whole weeks from the contract's end to today"
    )
    ended: datetime.date | None = Field(
        None, description="the day the contract ended (instead of ended_weeks_ago)"
    )
    flagged: bool = Field(False, description="the disputed feedback (reported to the platform)")
    client_ratings_given: int = Field(
        0, ge=0, le=100_000, description="client's earlier rated contracts with other freelancers"
    )
    client_mean_given: Stars | None = Field(
        None, description="the client's average rating given to those freelancers"
    )
    client_mean_received: Stars | None = Field(
        None, description="the client's average feedback received from those freelancers"
    )
    client_suspended: bool = Field(False, description="the client is known to be suspended")

    @field_validator("criteria")
    @classmethod
    def _known_criteria(cls, c: dict[str, float] | None) -> dict[str, float] | None:
        if c is None:
            return c
        unknown = sorted(set(c) - set(CRITERIA))
        missing = [k for k in CRITERIA if k not in c]
        if unknown:
            raise ValueError(f"unknown criteria {unknown}; expected {list(CRITERIA)}")
        if missing:
            raise ValueError(f"missing criteria {missing}")
        return {k: c[k] for k in CRITERIA}

    @model_validator(mode="after")
    def _record_complete(self) -> HistoryEntry:
        known = self.client_mean_given is not None or self.client_mean_received is not None
        if self.client_ratings_given > 0 and not known:
            raise ValueError(
                "give client_mean_given or client_mean_received when client_ratings_given > 0"
            )
        if self.flagged and self.stars is None and self.criteria is None:
            raise ValueError("a flagged contract needs its feedback: give stars or criteria")
        if self.ended is not None and self.ended_weeks_ago is not None:
            raise ValueError("give ended (a date) or ended_weeks_ago (weeks), not both")
        if self.ended is None and self.ended_weeks_ago is None:
            raise ValueError("give when it ended: ended_weeks_ago (whole weeks) or ended (a date)")
        return self

    @model_serializer(mode="wrap")
    def _dated_keeps_its_date(self, handler: Any) -> Any:
        data = handler(self)
        if self.ended is not None and isinstance(data, dict):
            data.pop("ended_weeks_ago", None)  # worked out from the date: not a second source
        return data


class Signals(_Model):
    """What clients see, and how it is computed from the counted feedback."""

    aggregator: Literal["mean", "median", "bayesian", "beta", "wilson", "star_lower_bound"] = Field(
        "mean", description="[P] dollar-weighted mean (oDesk 2006); the others [L]"
    )
    weighting: Literal["value", "count"] = Field(
        "value", description="[P] weight each contract's stars by its dollar value"
    )
    shown: Literal["both", "stars", "jss"] = Field("both", description="signals clients see")
    prior_mean: Stars = Field(4.5, description="[A] Bayesian average: prior stars")
    prior_weight: float = Field(5.0, ge=0, le=10_000, description="[A] Bayesian: prior ratings")
    forgetting: float = Field(1.0, gt=0, le=1, description="[L] Beta reputation: per week of age")
    positive_at: Stars = Field(4.0, description="[A] Wilson: stars counted as positive")
    z: float = Field(1.65, gt=0, le=5, description="[L] lower-bound confidence z")
    feedback_rate: Probability = Field(0.82, description="[L] share of contracts rated")
    feedback_delay_weeks: int = Field(2, ge=0, le=4, description="[P] double-blind, up to 14 days")
    criteria_weights: dict[str, float] = Field(
        default_factory=lambda: dict.fromkeys(CRITERIA, 1.0),
        description="[A] the platform's weights are unequal and unpublished",
    )

    @field_validator("criteria_weights")
    @classmethod
    def _weights_valid(cls, w: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(w) - set(CRITERIA))
        if unknown:
            raise ValueError(f"unknown criteria {unknown}; expected {list(CRITERIA)}")
        full = {k: float(w.get(k, 1.0)) for k in CRITERIA}
        if any(v < 0 or not math.isfinite(v) for v in full.values()) or sum(full.values()) <= 0:
            raise ValueError("weights must be finite, non-negative, with a positive sum")
        return full


class Hiring(_Model):
    """Conditional-logit coefficients of the hiring model (MODEL.md)."""

    b_stars: float = Field(0.57, ge=0, le=10, description="[D] Yoganarasimhan 2013, per star")
    b_stars_half_at_reviews: float = Field(
        0.0,
        ge=0,
        le=10_000,
        description="[A] stars count half at this many reviews (0: full); above 0 a small "
        "5-star contract can lower the win probability of a freelancer below the market's stars "
        "(Resnick et al. 2006's sceptical buyers)",
    )
    b_reviews: float = Field(
        0.136, ge=0, le=10, description="[D] per unit of ln(1 + five-star-equivalent reviews)"
    )
    b_jss: tuple[float, float, float, float] = Field(
        (0.0, -0.3, -0.6, -1.0),
        description="[A] JSS >= 90, 80-89, 75-79, < 75 (no feedback in any window: 0)",
    )
    b_top_rated: float = Field(0.69, ge=0, le=10, description="[A] ln 2, platform report [P]")
    b_rising_talent: float = Field(
        0.0,
        ge=-10,
        le=10,
        description="[A] over the JSS band its feedback implies; other than 0, a 5-star "
        "contract that makes a JSS appear (ending Rising Talent) can lower the win probability, "
        "or a 1-star raise it",
    )
    b_price: float = Field(-1.0, ge=-10, le=10, description="[A] per unit of ln(rate / market)")
    known_win_rate: Probability | None = Field(
        None, description="solve the intercept so today's win rate equals this"
    )

    @field_validator("b_jss")
    @classmethod
    def _finite(cls, b: tuple[float, ...]) -> tuple[float, ...]:
        if any(abs(x) > 10 for x in b):
            raise ValueError("each coefficient must be between -10 and 10")
        # a better JSS is never worth less, and "no feedback in any window" (0) lies between
        # the best and the worst band: otherwise a 5-star could lower the win probability
        if any(hi < lo for hi, lo in itertools.pairwise(b)):
            raise ValueError(
                "must not increase from a higher JSS band to a lower one (>= 90, 80-89, 75-79, "
                f"< 75; got {list(b)}): a better score would lower the chance to win"
            )
        if b[0] < 0 or b[-1] > 0:
            raise ValueError(
                f"the band >= 90 must be at least 0 and the band < 75 at most 0 (got {list(b)}): "
                "0 is the term of a freelancer with no feedback in any window"
            )
        return b


class Market(_Model):
    """The competitor field, contract lengths and client behaviour."""

    competitors: int = Field(25, ge=0, le=1000, description="[A] other applicants per job")
    hire_share: float = Field(0.5, gt=0, lt=1, description="[A] share of jobs ending in a hire")
    competitor_stars_mean: Stars = Field(4.85, description="[L] the inflated market")
    competitor_stars_sd: float = Field(0.15, ge=0, le=2, description="[L, A]")
    competitor_reviews_median: float = Field(8.0, gt=0, le=100_000, description="[A]")
    competitor_reviews_sigma: float = Field(1.0, ge=0, le=5, description="[A] log-normal sigma")
    competitor_jss_bands: tuple[Probability, Probability, Probability, Probability, Probability] = (
        Field(
            (0.44, 0.24, 0.08, 0.19, 0.05),
            description="[D] >=90, 80-89, 75-79, <75, none: freelancers of her quality with the "
            "field's review counts (sim.calibration.field_jss_bands)",
        )
    )
    competitor_top_rated_share: Probability = Field(0.3, description="[A] of those at JSS >= 90")
    competitor_price_sigma: float = Field(0.3, ge=0, le=5, description="[A] sd of ln(rate)")
    market_rate: float = Field(20.0, gt=0, le=10_000, description="[A] dollars per hour")
    field_size: int = Field(4096, ge=16, le=1_000_000, description="jobs sampled into the table")
    contract_weeks: float = Field(4.0, ge=1, le=520, description="[A] mean, geometric")
    client_suspension_rate: Probability = Field(0.0, description="[A] future clients suspended")
    client_ratings_given_mean: float = Field(
        5.0, ge=0, le=10_000, description="[A] clients' earlier rated contracts (geometric mean)"
    )
    harsh_client_share: Probability = Field(
        0.02, description="[A] clients of the harsh type: they rate her and others harshly"
    )
    harsh_client_shift: int = Field(
        2, ge=0, le=4, description="[A] stars a harsh client takes off what she earns (at least 1)"
    )
    harsh_client_mean: Stars = Field(2.8, description="[A] harsh clients' average given rating")
    client_mean_given: Stars = Field(4.8, description="[A] other clients' average given")
    harsh_client_mean_received: Stars = Field(
        2.8, description="[A] harsh clients' average feedback received from freelancers"
    )
    client_mean_received: Stars = Field(
        4.8, description="[A] other clients' average feedback received from freelancers"
    )

    @model_validator(mode="after")
    def _field_fits(self) -> Market:
        if self.field_size * max(self.competitors, 1) > 20_000_000:
            raise ValueError(
                "field_size x competitors must be at most 20,000,000 applicants to sample "
                f"(got {self.field_size:,} x {self.competitors:,})"
            )
        return self

    @field_validator("competitor_jss_bands")
    @classmethod
    def _bands_sum(cls, b: tuple[float, ...]) -> tuple[float, ...]:
        if not math.isclose(sum(b), 1.0, abs_tol=1e-6):
            raise ValueError(f"the five shares must sum to 1 (they sum to {sum(b):.6g})")
        return b


class JSSSettings(_Model):
    """Job Success Score: the published shape with assumed thresholds (MODEL.md)."""

    success_at: Stars = Field(4.5, description="[A] stars at or above: a success")
    fail_below: Stars = Field(4.0, description="[A] stars below: a failure")
    windows: tuple[int, ...] = Field((104, 52, 26), description="[P] weeks")
    trending: tuple[int, ...] = Field((26, 13), description="[P] weeks, averaged")
    min_contracts: int = Field(2, ge=1, le=100, description="[P]")
    min_clients: int = Field(2, ge=1, le=100, description="[P]")
    update_weeks: int = Field(2, ge=1, le=52, description="[P] recomputed every 2 weeks")

    @field_validator("windows", "trending")
    @classmethod
    def _windows_valid(cls, w: tuple[int, ...]) -> tuple[int, ...]:
        if not w or any(x < 1 or x > 520 for x in w):
            raise ValueError("give one or more windows, each 1 to 520 weeks")
        return tuple(w)

    def closed_form_args(self) -> dict[str, Any]:
        """The keyword arguments of `reputation.job_success_score` these settings stand for."""
        return self.model_dump(exclude={"update_weeks"})

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> JSSSettings:
        if self.fail_below > self.success_at:
            raise ValueError("fail_below must not exceed success_at")
        return self


Aggregator = Literal["mean", "median", "bayesian", "beta", "wilson", "star_lower_bound"]


Scope = Literal["all", "jss"]
SCOPE_HELP = "what the removed feedback stops counting in: all (stars and JSS) or jss (JSS only)"
AGAINST_HELP = "remove only feedback that counts against her (stars below jss.success_at)"


class _ArmBase(_Model):
    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")
    aggregator: Aggregator | None = Field(
        None, description="this arm's stars aggregator; default: signals.aggregator"
    )


class KeepArm(_ArmBase):
    rule: Literal["keep"]


class ExcludeFlaggedArm(_ArmBase):
    rule: Literal["exclude_flagged"]
    delay_weeks: int = Field(0, ge=0, le=MAX_WEEKS, description="support queue before removal")
    scope: Scope = Field("all", description=f"[P] {SCOPE_HELP}")


class FlaggedClientArm(_ArmBase):
    rule: Literal["flagged_client"]
    threshold: Stars = Field(3.0, description="[A] flag clients whose average is below this")
    min_ratings: int = Field(3, ge=1, le=10_000, description="[A] over at least this many ratings")
    flag_on: Literal["received", "given"] = Field(
        "received",
        description="[P] received: feedback the client receives from freelancers (the "
        "platform's wording); given: ratings the client gives (the forum's wording)",
    )
    scope: Scope = Field("jss", description=f"[P] {SCOPE_HELP}")
    only_against: bool = Field(True, description=f"[P] {AGAINST_HELP}")


class SuspendedClientArm(_ArmBase):
    rule: Literal["suspended_client"]
    probability: Probability = Field(1.0, description="[A] the flagged client is suspended")
    delay_weeks: int = Field(0, ge=0, le=MAX_WEEKS, description="until the suspension counts")
    scope: Scope = Field("jss", description=f"[P] {SCOPE_HELP}")
    only_against: bool = Field(True, description=f"[P] {AGAINST_HELP}")


class WhitbyArm(_ArmBase):
    rule: Literal["whitby"]
    q: float = Field(0.01, gt=0, lt=0.5, description="[L] Whitby, Jøsang & Indulska 2004")
    binary_threshold: Stars | None = Field(None, description="stars counted positive; else graded")


class WindowArm(_ArmBase):
    rule: Literal["window"]
    last_n: int | None = Field(None, ge=1, le=10_000, description="[P] Uber 500, Lyft 100")
    last_weeks: int | None = Field(None, ge=1, le=MAX_WEEKS, description="[P] Fiverr 104")

    @model_validator(mode="after")
    def _exactly_one(self) -> WindowArm:
        if (self.last_n is None) == (self.last_weeks is None):
            raise ValueError("give exactly one of last_n and last_weeks")
        return self


class OracleArm(_ArmBase):
    rule: Literal["oracle"]
    delay_weeks: int = Field(0, ge=0, le=MAX_WEEKS, description="weeks until it removes them")
    scope: Literal["all"] = Field("all", description="removes exactly the unfair ratings: all")


class DropBelowArm(_ArmBase):
    rule: Literal["drop_below"]
    stars: Stars = Field(4.0, description="refuses every rating below this many stars")
    scope: Scope = Field("all", description=SCOPE_HELP)


class WithoutUnfairArm(_ArmBase):
    rule: Literal["without_unfair"]  # the same futures with unfair clients rating what she earned


Arm = Annotated[
    KeepArm
    | ExcludeFlaggedArm
    | FlaggedClientArm
    | SuspendedClientArm
    | WhitbyArm
    | WindowArm
    | OracleArm
    | DropBelowArm
    | WithoutUnfairArm,
    Field(discriminator="rule"),
]
RULE_NAMES = (
    "keep",
    "exclude_flagged",
    "flagged_client",
    "suspended_client",
    "whitby",
    "window",
    "oracle",
    "drop_below",
    "without_unfair",
)
RULE_ALIASES = {"harsh_rater": "flagged_client"}  # earlier names, read from older files
ARM_MODELS = {
    "keep": KeepArm,
    "exclude_flagged": ExcludeFlaggedArm,
    "flagged_client": FlaggedClientArm,
    "suspended_client": SuspendedClientArm,
    "whitby": WhitbyArm,
    "window": WindowArm,
    "oracle": OracleArm,
    "drop_below": DropBelowArm,
    "without_unfair": WithoutUnfairArm,
}


def arm_keys_for(rule: str, arm: Mapping[str, Any]) -> dict[str, Any]:
    """An arm's settings kept to those its ``rule`` takes (used when a rule is switched)."""
    model = ARM_MODELS.get(rule)
    return dict(arm) if model is None else {k: v for k, v in arm.items() if k in model.model_fields}


def _default_arms() -> tuple[Any, ...]:
    return (
        KeepArm(name="kept", rule="keep"),
        ExcludeFlaggedArm(name="excluded", rule="exclude_flagged"),
    )


def _an_assumption(key: str) -> str:
    from .assumptions import ASSUMPTIONS  # the registry lists the keys; it imports nothing

    if key not in {a.key for a in ASSUMPTIONS}:
        raise ValueError("not an assumption with a range (see docs/model.md)")
    return key


def _ordered(r: tuple[float, float]) -> tuple[float, float]:
    if r[0] > r[1]:
        raise ValueError(f"low {r[0]:g} is above high {r[1]:g}")
    return r


# each key and each range checked on its own, so that every bad entry is reported by its key
RangeKey = Annotated[str, AfterValidator(_an_assumption)]
Range = Annotated[tuple[float, float], AfterValidator(_ordered)]


class Uncertainty(_Model):
    """Assumption uncertainty: whether the run draws the assumptions, and ranges that differ from
    sim.assumptions' (narrowed or widened; a key is the setting's dotted path)."""

    on: bool = Field(
        False, description="each block of paths draws its own assumptions from the ranges"
    )
    ranges: dict[RangeKey, Range] = Field(
        default_factory=dict, description="'hiring.b_top_rated' = [low, high], for example"
    )
    points: int = Field(
        32,
        ge=2,
        le=1024,
        description="design points (scrambled Sobol, a power of two): block b of 256 paths "
        "takes point b mod points",
    )

    @field_validator("ranges")
    @classmethod
    def _sorted_within_limits(
        cls, r: dict[str, tuple[float, float]]
    ) -> dict[str, tuple[float, float]]:
        if r:
            from .design import range_problem  # imports this module: not at the top

            for key, (low, high) in r.items():
                problem = range_problem(key, low, high)
                if problem:  # drawn by the run or the tornado: within the setting's own limits
                    raise ValueError(problem)
        return dict(sorted(r.items()))

    @field_validator("points")
    @classmethod
    def _power_of_two(cls, k: int) -> int:
        if k & (k - 1):
            raise ValueError(f"must be a power of two (a Sobol design's balance; got {k})")
        return k


class Scenario(_Model):
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
    arms: tuple[Arm, ...] = Field(default_factory=_default_arms, min_length=1, max_length=12)
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


# -- files ---------------------------------------------------------------------------------


def _dotted(loc: tuple[int | str, ...]) -> str:
    """`("history", 1, "stars")` -> `history[1].stars`; drop pydantic's union tags."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            continue  # pydantic's mark of a problem with a table's key rather than its value
        elif i >= 2 and loc[i - 2] == "arms" and isinstance(loc[i - 1], int) and part in RULE_NAMES:
            continue  # discriminated-union tag, not a key the user wrote
        else:
            out += f".{key_text(part)}" if out else key_text(part)
    return out


# strict-mode type errors, worded as `--set` words them
_EXPECTED = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
}


def _shown(value: Any) -> str:
    """A value as the user wrote it in TOML (true, "20", 2.5), cut short."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "tuple_type" and isinstance(err.get("input"), dict):
        return "expected an array of tables: write [[name]] for each entry, not [name]"
    value = err.get("input")
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number (got {value})"
    if err["type"] in _EXPECTED and not isinstance(value, dict | list):
        return f"expected {_EXPECTED[err['type']]}, got {_shown(value)}"
    if err["type"] == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag", err["input"])
        return f"unknown rule {tag!r}; expected one of {', '.join(RULE_NAMES)}"
    if err["type"] == "union_tag_not_found":
        return f"missing 'rule' (one of {', '.join(RULE_NAMES)})"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] not in ("value_error", "assertion_error") and "input" in err:
        shown = repr(err["input"])
        if len(shown) <= 40 and not isinstance(err["input"], dict | list):
            msg += f" (got {shown})"
    return msg


def problems_from(error: ValidationError, source: str = "") -> list[tuple[str, str, str]]:
    """Every problem of a pydantic error as (source, dotted key, message)."""
    errors = error.errors()
    item_errors = {tuple(e["loc"])[:1] for e in errors if len(e["loc"]) > 1}
    out: list[tuple[str, str, str]] = []
    missing: dict[tuple, list[int]] = {}
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "too_short" and loc in item_errors:
            continue  # a follow-on of invalid items, already reported by their own keys
        if e["type"] == "missing" and loc and isinstance(loc[-1], int):
            missing.setdefault(loc[:-1], []).append(loc[-1])  # a short fixed-length array
            continue
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "rule")  # the problem is the arm's rule key, not the whole arm
        out.append((source, _dotted(loc), _message(e)))
    for parent, indices in missing.items():
        need = max(indices) + 1
        out.append((source, _dotted(parent), f"expected {need} values, got {min(indices)}"))
    return out


def with_current_names(data: Any) -> Any:
    """Older files name the flagged-client rule `harsh_rater`: read it as `flagged_client`."""
    arms = data.get("arms") if isinstance(data, Mapping) else None
    if not isinstance(arms, list | tuple):
        return data

    def old(a: Any) -> bool:
        return (
            isinstance(a, Mapping) and isinstance(a.get("rule"), str) and a["rule"] in RULE_ALIASES
        )

    if not any(old(a) for a in arms):
        return data
    renamed = [{**a, "rule": RULE_ALIASES[a["rule"]]} if old(a) else a for a in arms]
    return {**data, "arms": renamed}


SINGLE_ARM = (
    "give at least two rules to compare: the first is the reference, each other one is "
    "compared with it"
)


def validate_scenario(data: Mapping[str, Any], source: str = "") -> Scenario:
    """A `Scenario` from a mapping, or `ScenarioError` listing every problem with its key.

    Strict, like `--set`: no booleans or strings where numbers belong, no floats where integers
    do, no NaN or infinity; nesting deeper than a scenario has is refused before validating; a
    single arm is refused (there is nothing to compare it with).
    """
    data = with_current_names(data)
    try:
        text = to_json(data)
    except InputProblem as e:
        raise ScenarioError([(source, e.key, e.message)]) from None
    problems: list[tuple[str, str, str]] = []
    try:
        sc = Scenario.model_validate_json(text, strict=True)
    except ValidationError as e:
        problems += problems_from(e, source)
    arms = data.get("arms") if isinstance(data, Mapping) else None
    arm_problem = any(key.startswith("arms") for _, key, _ in problems)
    if isinstance(arms, list | tuple) and len(arms) == 1 and not arm_problem:
        problems.append((source, "arms", f"{SINGLE_ARM} (got 1)"))
    if problems:
        raise ScenarioError(problems)
    return sc


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file; problems name the file and the dotted key.

    Only a regular file of at most `MAX_FILE_BYTES` is read (never a device or a FIFO).
    """
    source = str(path)
    try:
        raw = read_capped(path)
    except InputProblem as e:
        raise ScenarioError([(source, e.key, e.message)]) from None
    return loads_scenario(raw, source)


def loads_scenario(raw: bytes | str, source: str = "<scenario>") -> Scenario:
    """Parse and validate scenario TOML text."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioError([(source, "", "not UTF-8 text")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([(source, "", f"over the {MAX_FILE_BYTES / 2**20:.1f} MB limit")])
    try:
        data = parse_toml(raw)
        check_toml_dates(data)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError([(source, "", f"not valid TOML: {e}")]) from None
    except InputProblem as e:
        raise ScenarioError([(source, e.key, e.message)]) from None
    return validate_scenario(data, source)


def scenario_to_dict(sc: Scenario) -> dict[str, Any]:
    """The scenario as plain TOML-ready data (no None values, tuples as lists, dates as dates)."""
    data = _drop_none(sc.model_dump(mode="json"))
    if sc.today is not None:
        data["today"] = sc.today
    for entry, h in zip(data.get("history", []), sc.history, strict=True):
        if h.ended is not None:
            entry["ended"] = h.ended
    return data


def with_today(sc: Scenario, day: datetime.date | None = None) -> Scenario:
    """The scenario as run on a day: its own `today` if it has one, else `day` (default: the
    day it is run). Outputs are made from this, so the scenario they save reruns to the same
    bytes on any day."""
    if sc.today is not None:
        return sc
    return sc.model_copy(update={"today": day or datetime.date.today()})


def _drop_none(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    return x


def dumps_scenario(sc: Scenario) -> str:
    """The scenario as TOML text that `loads_scenario` reads back to an equal scenario."""
    return tomli_w.dumps(scenario_to_dict(sc))


def save_scenario(sc: Scenario, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the scenario as TOML, atomically; refuse to replace a file unless `overwrite`."""
    from ._files import write_atomic

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: exists; pass overwrite=True to replace it")
    write_atomic(path, dumps_scenario(sc).encode("utf-8"))
    return path


def scenario_sha256(sc: Scenario) -> str:
    """Hash of the scenario's canonical TOML: equal scenarios, equal hashes."""
    return hashlib.sha256(dumps_scenario(sc).encode("utf-8")).hexdigest()
