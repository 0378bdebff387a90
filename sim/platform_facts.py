"""The platform's facts that bear on reporting the feedback, each with its source and when checked.

One place for the dashboard's facts panel, the dispute helper's defaults and the case report.
The project's sources (MODEL.md, docs/model.md) cite these facts without a web address and
without the date they were read: a fact without a URL says "not linked", and `checked` stays
None (shown as "not recorded") rather than a date nobody checked it on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ARBITRATION_FEE",
    "BADGE_LOSS_MONTHS",
    "CONVERSION_FEE_SHARE",
    "CONVERSION_FEE_SHARE_FORUM",
    "CONVERSION_HOURS",
    "CONVERSION_MONTHS",
    "FACTS",
    "REPORT_BUSINESS_DAYS",
    "Fact",
    "conversion_fee",
    "wait_weeks",
]

HELP_CENTRE = "platform help centre (not linked)"
FORUM = "community forum thread (not linked)"
CITED_IN = "the project's MODEL.md (2026-11-29)"

REPORT_BUSINESS_DAYS = 7  # a report is decided in about 7 business days
ARBITRATION_FEE = 291.0  # dollars per party
CONVERSION_FEE_SHARE = 0.12  # of the hourly rate x 2,080 hours
CONVERSION_FEE_SHARE_FORUM = 0.135  # the figure a forum thread quotes
CONVERSION_HOURS = 2080  # a full-time year: 52 weeks x 40 hours
CONVERSION_MONTHS = 24  # the non-circumvention period
BADGE_LOSS_MONTHS = 6  # badges lost after payment off the platform


@dataclass(frozen=True)
class Fact:
    """One platform fact: what it says, where it comes from and when it was checked."""

    key: str
    title: str
    text: str
    source: str
    url: str | None = None
    checked: str | None = None  # ISO date the source was read; None: not recorded
    cited_in: str = CITED_IN

    def source_line(self) -> str:
        """`source: ... · checked: ...` in plain words."""
        where = f"{self.source}, {self.url}" if self.url else self.source
        when = self.checked or f"not recorded; cited in {self.cited_in}"
        return f"source: {where} · date checked: {when}"


FACTS: tuple[Fact, ...] = (
    Fact(
        "report",
        "One report per feedback",
        "A feedback can be reported once, for a Terms of Service violation; support decides "
        f"in about {REPORT_BUSINESS_DAYS} business days. An upheld report removes it from the "
        "stars and the Job Success Score.",
        HELP_CENTRE,
    ),
    Fact(
        "arbitration",
        "Arbitration does not review ratings",
        "Arbitration covers payment disputes on fixed-price contracts only, costs about "
        f"${ARBITRATION_FEE:,.0f} per party, and does not review feedback or ratings.",
        HELP_CENTRE,
    ),
    Fact(
        "conversion_fee",
        "Taking a client off the platform costs a conversion fee",
        f"To work with a client off the platform during the {CONVERSION_MONTHS}-month "
        f"non-circumvention period, the fee is {CONVERSION_FEE_SHARE:.0%} of the hourly rate x "
        f"{CONVERSION_HOURS:,} hours (a forum thread quotes {CONVERSION_FEE_SHARE_FORUM:.1%}).",
        f"{HELP_CENTRE}; the 13.5% from a {FORUM}",
    ),
    Fact(
        "badges",
        "Badges are lost after payment off the platform",
        f"A freelancer paid off the platform loses her badges for {BADGE_LOSS_MONTHS} months.",
        HELP_CENTRE,
    ),
)


def conversion_fee(hourly_rate: float, share: float = CONVERSION_FEE_SHARE) -> float:
    """The conversion fee at this hourly rate: share x rate x 2,080 hours ($4,992 at $20/h)."""
    if not (math.isfinite(hourly_rate) and hourly_rate > 0):
        raise ValueError(f"hourly_rate must be a positive number (got {hourly_rate!r})")
    return share * hourly_rate * CONVERSION_HOURS


def wait_weeks(business_days: float = REPORT_BUSINESS_DAYS) -> int:
    """Whole weeks of the model (it steps weekly) that a wait of so many business days takes:
    5 business days a week, rounded up (7 business days are 1.4 weeks: 2)."""
    if not (math.isfinite(business_days) and business_days >= 0):
        raise ValueError(f"business_days must be 0 or more (got {business_days!r})")
    return math.ceil(business_days / 5 - 1e-9)
