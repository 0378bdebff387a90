"""A population of freelancers and clients (the policy lab): the `[population]` schema."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_TYPES", "Population", "PopulationClients", "PopulationReports", "WorkerType"]

MAX_TYPES = 20


class _Model(BaseModel):
    # as sim.scenario's models: frozen, no unknown keys, no NaN or infinities
    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )


Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def _sums_to_one(q: tuple[float, ...]) -> tuple[float, ...]:
    if not math.isclose(sum(q), 1.0, abs_tol=1e-6):
        raise ValueError(f"the five probabilities must sum to 1 (they sum to {sum(q):.6g})")
    return q


# P(1..5 stars) on an honest client's rating: a freelancer's quality, hers or a type's
Quality = Annotated[
    tuple[Probability, Probability, Probability, Probability, Probability],
    AfterValidator(_sums_to_one),
]


class WorkerType(_Model):
    """One type of freelancer along the path axis: her share of the population and the stars an
    honest client gives her work."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")
    share: Probability = Field(description="[A] share of the population of this type")
    quality: Quality = Field(description="[A] P(1..5 stars) from an honest client on her work")
    poor: bool = Field(
        False, description="genuinely poor work: her fair low ratings are the signal clients need"
    )

    @property
    def mean_stars(self) -> float:
        """Her true quality: the expected stars of an honest client's rating."""
        return float(sum((s + 1) * p for s, p in enumerate(self.quality)))


DEFAULT_TYPES = (
    WorkerType(name="ordinary", share=0.85, quality=(0.01, 0.01, 0.03, 0.10, 0.85)),
    WorkerType(name="poor", share=0.15, quality=(0.20, 0.25, 0.25, 0.15, 0.15), poor=True),
)


class PopulationClients(_Model):
    """Clients beyond the ordinary and the harsh (those stay `market.harsh_client_share` and
    `market.harsh_client_shift`): coercive clients who push work off the platform."""

    coercive_share: Probability = Field(
        0.02, description="[A] clients who push work off the platform (she refuses)"
    )
    retaliation_probability: Probability = Field(
        0.5, description="[A] refused, a coercive client leaves a retaliatory rating"
    )
    retaliation_stars: int = Field(
        3,
        ge=1,
        le=5,
        description="[A] the retaliatory rating (at most what the work earned): the reference "
        "case's 3.4 as a whole star",
    )
    coercive_suspended: Probability = Field(
        0.3, description="[A] share of coercive clients suspended later (rule suspended_client)"
    )


class PopulationReports(_Model):
    """Report and review: the freelancer reports low ratings, support upholds some (the
    exclude_flagged arm removes those upheld, its `delay_weeks` after they arrive)."""

    unfair: Probability = Field(0.8, description="[A] share of unfair low ratings she reports")
    fair: Probability = Field(0.1, description="[A] share of fair low ratings reported anyway")
    upheld_unfair: Probability = Field(
        0.6, description="[A] support upholds a report of an unfair rating"
    )
    upheld_fair: Probability = Field(0.05, description="[A] support upholds a report of a fair one")


class Population(_Model):
    """Freelancers of several types (true quality, some genuinely poor) and clients of several
    types; absent, the scenario is the single case (one freelancer, `freelancer.quality`)."""

    types: tuple[WorkerType, ...] = Field(DEFAULT_TYPES, min_length=1, max_length=MAX_TYPES)
    clients: PopulationClients = PopulationClients()
    reports: PopulationReports = PopulationReports()

    @field_validator("types")
    @classmethod
    def _types_consistent(cls, types: tuple[WorkerType, ...]) -> tuple[WorkerType, ...]:
        total = sum(t.share for t in types)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            shares = ", ".join(f"{t.name} {t.share:g}" for t in types)
            raise ValueError(f"the shares must sum to 1 (they sum to {total:.6g}: {shares})")
        names = [t.name for t in types]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"names must be unique ({', '.join(dupes)} repeated)")
        return types
