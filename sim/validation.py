"""Validation against published figures: the default calibration measured, never fitted."""

# Every check is a small function of `Settings` (paths, seed and the base scenario, by default
# the default calibration) that returns one `Row`: the published figure with its source, the
# model's figure, how it was measured, the tolerance and the verdict. `CHECKS` lists them; the
# fast ones guard fidelity in `make test`. `report_markdown` turns rows into docs/validation.md
# (`make validate`); the same inputs give the same bytes (no clock time). The checks read the
# model only through its public API (sim.run, sim.engine.trajectories, sim.market,
# sim.reputation), so that they measure whatever the model is today.

from __future__ import annotations

import math
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, stats

from . import market as hiring_market
from . import reputation, run
from ._files import write_atomic
from .calibration import field_jss_bands, received_stars
from .engine import trajectories
from .scenario import Scenario, load_scenario, validate_scenario

__all__ = [
    "CHECKS",
    "FAIL",
    "FAST_PATHS",
    "FULL_PATHS",
    "NOT_COMPARABLE",
    "PASS",
    "Check",
    "Row",
    "Settings",
    "report_markdown",
    "run_checks",
    "write_report",
]

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


# -- Yoganarasimhan 2013: the hiring model's stars and reviews effects --------------------------

Y13_SOURCE = (
    "Yoganarasimhan 2013, Marketing Science 32(6), Fig. 7: freelance-site auctions, a bid's "
    "probability of being chosen from the estimated buyer model"
)
Y13_STARS_PUBLISHED = (0.25, 0.37)  # 4 ratings, $100 bid, average rating 8 -> 10 of 10
Y13_REVIEWS_GAIN, Y13_REVIEWS_REVENUE = 0.14, 0.35  # $50 bid, rating 9: 1 -> 128 ratings


def _applicant_v(sc: Scenario, market: hiring_market.HiringMarket, stars: float, reviews: float):
    """Utility of an applicant who differs from others only in stars and reviews: a JSS of 100,
    no badge, the market rate (sim.market.utility)."""
    return hiring_market.utility(
        np.array([stars]),
        np.array([float(reviews)]),
        reputation.jss_band(np.array([100.0])),
        np.array([reputation.NO_BADGE]),
        0.0,
        sc,
        market.market_mean,
    )


def _applicant_q(
    sc: Scenario, market: hiring_market.HiringMarket, stars: float, reviews: float
) -> float:
    """Win probability of one proposal by that applicant (market.win_prob)."""
    return float(market.win_prob(_applicant_v(sc, market, stars, reviews))[0])


def _market(s: Settings) -> tuple[Scenario, hiring_market.HiringMarket]:
    sc = s.base
    if s.seed is not None:
        data = sc.model_dump()
        data["run"]["seed"] = s.seed
        sc = validate_scenario(data, "validation")
    return sc, hiring_market.cached_market(sc)


def _solved(
    sc: Scenario, market: hiring_market.HiringMarket, stars: float, reviews: float, target: float
) -> hiring_market.HiringMarket:
    """The market with the intercept solved so that this applicant wins ``target``."""
    v = float(_applicant_v(sc, market, stars, reviews)[0])
    return hiring_market.solve_intercept(market, v, target)


def yoganarasimhan_stars_logodds(s: Settings) -> Row:
    """Change in log-odds of winning for +1 star (+2 points of 10) at 4 ratings."""
    sc, market = _market(s)
    q4, q5 = _applicant_q(sc, market, 4.0, 4), _applicant_q(sc, market, 5.0, 4)
    model = _logit(q5) - _logit(q4)
    lo, hi = Y13_STARS_PUBLISHED
    published = _logit(hi) - _logit(lo)
    status, reason = _verdict(
        _within(model, published, 0.15),
        f"log-odds change {model:.3f} is more than 15% from the published {published:.3f}",
    )
    return Row(
        id="Y13-stars",
        title="Stars: log-odds of winning, +1 star at 4 ratings",
        published=f"+{published:.3f} log-odds, derived from win probability {lo:.2f} -> "
        f"{hi:.2f} (rating 8 -> 10 of 10, 4 ratings, $100 bid)",
        source=Y13_SOURCE,
        model=f"{model:+.3f} (q {q4:.4f} -> {q5:.4f})",
        method=(
            "logit q(5 stars) - logit q(4 stars) of two applicants with 4 reviews, a JSS of 100, "
            "no badge and the market rate, in the default market (sim.market.utility and "
            f"win_prob; seed {sc.run.seed})"
        ),
        tolerance="within 15%: q averages a per-job logit over a field of jobs with "
        "competitors and an outside option, which can only shrink log-odds differences",
        status=status,
        reason=reason,
        values={"published": published, "model": model},
    )


def yoganarasimhan_stars_ratio(s: Settings) -> Row:
    """Ratio of win probabilities 0.37 / 0.25, compared at the paper's base rate."""
    sc, market = _market(s)
    q4 = _applicant_q(sc, market, 4.0, 4)
    own = _applicant_q(sc, market, 5.0, 4) / q4
    lo, hi = Y13_STARS_PUBLISHED
    at = _solved(sc, market, 4.0, 4, lo)
    base, q5 = _applicant_q(sc, at, 4.0, 4), _applicant_q(sc, at, 5.0, 4)
    model, published = q5 / base, hi / lo
    status, reason = _verdict(
        _within(model, published, 0.10),
        f"ratio {model:.3f} is more than 10% from the published {published:.3f}",
    )
    return Row(
        id="Y13-ratio",
        title="Stars: ratio of win probabilities, +1 star at 4 ratings",
        published=f"{published:.2f} ({hi:.2f} / {lo:.2f})",
        source=Y13_SOURCE,
        model=f"{model:.2f} ({base:.2f} -> {q5:.3f}); {own:.2f} at the model's own base rate "
        f"{q4:.4f}",
        method=(
            "the same two applicants, with the intercept solved (sim.market.solve_intercept) so "
            f"that the 4-star one wins {lo:.2f} of proposals as in the paper; a ratio depends on "
            "the base rate, so it is compared there"
        ),
        tolerance="within 10% (the published probabilities are given to two decimals)",
        status=status,
        reason=reason,
        values={"published": published, "model": model, "own_base_ratio": own},
    )


def yoganarasimhan_reviews(s: Settings) -> Row:
    """1 -> 128 ratings at rating 9: success probability +0.14, expected revenue +35%."""
    sc, market = _market(s)
    q1 = _applicant_q(sc, market, 4.5, 1)
    own = _applicant_q(sc, market, 4.5, 128) / q1
    base_rate = Y13_REVIEWS_GAIN / Y13_REVIEWS_REVENUE  # [D] 0.40 -> 0.54 at equal price
    at = _solved(sc, market, 4.5, 1, base_rate)
    base, q128 = _applicant_q(sc, at, 4.5, 1), _applicant_q(sc, at, 4.5, 128)
    model, published = q128 / base, 1.0 + Y13_REVIEWS_REVENUE
    status, reason = _verdict(
        _within(model, published, 0.10),
        f"ratio {model:.3f} is more than 10% from the published {published:.2f}",
    )
    return Row(
        id="Y13-reviews",
        title="Reviews: 1 -> 128 ratings at rating 9 of 10",
        published=f"x{published:.2f} win probability (+{Y13_REVIEWS_GAIN:.2f}, expected revenue "
        f"+{Y13_REVIEWS_REVENUE:.0%} at a $50 bid)",
        source=Y13_SOURCE,
        model=f"x{model:.2f} ({base:.2f} -> {q128:.3f}, +{q128 - base:.3f}); x{own:.2f} at the "
        f"model's own base rate {q1:.4f}",
        method=(
            "two applicants at 4.5 stars with 1 and 128 reviews (JSS 100, no badge, market "
            f"rate), intercept solved so that the first wins {base_rate:.2f} of proposals "
            f"(derived: +{Y13_REVIEWS_GAIN:.2f} is +{Y13_REVIEWS_REVENUE:.0%} from "
            f"{base_rate:.2f}); seed {sc.run.seed}"
        ),
        tolerance="within 10%",
        status=status,
        reason=reason,
        values={"published": published, "model": model, "own_base_ratio": own},
    )


# -- Cabral & Hortaçsu 2010: the first negative -------------------------------------------------

CH_SOURCE = (
    "Cabral & Hortaçsu 2010, Journal of Industrial Economics 58(1): panel of eBay sellers, weekly "
    "sales growth before and after a seller's first negative feedback"
)
CH_BEFORE, CH_AFTER = 0.05, -0.08
CH_POSITIVES = 40  # earlier 5-star contracts (the established-freelancer preset's history)
CH_NEGATIVE = 1.0  # eBay's negative is its lowest rating: here 1 star
CH_WINDOW = 4  # weeks after the negative appears
CH_WEEKS = 26


def _first_negative_scenario(s: Settings, positives: int, negative: float) -> Scenario:
    """An established freelancer: `positives` 5-star $1,600 contracts from distinct clients over
    two years, then a `negative` one that ended a week ago; arms: it counts, or it never does."""
    data = s.base.model_dump()
    data["run"].update(paths=s.paths, weeks=CH_WEEKS, seed=s.run_seed)
    span = 98 / max(positives - 1, 1)
    data["history"] = [
        {
            "client": f"client-{i + 1:02d}",
            "stars": 5.0,
            "value": 1600.0,
            "ended_weeks_ago": round(3 + (positives - 1 - i) * span),
        }
        for i in range(positives)
    ] + [
        {
            "client": "first-negative",
            "stars": negative,
            "value": 1600.0,
            "ended_weeks_ago": 1,
            "flagged": True,
        }
    ]
    data["arms"] = [{"name": "kept", "rule": "keep"}, {"name": "never", "rule": "exclude_flagged"}]
    return validate_scenario(data, "validation")


def _growth_equivalent(ratio: float, weeks: int) -> float:
    """The constant change g in weekly growth that makes the mean of (1 + g)^t over t = 1..weeks
    equal ``ratio`` (jobs over the window relative to the same futures without the negative)."""
    if not (math.isfinite(ratio) and ratio > 0):
        return math.nan

    def gap(x: float) -> float:
        return float(np.mean(x ** np.arange(1, weeks + 1))) - ratio

    return optimize.brentq(gap, 1e-12, 10.0, xtol=1e-12) - 1.0


def _first_negative_effect(s: Settings, positives: int, negative: float) -> dict[str, float]:
    """Jobs won over the window, kept / never, on the same futures, with a 90% interval."""
    tr = trajectories(_first_negative_scenario(s, positives, negative))
    won = {}
    for arm in ("kept", "never"):
        jobs = tr[arm]["jobs"]  # cumulative, (weeks, paths)
        won[arm] = jobs[CH_WINDOW - 1].astype(float)  # jobs won in weeks 0..K-1
    a, b = won["kept"], won["never"]
    signals = {
        "stars_kept": float(tr["kept"]["stars"][0, 0]),
        "stars_never": float(tr["never"]["stars"][0, 0]),
        "jss_kept": float(tr["kept"]["jss"][0, 0]),
        "jss_never": float(tr["never"]["jss"][0, 0]),
        "q_ratio": float(tr["kept"]["win_prob"][0, 0] / tr["never"]["win_prob"][0, 0]),
    }
    if b.sum() == 0 or tr["never"]["jobs"][-1].sum() == 0:
        nan = math.nan
        return {"ratio": nan, "lo": nan, "hi": nan, "growth": nan, "ratio_26": nan, **signals}
    ratio = a.mean() / b.mean()
    # delta method for a ratio of paired means
    n = a.size
    cov = np.cov(a, b) if n > 1 else np.zeros((2, 2))
    var = (cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / (n * b.mean() ** 2)
    half = 1.6448536269514722 * math.sqrt(max(var, 0.0))
    growth = _growth_equivalent(ratio, CH_WINDOW)
    return {
        "ratio": ratio,
        "lo": _growth_equivalent(ratio - half, CH_WINDOW),
        "hi": _growth_equivalent(ratio + half, CH_WINDOW),
        "growth": growth,
        **signals,
        "ratio_26": float(tr["kept"]["jobs"][-1].mean() / tr["never"]["jobs"][-1].mean()),
    }


def cabral_hortacsu(s: Settings) -> Row:
    """Change in weekly growth of jobs won around a first negative, against the same futures."""
    e = _first_negative_effect(s, CH_POSITIVES, CH_NEGATIVE)
    published = (1 + CH_AFTER) / (1 + CH_BEFORE) - 1.0
    model = e["growth"]
    ok = math.isfinite(model) and 0.5 * published >= model >= 2.0 * published
    if not math.isfinite(model):
        status, reason = NOT_COMPARABLE, f"no jobs won in the window with {s.paths} paths"
    else:
        status, reason = _verdict(
            ok,
            f"one negative after {CH_POSITIVES} five-star contracts changes weekly growth by "
            f"{model:+.1%}, not within a factor of 2 of {published:+.1%}",
        )
    sens = {
        "ten earlier 5-star contracts, 1-star negative": _first_negative_effect(s, 10, 1.0),
        f"{CH_POSITIVES} earlier 5-star contracts, the reference 3.4": _first_negative_effect(
            s, CH_POSITIVES, 3.4
        ),
    }
    sens_text = "; ".join(
        f"{k}: {v['growth']:+.1%} per week (jobs ratio {v['ratio']:.3f}, JSS {v['jss_never']:.0f} "
        f"-> {v['jss_kept']:.0f})"
        for k, v in sens.items()
    )
    band = "still 90 or more" if e["jss_kept"] >= 90 else "now below 90"
    if abs(model) < abs(published):
        why = (
            "The model's clients read averages through a logit, so a first negative weighs what "
            "it moves the average and the JSS band. eBay showed buyers the count of negatives, "
            "and Cabral & Hortaçsu explain the drop by what buyers infer, and sellers do, after "
            "the first one, which this model does not contain."
        )
    else:
        why = (
            "The model's effect is larger than the paper's: with this record the negative moves "
            "her JSS band or badge, and those terms of the hiring model weigh more than what eBay "
            "buyers did."
        )
    explanation = (
        f"After {CH_POSITIVES} five-star contracts one {CH_NEGATIVE:.0f}-star rating moves her "
        f"stars from {e['stars_never']:.2f} to {e['stars_kept']:.2f} and her JSS from "
        f"{e['jss_never']:.0f} to {e['jss_kept']:.0f} ({band}); her win probability becomes "
        f"{e['q_ratio']:.3f} of what it would be, and over the first {CH_WINDOW} weeks she wins "
        f"{e['ratio']:.3f} as many jobs ({e['ratio_26']:.3f} over {CH_WEEKS} weeks). {why} The "
        "model has no trend in sales of its own, so the paper's +5% before is compared as a "
        "change in growth against the same futures without the negative. Sensitivity to the "
        f"record and the negative: {sens_text}. The paper's sellers' records are not matched "
        "here."
    )
    return Row(
        id="CH10-first-negative",
        title="A first negative and weekly sales growth",
        published=f"{CH_BEFORE:+.0%} -> {CH_AFTER:+.0%} weekly sales growth (a change of "
        f"{published:+.1%} per week)",
        source=CH_SOURCE,
        model=f"{model:+.1%} per week (90% interval {e['lo']:+.1%} to {e['hi']:+.1%}); jobs "
        f"ratio {e['ratio']:.3f} over {CH_WINDOW} weeks",
        method=(
            f"{CH_POSITIVES} earlier 5-star $1,600 contracts from distinct clients over two "
            f"years, then a {CH_NEGATIVE:.0f}-star one that ended a week ago; arm 'kept' counts "
            "it, arm 'never' never does (exclude_flagged), on the same futures "
            f"(sim.engine.trajectories, {s.paths:,} paths, seed {s.run_seed}); jobs won in the "
            f"first {CH_WINDOW} weeks kept / never, turned into the constant weekly growth "
            "change g with mean (1 + g)^t over those weeks equal to that ratio"
        ),
        tolerance="same sign and within a factor of 2 (our market is not eBay)",
        status=status,
        reason=reason,
        explanation=explanation if status != PASS else "",
        values={"published": published, "model": model, "ratio": e["ratio"]},
    )


# -- Resnick et al. 2006: a near-null effect of one or two negatives for new sellers -----------

RESNICK_SOURCE = (
    "Resnick, Zeckhauser, Swanson & Lockwood 2006, Experimental Economics 9: controlled eBay "
    "experiment, prices paid to new sellers with and without one or two negatives"
)
RESNICK_TOLERANCE = 0.03


def _earnings_gap(sc: Scenario) -> float:
    """(kept - excluded) / excluded net earnings at the horizon, mean over paths."""
    res = run(sc)
    arms = res.arms
    excluded = float(res.bands(arms[1], "earnings")["mean"][-1])
    gap = -float(np.mean(res.paired(arms[1], "earnings")))  # paired is arm minus reference
    return gap / excluded if excluded > 0 else math.nan


def _variant(sc: Scenario, section: str, key: str, value: Any) -> Scenario:
    data = sc.model_dump()
    data[section][key] = value
    return validate_scenario(data, "validation")


def resnick(s: Settings) -> Row:
    """The sceptical preset: one early negative barely changes earnings."""
    data = load_scenario(SCEPTICAL_PRESET).model_dump()
    data["run"].update(paths=s.paths, seed=s.run_seed)
    sc = validate_scenario(data, str(SCEPTICAL_PRESET.name))
    model = _earnings_gap(sc)
    # a second negative: the preset's flagged contract again, from another client, 2 weeks earlier
    flagged = [i for i, h in enumerate(data["history"]) if h["flagged"]]
    second = {**data["history"][flagged[-1]], "client": "second-negative"}
    second["ended_weeks_ago"] += 2
    history = list(data["history"])
    data["history"] = [*history[: flagged[-1]], second, *history[flagged[-1] :]]
    two = _earnings_gap(validate_scenario(data, str(SCEPTICAL_PRESET.name)))
    default_half = s.base.hiring.b_stars_half_at_reviews
    default_shown = s.base.signals.shown
    h, shown = sc.hiring.b_stars_half_at_reviews, sc.signals.shown
    settings = {
        f"signals.shown = {shown!r}": (
            f"signals.shown = {default_shown!r} (JSS visible)",
            _variant(sc, "signals", "shown", default_shown),
        ),
        f"b_stars_half_at_reviews = {h:g}": (
            f"b_stars_half_at_reviews = {default_half:g} (stars at full weight)",
            _variant(sc, "hiring", "b_stars_half_at_reviews", default_half),
        ),
    }
    parts = {label: _earnings_gap(variant) for label, variant in settings.values()}
    needed = [
        name for (name, (label, _)) in settings.items() if abs(parts[label]) > RESNICK_TOLERANCE
    ]
    if len(needed) == len(settings):
        produced_by = f"{' and '.join(needed)} together: reverting either breaks it"
    elif needed:
        produced_by = f"{' and '.join(needed)}: reverting the other one keeps it"
    else:
        produced_by = "neither setting alone: reverting either keeps it near null"
    both = _variant(
        _variant(sc, "signals", "shown", default_shown),
        "hiring",
        "b_stars_half_at_reviews",
        default_half,
    )
    parts["both at their defaults"] = _earnings_gap(both)
    by_setting = "; ".join(f"{k}: {v:+.1%}" for k, v in parts.items())
    worst = max(abs(model), abs(two))
    ok = math.isfinite(worst) and worst <= RESNICK_TOLERANCE
    status, reason = _verdict(
        ok,
        f"kept earns {model:+.1%} (one negative) and {two:+.1%} (two) against excluded, not "
        f"both within ±{RESNICK_TOLERANCE:.0%}",
    )
    return Row(
        id="R06-sceptical",
        title="One or two early negatives for a new seller (the sceptical preset)",
        published="no effect on what buyers paid (the established-seller premium the same "
        "design detected was 8.1%)",
        source=RESNICK_SOURCE,
        model=f"{model:+.1%} net earnings, kept against excluded ({two:+.1%} with a second "
        f"negative); one negative with the preset's settings reverted: {by_setting}",
        method=(
            f"scenarios/{SCEPTICAL_PRESET.name} ({sc.run.weeks} weeks, {s.paths:,} paths, seed "
            f"{s.run_seed}): mean paired (kept - excluded) earnings at the horizon over the "
            "excluded arm's mean (sim.run); again with a second negative (the preset's "
            "flagged contract from another client, 2 weeks earlier). The preset's settings that "
            "differ from the defaults are reverted one at a time, then both: the near-null "
            "comes from "
            f"{produced_by}"
        ),
        tolerance=f"within ±{RESNICK_TOLERANCE:.0%} of earnings (well inside the 8.1% the "
        "experiment could detect)",
        status=status,
        reason=reason,
        explanation=(
            "The sceptical preset still gives a small effect, smaller than the 8.1% the "
            "experiment could detect, but a second negative takes it just past the tolerance "
            "fixed in advance. Part of it is the hiring model's experience term: a review adds "
            "(stars - 1) / 4 of one five-star review's experience (so a low rating never adds "
            "experience, model.md), and a 3.4 now adds 0.6 where it once added a whole review. "
            "The tolerance is not widened to make the row pass."
            if status != PASS
            else ""
        ),
        values={
            "model": model,
            "two_negatives": two,
            **{f"reverted: {k}": v for k, v in parts.items()},
        },
    )


# -- Filippas, Horton & Golden 2022: the inflated field -----------------------------------------

FHG_SOURCE = (
    "Filippas, Horton & Golden 2022, Marketing Science 41(4): public feedback on an online "
    "labour market rose to about 4.8 of 5, pooled in the top bin (the project reads it as "
    "mean 4.85, 85% five-star: MODEL.md)"
)
FHG_MEAN, FHG_FIVE = 4.85, 0.85


def _quality(sc: Scenario) -> np.ndarray:
    """P(1..5 stars) she receives on future contracts: her quality with ordinary clients, harsh
    clients mixed in (`sim.calibration.received_stars`)."""
    return received_stars(sc)


def fhg_five_star_share(s: Settings) -> Row:
    q = _quality(s.base)
    model = float(q[4])
    status, reason = _verdict(
        abs(model - FHG_FIVE) <= 0.05, f"five-star share {model:.0%} is not within 5 points"
    )
    return Row(
        id="FHG22-five-star",
        title="The default freelancer's five-star share",
        published=f"about {FHG_FIVE:.0%} of ratings five-star",
        source=FHG_SOURCE,
        model=f"{model:.0%}",
        method="P(5 stars) she receives: the default freelancer.quality with harsh clients "
        "mixed in (sim.calibration.received_stars; no simulation)",
        tolerance="±5 percentage points",
        status=status,
        reason=reason,
        values={"published": FHG_FIVE, "model": model},
    )


def fhg_freelancer_mean(s: Settings) -> Row:
    q = _quality(s.base)
    model = float(np.dot(np.arange(1, 6), q))
    status, reason = _verdict(
        abs(model - FHG_MEAN) <= 0.05,
        f"her expected stars {model:.2f} are {abs(FHG_MEAN - model):.2f} "
        f"{'below' if model < FHG_MEAN else 'above'} the field's {FHG_MEAN:.2f}",
    )
    side, kind = ("below", "weaker") if model < FHG_MEAN else ("above", "stronger")
    explanation = (
        f"The default quality {tuple(round(float(x), 3) for x in q)} gives expected stars "
        f"{model:.2f}, {side} the field she competes with, so the model describes a "
        f"{kind}-than-average freelancer rather than an ordinary honest one (issue 11, finding 7). "
        f"Note that {FHG_FIVE:.0%} five-star and a {FHG_MEAN:.2f} mean together leave the other "
        f"{1 - FHG_FIVE:.0%} at {(FHG_MEAN - 5 * FHG_FIVE) / (1 - FHG_FIVE):.2f} stars on average."
    )
    return Row(
        id="FHG22-mean",
        title="The default freelancer's expected stars",
        published=f"mean about {FHG_MEAN:.2f}",
        source=FHG_SOURCE,
        model=f"{model:.2f}",
        method="sum of k x P(k stars) she receives: the default freelancer.quality with harsh "
        "clients mixed in (no simulation)",
        tolerance="±0.05 stars",
        status=status,
        reason=reason,
        explanation=explanation if status != PASS else "",
        values={"published": FHG_MEAN, "model": model},
    )


def _clipped_normal_mean(mu: float, sd: float, lo: float = 1.0, hi: float = 5.0) -> float:
    """Mean of a normal clipped (not truncated) to [lo, hi], as the competitor field draws stars."""
    if sd == 0:
        return float(min(max(mu, lo), hi))

    def excess(c: float, sign: float) -> float:  # E[(sign * (X - c))^+]
        z = sign * (mu - c) / sd
        return sd * stats.norm.pdf(z) + sign * (mu - c) * stats.norm.cdf(z)

    return mu - excess(hi, 1.0) + excess(lo, -1.0)


def fhg_field_mean(s: Settings) -> Row:
    m = s.base.market
    model = _clipped_normal_mean(m.competitor_stars_mean, m.competitor_stars_sd)
    status, reason = _verdict(
        abs(model - FHG_MEAN) <= 0.05, f"the field's mean {model:.3f} is not within 0.05"
    )
    return Row(
        id="FHG22-field",
        title="The competitor field's mean stars",
        published=f"mean about {FHG_MEAN:.2f}",
        source=FHG_SOURCE,
        model=f"{model:.3f} (setting {m.competitor_stars_mean:.2f}, sd "
        f"{m.competitor_stars_sd:.2f}, capped at 5)",
        method="mean of the competitors' stars as the field draws them: normal(market."
        "competitor_stars_mean, competitor_stars_sd) clipped to 1..5 (closed form)",
        tolerance="±0.05 stars",
        status=status,
        reason=reason,
        values={"published": FHG_MEAN, "model": model},
    )


def field_jss_matches_hers(s: Settings) -> Row:
    """Her JSS and the field's come from one assumption: the field's default band shares are
    those of freelancers who receive her stars (sim.calibration.field_jss_bands)."""
    m = s.base.market
    derived = field_jss_bands(s.base)
    gap = float(np.max(np.abs(derived - np.asarray(m.competitor_jss_bands))))
    status, reason = _verdict(gap <= 0.01, f"the bands differ by up to {gap:.3f}")
    shown = ", ".join(f"{x:.2f}" for x in derived)
    return Row(
        id="JSS-field",
        title="The field's JSS bands are those of freelancers like her",
        published="her expected stars and JSS match the field's (MODEL.md, calibration)",
        source="[D] derived from the received-stars distribution and the field's review counts",
        model=f"derived ({shown}) against the default "
        f"({', '.join(f'{x:.2f}' for x in m.competitor_jss_bands)})",
        method="200,000 freelancers with the field's log-normal review counts, stars drawn from "
        "what she receives, JSS over all their contracts (sim.calibration.field_jss_bands)",
        tolerance="±0.01 in every band (>= 90, 80-89, 75-79, < 75, none)",
        status=status,
        reason=reason,
        values={"model": gap},
    )


# -- the platform's own worked examples -------------------------------------------------------


def _fmt_jss(x: float | None) -> str:
    return "none" if x is None else f"{x:.0f}"


def _examples_row(
    id: str,
    title: str,
    published: str,
    source: str,
    method: str,
    cases: Sequence[tuple[str, Any, Any]],
) -> Row:
    """A row of exact examples: each case (label, expected, model) must agree."""
    wrong = [label for label, want, got in cases if want != got]
    model = "; ".join(str(got) for _, _, got in cases)
    expected = "; ".join(f"{label}: {want}" for label, want, _ in cases)
    status, reason = _verdict(not wrong, "differs on " + ", ".join(wrong))
    return Row(
        id=id,
        title=title,
        published=f"{published} ({expected})" if published else expected,
        source=source,
        model=model,
        method=method,
        tolerance="exact",
        status=status,
        reason=reason,
        values={"cases": float(len(cases)), "wrong": float(len(wrong))},
    )


def odesk_weighted_mean(s: Settings) -> Row:
    got = float(reputation.weighted_mean([5.0, 1.0], [1000.0, 200.0]))
    return _examples_row(
        "oDesk-2006-mean",
        "Stars weighted by contract value",
        "",
        "oDesk 2006, documenting that stars are weighted by contract value: $1,000 at 5 stars "
        "and $200 at 1 star show 4.33",
        "sim.reputation.weighted_mean([5, 1], weights [1000, 200]), shown to two decimals",
        [("$1,000 at 5 and $200 at 1", "4.33", f"{got:.2f}")],
    )


def _jss(s: Settings, stars, values, ended, clients) -> float | None:
    return reputation.job_success_score(
        stars, values, ended, clients, **s.base.jss.closed_form_args()
    )


JSS_SOURCE = (
    "Upwork help on the Job Success Score (windows, trending score, value weights, who qualifies)"
)


def jss_weights(s: Settings) -> Row:
    w = reputation.jss_weight([1.0, 250.0, 251.0, 1000.0, 1001.0])
    got = ", ".join(f"{x:g}" for x in w)
    # a success at $1,001 (1.5) and a failure at $251 (1.25): 100 x 0.25 / 2.75 = 9.09 -> 9
    score = _jss(s, [5.0, 1.0], [1001.0, 251.0], [2.0, 3.0], ["a", "b"])
    return _examples_row(
        "JSS-weights",
        "JSS weights by contract value",
        "$1-250 -> 1, $251-1,000 -> 1.25, over $1,000 -> 1.5",
        JSS_SOURCE,
        "sim.reputation.jss_weight of $1, $250, $251, $1,000, $1,001; job_success_score of a "
        "5-star $1,001 contract and a 1-star $251 one from two clients (default JSS settings; "
        "5 and 1 stars are a success and a failure under any threshold)",
        [
            ("weights", "1, 1, 1.25, 1.25, 1.5", got),
            ("JSS of $1,001 success + $251 failure", "9", _fmt_jss(score)),
        ],
    )


def jss_windows(s: Settings) -> Row:
    a = ["A", "B", "C"]
    cases = [
        (
            "failure 110 wk ago, successes 60 and 70 (only 104 qualifies)",
            "100",
            _fmt_jss(_jss(s, [1.0, 5.0, 5.0], [500.0] * 3, [110.0, 70.0, 60.0], a)),
        ),
        (
            "failure 100 wk ago instead (inside 104)",
            "33",
            _fmt_jss(_jss(s, [1.0, 5.0, 5.0], [500.0] * 3, [100.0, 70.0, 60.0], a)),
        ),
        (
            "failure 40 wk ago, successes 10 and 20 (26 is best)",
            "100",
            _fmt_jss(_jss(s, [1.0, 5.0, 5.0], [500.0] * 3, [40.0, 20.0, 10.0], a)),
        ),
        (
            "failure 20 wk ago, successes 15, 5, 3 (trending (50 + 100) / 2 is best)",
            "75",
            _fmt_jss(_jss(s, [1.0, 5.0, 5.0, 5.0], [500.0] * 4, [20.0, 15.0, 5.0, 3.0], [*a, "D"])),
        ),
    ]
    return _examples_row(
        "JSS-windows",
        "JSS windows and the trending score",
        "",
        JSS_SOURCE,
        "sim.reputation.job_success_score on constructed histories ($500 contracts, distinct "
        "clients, 5 and 1 stars), default JSS settings; expected values worked by hand from the "
        "published rule",
        cases,
    )


def jss_qualification(s: Settings) -> Row:
    cases = [
        ("one contract", "none", _fmt_jss(_jss(s, [5.0], [500.0], [1.0], ["A"]))),
        (
            "two contracts, one client",
            "none",
            _fmt_jss(_jss(s, [5.0, 5.0], [500.0] * 2, [1.0, 5.0], ["A", "A"])),
        ),
        (
            "two contracts, two clients",
            "100",
            _fmt_jss(_jss(s, [5.0, 5.0], [500.0] * 2, [1.0, 5.0], ["A", "B"])),
        ),
    ]
    return _examples_row(
        "JSS-qualify",
        "A JSS needs 2 contracts from 2 clients",
        "",
        JSS_SOURCE,
        "sim.reputation.job_success_score with the default JSS settings",
        cases,
    )


def ratings_needed_reference(s: Settings) -> Row:
    targets = (4.8, 4.9, 4.95)
    got = reputation.ratings_needed([5.0, 3.4], np.array(targets))
    cases = [
        (f"to {t:g}", want, f"{k:.0f}")
        for t, want, k in zip(targets, ("6", "14", "30"), got, strict=True)
    ]
    return _examples_row(
        "Ratings-needed",
        "Five-star ratings needed after (5.0, 3.4), equal weights",
        "(8.4 + 5n) / (2 + n) >= target",
        "MODEL.md reference case, arithmetic [D]",
        "sim.reputation.ratings_needed([5, 3.4], targets, aggregator 'mean')",
        cases,
    )


# -- registry, runner, report -----------------------------------------------------------------

CHECKS: tuple[Check, ...] = (
    Check("Y13-stars", yoganarasimhan_stars_logodds, fast=True, simulated=False),
    Check("Y13-ratio", yoganarasimhan_stars_ratio, fast=True, simulated=False),
    Check("Y13-reviews", yoganarasimhan_reviews, fast=True, simulated=False),
    Check("CH10-first-negative", cabral_hortacsu, fast=True, simulated=True),
    Check("R06-sceptical", resnick, fast=True, simulated=True),
    Check("FHG22-five-star", fhg_five_star_share, fast=True, simulated=False),
    Check("FHG22-mean", fhg_freelancer_mean, fast=True, simulated=False),
    Check("FHG22-field", fhg_field_mean, fast=True, simulated=False),
    Check("JSS-field", field_jss_matches_hers, fast=True, simulated=False),
    Check("oDesk-2006-mean", odesk_weighted_mean, fast=True, simulated=False),
    Check("JSS-weights", jss_weights, fast=True, simulated=False),
    Check("JSS-windows", jss_windows, fast=True, simulated=False),
    Check("JSS-qualify", jss_qualification, fast=True, simulated=False),
    Check("Ratings-needed", ratings_needed_reference, fast=True, simulated=False),
)


def run_checks(
    paths: int | None = None,
    fast_only: bool = False,
    seed: int | None = None,
    base: Scenario | None = None,
    ids: Sequence[str] | None = None,
) -> list[Row]:
    """Run the registered checks (all, the fast ones, or those named) and return their rows.

    ``paths`` defaults to `FAST_PATHS` with ``fast_only`` and `FULL_PATHS` otherwise.
    """
    if paths is None:
        paths = FAST_PATHS if fast_only else FULL_PATHS
    if paths < 1:
        raise ValueError(f"paths: must be at least 1 (got {paths})")
    known = {c.id for c in CHECKS}
    unknown = sorted(set(ids or ()) - known)
    if unknown:
        raise ValueError(f"ids: unknown checks {unknown}; expected some of {sorted(known)}")
    settings = Settings(paths=paths, seed=seed, base=Scenario() if base is None else base)
    chosen = [c for c in CHECKS if (not fast_only or c.fast) and (ids is None or c.id in ids)]
    return [c.func(settings) for c in chosen]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def report_markdown(rows: Sequence[Row], paths: int, seed: int | None = None) -> str:
    """The validation report as Markdown: intro, the table, an account of each row that does not
    pass, and what produced it. No clock time: the same rows give the same text."""
    seed = Scenario().run.seed if seed is None else seed
    counts = {k: sum(r.status == k for r in rows) for k in (PASS, FAIL, NOT_COMPARABLE)}
    lines = [
        "# Validation against published figures",
        "",
        "Each row compares a figure the simulator produces with its **default calibration** to "
        "a figure published by researchers or by the platform. It is a fidelity check, not a "
        "fit: no parameter is tuned to make a row pass, and where the model cannot match a "
        "published effect the row says so and why. Rows measured by simulation state their "
        "paths, seed, window and history. Several defaults were derived from these same papers "
        "(MODEL.md, [D]); those rows check that the model's win probability, with its "
        "competitors and outside option, still reproduces the published figure. `make test` "
        f"runs the fast checks with {FAST_PATHS:,} paths (tests/test_validation.py).",
        "",
        "Generated by `make validate` (or `repsim validate`) from `sim/validation.py`. "
        f"Result: {counts[PASS]} pass, {counts[FAIL]} fail, {counts[NOT_COMPARABLE]} not "
        "comparable.",
        "",
        "| Check | Published figure | Source | Model | How measured | Tolerance | Result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        verdict = f"**{r.status}**" + (f": {r.reason}" if r.reason else "")
        cells = [
            f"`{r.id}` {r.title}",
            r.published,
            r.source,
            r.model,
            r.method,
            r.tolerance,
            verdict,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    failing = [r for r in rows if r.status != PASS]
    if failing:
        lines += ["## Rows that do not pass", ""]
        for r in failing:
            lines += [f"### `{r.id}`: {r.status}", "", r.reason, ""]
            if r.explanation:
                lines += [r.explanation, ""]
    versions = ", ".join(
        [f"repsim {_version('repsim')}", f"Python {platform.python_version()}"]
        + [f"{d} {_version(d)}" for d in ("numpy", "scipy", "pydantic")]
    )
    lines += [
        "## How this file was made",
        "",
        f"- Checks: {len(rows)} of the {len(CHECKS)} registered; simulated checks use "
        f"{paths:,} paths and seed {seed}.",
        f"- Versions: {versions}.",
        "- Same code, versions and options give the same bytes: the file holds no clock time.",
        "",
    ]
    return "\n".join(lines)


def write_report(
    path: str | Path,
    rows: Sequence[Row],
    paths: int,
    seed: int | None = None,
) -> bytes:
    """Write `report_markdown` to ``path`` atomically (readers see the old file or the new one);
    returns the bytes written."""
    data = report_markdown(rows, paths, seed).encode("utf-8")
    write_atomic(path, data)
    return data
