"""Validation of one negative's cost: Cabral & Hortaçsu 2010 and Resnick et al. 2006."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize

from . import run
from .engine import trajectories
from .scenario import Scenario, load_scenario, validate_scenario
from .validation_base import NOT_COMPARABLE, PASS, SCEPTICAL_PRESET, Row, Settings, _verdict

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
