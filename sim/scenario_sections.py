"""The scenario's sections ([run], [freelancer], [[history]], ...): pydantic models, limits."""

from __future__ import annotations

import datetime
import itertools
import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_serializer,
    model_validator,
)

from .feedback import CRITERIA
from .population import Quality

__all__ = [
    "MAX_HISTORY",
    "MAX_PATHS",
    "MAX_WEEKS",
    "Criterion",
    "Freelancer",
    "Hiring",
    "HistoryEntry",
    "JSSSettings",
    "Market",
    "Probability",
    "Range",
    "RangeKey",
    "RunSettings",
    "Signals",
    "Stars",
    "StrictModel",
    "Uncertainty",
]

MAX_PATHS = 10_000_000
MAX_WEEKS = 1040  # twenty years
MAX_HISTORY = 2000


class StrictModel(BaseModel):
    # NaN and infinities are refused in every number field (allow_inf_nan), whatever the source
    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Stars = Annotated[float, Field(ge=1.0, le=5.0)]
Criterion = Annotated[float, Field(ge=1.0, le=5.0)]


class RunSettings(StrictModel):
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


class Freelancer(StrictModel):
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


class HistoryEntry(StrictModel):
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


class Signals(StrictModel):
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


class Hiring(StrictModel):
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


class Market(StrictModel):
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


class JSSSettings(StrictModel):
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


class Uncertainty(StrictModel):
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
