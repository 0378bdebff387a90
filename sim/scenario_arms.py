"""The scenario's [[arms]]: one pydantic model per rule, the rule names, the keys each takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .scenario_sections import MAX_WEEKS, Probability, Stars, StrictModel

__all__ = [
    "AGAINST_HELP",
    "ARM_MODELS",
    "RULE_ALIASES",
    "RULE_NAMES",
    "SCOPE_HELP",
    "Aggregator",
    "Arm",
    "DropBelowArm",
    "ExcludeFlaggedArm",
    "FlaggedClientArm",
    "KeepArm",
    "OracleArm",
    "Scope",
    "SuspendedClientArm",
    "WhitbyArm",
    "WindowArm",
    "WithoutUnfairArm",
    "arm_keys_for",
    "default_arms",
]

Aggregator = Literal["mean", "median", "bayesian", "beta", "wilson", "star_lower_bound"]


Scope = Literal["all", "jss"]
SCOPE_HELP = "what the removed feedback stops counting in: all (stars and JSS) or jss (JSS only)"
AGAINST_HELP = "remove only feedback that counts against her (stars below jss.success_at)"


class _ArmBase(StrictModel):
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


def default_arms() -> tuple[Any, ...]:
    """The arms of a scenario that names none: feedback kept, and excluded once reported."""
    return (
        KeepArm(name="kept", rule="keep"),
        ExcludeFlaggedArm(name="excluded", rule="exclude_flagged"),
    )
