"""Validation against the platform's own worked examples: oDesk's mean, the JSS, ratings needed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import reputation
from .validation_base import Row, Settings, _verdict

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
