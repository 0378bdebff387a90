"""The plausible range of every assumed ([A]) and derived ([D]) setting, with its reason.

A key is the setting's dotted scenario path (`hiring.b_top_rated`); `hiring.b_jss` is a multiplier
of the scenario's own band terms (0 ignores the JSS, 2 doubles every penalty), which keeps the
bands ordered whatever the draw, and `freelancer.quality` is the five-star share of ordinary
clients' ratings (the other four shares rescaled in proportion). `varied` marks the assumptions
about the world that the run draws per block of paths when uncertainty is on; the others are her
own facts (rate, hours) or a rule's parameters (a policy choice, not an uncertainty) or only used
by one aggregator, and keep their value. `sign` is the documented direction of the headline cost
(kept minus the compared rule's earnings shortfall) as the value rises: +1, -1, or 0 where the
model does not fix it.

The range a run draws from and the tornado spans (`ranges`) always holds the scenario's own value
unless the scenario sets that range itself: where its ``[uncertainty] ranges`` table is silent, the
registry's range, stated around the default scenario's value, is carried to hers: shares are moved
by the difference (a five-star share of 0.95 against the default 0.90 gives 0.90-1.00) and other
settings scaled by the ratio (capacity 4 against the default 2 gives 2-6; contracts of 12 weeks
against 4 give 6-24), so a control that changes her value moves the range with it. A range the
table sets is used as written even when it leaves her value out (a deliberate "what if"; a
dashboard control may also move her value past it), and `outside_ranges` names those, for the run's
summary to flag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the registry imports nothing at run time: scenario_sections.py imports it
    from .scenario import Scenario

__all__ = [
    "ASSUMPTIONS",
    "POPULATION_ASSUMPTIONS",
    "Assumption",
    "around",
    "by_key",
    "default_value",
    "outside_ranges",
    "population_default",
    "ranges",
    "varied",
    "with_value",
]


@dataclass(frozen=True)
class Assumption:
    """One setting's plausible range and why."""

    key: str
    low: float
    high: float
    reason: str
    tag: str  # "A" assumed, "D" derived from a published figure, "L,D", "L,A"
    integer: bool = False
    varied: bool = True
    sign: int = 0


ASSUMPTIONS: tuple[Assumption, ...] = (
    # -- her offer: facts she knows; documented, never drawn ------------------------------------
    Assumption(
        "freelancer.hourly_rate", 5, 200, "her own rate; set it, do not vary it", "A", varied=False
    ),
    Assumption(
        "freelancer.hours_per_week",
        5,
        40,
        "her own hours per contract; set it, do not vary it",
        "A",
        varied=False,
    ),
    Assumption(
        "freelancer.capacity",
        1,
        3,
        "contracts of 10-40 h a week: one to three at once for one person",
        "A",
        integer=True,
        sign=+1,
    ),
    Assumption(
        "freelancer.proposals_per_week",
        5,
        20,
        "Connects cost money; active freelancers report 5-20 proposals a week",
        "A",
        integer=True,
    ),
    Assumption(
        "freelancer.quality",
        0.85,
        0.95,
        "five-star share of ordinary clients' ratings, around the field's 88% (Filippas 2022)",
        "L,D",
    ),
    # -- how clients read the profile -----------------------------------------------------------
    Assumption(
        "hiring.b_stars",
        0.3,
        0.9,
        "Yoganarasimhan 2013's 0.57 per star, about half again either way across markets",
        "D",
    ),
    Assumption(
        "hiring.b_stars_half_at_reviews",
        0,
        10,
        "0: stars count fully; Resnick et al. 2006's sceptical buyers discount a few reviews",
        "A",
        varied=False,
    ),
    Assumption(
        "hiring.b_reviews",
        0.07,
        0.2,
        "0.136 per ln(1 + reviews) from the published experience effect, half to 1.5 times",
        "D",
    ),
    Assumption(
        "hiring.b_jss",
        0.0,
        2.0,
        "multiplier of the band terms: 0 ignores the JSS, 2 puts the band under 75 at -2",
        "A",
        sign=+1,
    ),
    Assumption(
        "hiring.b_top_rated",
        0.35,
        1.0,
        "ln 2 (the platform's 'twice as likely'), from half that to about e-fold",
        "A",
    ),
    Assumption(
        "hiring.b_rising_talent",
        0.0,
        0.3,
        "0 keeps signals monotone; up to the old +0.3 (a badge worth a third of a star)",
        "A",
        varied=False,
    ),
    Assumption(
        "hiring.b_price",
        -2.0,
        -0.5,
        "price elasticity of hiring; matters only when her rate differs from the market's",
        "A",
        varied=False,
    ),
    # -- the competitor field and the clients ----------------------------------------------------
    Assumption(
        "market.competitors",
        10,
        50,
        "applicants per job: the platform reports 10-50 proposals on typical small jobs",
        "A",
        integer=True,
    ),
    Assumption(
        "market.hire_share",
        0.3,
        0.7,
        "share of posted jobs that end in a hire; reported between a third and two thirds",
        "A",
    ),
    Assumption(
        "market.competitor_stars_sd",
        0.1,
        0.3,
        "spread of the field's stars around 4.85 (Filippas et al. 2022's inflated ratings)",
        "L,A",
        varied=False,
    ),
    Assumption(
        "market.competitor_reviews_median",
        3,
        30,
        "reviews of a typical competing applicant: new to established",
        "A",
        varied=False,
    ),
    Assumption(
        "market.competitor_reviews_sigma",
        0.5,
        1.5,
        "log-normal spread of competitors' review counts",
        "A",
        varied=False,
    ),
    Assumption(
        "market.competitor_top_rated_share",
        0.15,
        0.45,
        "Top Rated among competitors at JSS >= 90 (the platform: about 10% of all freelancers)",
        "A",
        varied=False,
    ),
    Assumption(
        "market.competitor_price_sigma",
        0.15,
        0.5,
        "spread of competitors' ln(rate) on one job",
        "A",
        varied=False,
    ),
    Assumption(
        "market.market_rate",
        5,
        200,
        "the rate of her market; set it with her own, do not vary it",
        "A",
        varied=False,
    ),
    Assumption(
        "market.contract_weeks",
        2,
        8,
        "mean contract length: small fixed-price jobs to multi-month hourly contracts",
        "A",
        sign=+1,
    ),
    Assumption(
        "market.client_suspension_rate",
        0.0,
        0.02,
        "share of future clients suspended; the platform publishes no rate",
        "A",
        varied=False,
    ),
    Assumption(
        "market.client_ratings_given_mean",
        2,
        15,
        "clients' earlier rated contracts: one-off buyers to repeat hirers",
        "A",
        varied=False,
    ),
    Assumption(
        "market.harsh_client_share",
        0.0,
        0.05,
        "clients who rate everyone low; 2% matches the field's share of sub-3 ratings",
        "A",
    ),
    Assumption(
        "market.harsh_client_shift",
        1,
        3,
        "stars a harsh client takes off what the work earned",
        "A",
        integer=True,
        varied=False,
    ),
    Assumption(
        "market.harsh_client_mean",
        2.3,
        3.3,
        "harsh clients' average rating given, around the flagged-client threshold of 3",
        "A",
        varied=False,
    ),
    Assumption(
        "market.client_mean_given",
        4.6,
        4.9,
        "other clients' average rating given, around the field's 4.8",
        "A",
        varied=False,
    ),
    Assumption(
        "market.harsh_client_mean_received",
        2.3,
        3.3,
        "feedback harsh clients receive from freelancers",
        "A",
        varied=False,
    ),
    Assumption(
        "market.client_mean_received",
        4.6,
        4.9,
        "feedback other clients receive from freelancers",
        "A",
        varied=False,
    ),
    # -- the JSS and the aggregators' own settings -------------------------------------------------
    Assumption(
        "jss.success_at",
        4.0,
        5.0,
        "stars counted as a success; the platform does not publish its threshold",
        "A",
        varied=False,
    ),
    Assumption(
        "jss.fail_below",
        3.0,
        4.5,
        "stars counted as a failure; unpublished (at most success_at)",
        "A",
        varied=False,
    ),
    Assumption(
        "signals.prior_mean",
        4.0,
        4.8,
        "Bayesian average's prior stars: the platform's mean or a little below",
        "A",
        varied=False,
    ),
    Assumption(
        "signals.prior_weight",
        1,
        20,
        "Bayesian average's prior, in ratings",
        "A",
        varied=False,
    ),
    Assumption(
        "signals.positive_at",
        3.5,
        4.5,
        "Wilson bound: stars counted as positive",
        "A",
        varied=False,
    ),
)

# a population's clients and reports (sim/population.py): documented with a range, never drawn;
# apart from ASSUMPTIONS, whose keys are the single case's `section.name` settings
POPULATION_ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        "population.clients.coercive_share",
        0.0,
        0.05,
        "clients who push work off the platform; the platform publishes no rate (its fee to "
        "take a client off-platform says it happens)",
        "A",
        varied=False,
    ),
    Assumption(
        "population.clients.retaliation_probability",
        0.2,
        0.8,
        "a refused coercive client leaves a low rating: the reference case is one",
        "A",
        varied=False,
    ),
    Assumption(
        "population.clients.retaliation_stars",
        1,
        4,
        "the retaliatory rating; the reference case's 3.4 as a whole star",
        "A",
        integer=True,
        varied=False,
    ),
    Assumption(
        "population.clients.coercive_suspended",
        0.1,
        0.6,
        "coercive clients suspended later (circumvention breaks the Terms of Service)",
        "A",
        varied=False,
    ),
    Assumption(
        "population.reports.unfair",
        0.5,
        1.0,
        "victims report most unfair low ratings (the reference case's freelancer did)",
        "A",
        varied=False,
    ),
    Assumption(
        "population.reports.fair",
        0.0,
        0.3,
        "some freelancers report honest low ratings too",
        "A",
        varied=False,
    ),
    Assumption(
        "population.reports.upheld_unfair",
        0.3,
        0.9,
        "support upholds a report of an unfair rating: it must show a Terms-of-Service breach",
        "A",
        varied=False,
    ),
    Assumption(
        "population.reports.upheld_fair",
        0.0,
        0.2,
        "support upholds a report of an honest rating by mistake",
        "A",
        varied=False,
    ),
)

_BY_KEY = {a.key: a for a in ASSUMPTIONS}


def by_key(key: str) -> Assumption:
    """The assumption with this dotted key (KeyError if none)."""
    return _BY_KEY[key]


def varied() -> tuple[Assumption, ...]:
    """The assumptions the run draws when uncertainty is on, in registry order."""
    return tuple(a for a in ASSUMPTIONS if a.varied)


# shares and probabilities: her own value moves the range by the difference; every other setting
# (a count, a length, a coefficient) scales it by the ratio (its spread is relative)
MOVED_BY_DIFFERENCE = frozenset(
    {
        "freelancer.quality",
        "market.hire_share",
        "market.harsh_client_share",
        "market.client_suspension_rate",
        "market.competitor_top_rated_share",
    }
)


def ranges(sc: Scenario) -> dict[str, tuple[float, float]]:
    """Every assumption's (low, high) for this scenario: its ``[uncertainty] ranges`` table's
    where it sets one, as written; otherwise the registry's range carried to the scenario's own
    value (`around`), so that the range always holds her value and moves when she changes it."""
    own = sc.uncertainty.ranges
    return {
        a.key: tuple(own[a.key]) if a.key in own else around(a, default_value(sc, a.key))
        for a in ASSUMPTIONS
    }


def around(a: Assumption, value: float) -> tuple[float, float]:
    """The registry's range of ``a`` for a scenario whose own value is ``value``: the registry's
    as it is at the registry's default; elsewhere moved by the difference (shares and
    probabilities, and settings whose default is 0) or scaled by the ratio (everything else), then
    kept within the setting's own limits and made to hold ``value`` (whole numbers stay whole).
    `hiring.b_jss` is already a multiplier of her own band terms: its range never moves."""
    base = _registry_default(a.key)
    if value == base or a.key == "hiring.b_jss":
        return (a.low, a.high)
    if a.key in MOVED_BY_DIFFERENCE or base == 0 or value <= 0:
        # rounded: 0.85 + (0.95 - 0.90) is 0.8999999999999999 in floating point
        low, high = round(a.low + (value - base), 12), round(a.high + (value - base), 12)
    else:
        low, high = a.low * value / base, a.high * value / base
    if a.integer:
        low, high = round(low), round(high)
    low, high = _within_limits(a.key, low, high)
    return (min(low, value), max(high, value))


def _within_limits(key: str, low: float, high: float) -> tuple[float, float]:
    from .design import setting_limits  # imports the scenario module: not at the top

    for op, bound in setting_limits(key):
        step = 1e-9 * max(1.0, abs(bound))  # an open bound: the nearest value inside it
        if op in ("ge", "gt"):
            low = max(low, bound if op == "ge" else bound + step)
            high = max(high, low)
        else:
            high = min(high, bound if op == "le" else bound - step)
            low = min(low, high)
    return low, high


_DEFAULTS: dict[str, float] = {}


def _registry_default(key: str) -> float:
    """The value at which the registry's range is stated: the default scenario's."""
    if not _DEFAULTS:
        from .scenario import Scenario  # scenario_sections.py imports this module: not at the top

        default = Scenario()
        _DEFAULTS.update({a.key: default_value(default, a.key) for a in ASSUMPTIONS})
    return _DEFAULTS[key]


def outside_ranges(sc: Scenario) -> dict[str, dict[str, Any]]:
    """The ranges the scenario's ``[uncertainty]`` table sets that leave out its own value:
    {key: {"value": her value, "range": [low, high]}}, in registry order (empty: none)."""
    out = {}
    for key, (low, high) in sc.uncertainty.ranges.items():
        value = default_value(sc, key)
        if not low <= value <= high:
            out[key] = {"value": value, "range": [low, high]}
    return {a.key: out[a.key] for a in ASSUMPTIONS if a.key in out}


def default_value(sc: Scenario, key: str) -> float:
    """The scenario's own value of an assumption, in the registry's units (1 for `hiring.b_jss`,
    the multiplier of its own band terms; the five-star share for `freelancer.quality`)."""
    a = by_key(key)
    section, name = a.key.split(".")
    value = getattr(getattr(sc, section), name)
    if a.key == "hiring.b_jss":
        return 1.0
    if a.key == "freelancer.quality":
        return float(value[4])
    return float(value)


def _problem(key: str, message: str, source: str):
    from .scenario import ScenarioError

    return ScenarioError([(source, key, message)])


def with_value(sc: Scenario, key: str, value: float, source: str = "") -> Scenario:
    """The scenario with one assumption set to ``value`` in the registry's units, validated like
    a file (a problem is a `ScenarioError` naming ``source`` and the key).

    An integer setting takes the nearest whole number (halves up). `hiring.b_jss` multiplies the
    scenario's own band terms (0 ignores the JSS; the bands stay ordered). `freelancer.quality`
    sets the five-star share and rescales the other four shares in proportion (all to 4 stars
    when there are none). `jss.fail_below` above `success_at` raises `success_at` to it, and
    `jss.success_at` below `fail_below` lowers `fail_below` to it: the thresholds stay ordered.
    The scenario's ``[uncertainty]`` table is kept as it is.
    """
    from .scenario import validate_scenario

    try:
        a = by_key(key)
    except KeyError:
        raise _problem(
            str(key), "not an assumption with a range (see docs/model.md)", source
        ) from None
    if isinstance(value, bool | str) or not hasattr(value, "__float__"):
        raise _problem(key, f"expected a number, got {value!r}", source)
    value = float(value)
    if not math.isfinite(value):
        raise _problem(key, f"must be a finite number (got {value})", source)
    section, name = key.split(".")
    data = sc.model_dump(mode="json", exclude={"uncertainty"})
    new: Any
    if a.integer:
        new = math.floor(value + 0.5)
    elif key == "hiring.b_jss":
        if value < 0:
            raise _problem(key, f"the multiplier must be at least 0 (got {value:g})", source)
        new = [value * b + 0.0 for b in sc.hiring.b_jss]  # + 0.0: no -0.0 in the file
    elif key == "freelancer.quality":
        if not 0.0 <= value <= 1.0:
            raise _problem(key, f"the five-star share must be from 0 to 1 (got {value:g})", source)
        *others, five = sc.freelancer.quality
        rest = sum(others)
        if value == five:  # its own share: the same scenario, not one rescaled by rounding
            scaled = others
        elif rest > 0:
            scaled = [x * (1.0 - value) / rest for x in others]
        else:
            scaled = [0.0, 0.0, 0.0, 1.0 - value]
        new = [*scaled, value]
    else:
        new = value
    data[section][name] = new
    if key == "jss.fail_below":
        data["jss"]["success_at"] = max(data["jss"]["success_at"], value)
    elif key == "jss.success_at":
        data["jss"]["fail_below"] = min(data["jss"]["fail_below"], value)
    # validated without its [uncertainty] table (the ranges are checked on their own, and a
    # range's check must not set values again), which goes back unchanged
    out = validate_scenario(data, source)
    return out.model_copy(update={"uncertainty": sc.uncertainty})


def population_default(key: str) -> float:
    """The default population's value of a `POPULATION_ASSUMPTIONS` key."""
    from .population import Population

    value: Any = Population()
    for part in key.split(".")[1:]:
        value = getattr(value, part)
    return float(value)


def _default_text(key: str) -> str:
    from .scenario import Scenario

    if key.startswith("population."):
        return f"{population_default(key):g}"
    sc = Scenario()
    if key == "hiring.b_jss":
        bands = " / ".join(f"{b:g}" for b in sc.hiring.b_jss)
        return f"1 (x {bands})"
    return f"{default_value(sc, key):g}"


SIGN_WORDS = {1: "rises", -1: "falls", 0: ""}


def markdown_table() -> str:
    """The registry as the Markdown table of docs/model.md (`python -m sim.assumptions`)."""
    lines = [
        "| setting | default | low | high | tag | drawn | cost as it rises | reason |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for a in (*ASSUMPTIONS, *POPULATION_ASSUMPTIONS):
        lines.append(
            f"| `{a.key}` | {_default_text(a.key)} | {a.low:g} | {a.high:g} | "
            f"[{a.tag.replace(',', ', ')}] | "
            f"{'yes' if a.varied else 'no'} | {SIGN_WORDS[a.sign]} | {a.reason} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
