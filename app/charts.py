"""Altair chart builders over a `sim.Result`, shared by the dashboard and the CLI (no Streamlit)."""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

import sim

__all__ = ["CHART_TITLES", "arm_scale", "build_charts", "bands_frame"]

# One colour per arm, in scenario order, everywhere (Tableau 10: distinct, colour-blind aware).
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac", "#17becf", "#7f7f7f")
WIDTH, HEIGHT = 560, 300
CHART_TITLES = {
    "stars": "Displayed stars",
    "jss": "Job Success Score (%)",
    "win_prob": "Chance one proposal wins",
    "earnings": "Cumulative net earnings ($)",
    "recovery": "Weeks until the win rate recovers",
    "ratings_needed": "Further 5-star ratings needed",
}
METRIC_FORMAT = {"stars": ".2f", "jss": ".0f", "win_prob": ".2%", "earnings": "$,.0f"}


def arm_scale(arms: tuple[str, ...]) -> alt.Scale:
    """The colour scale that gives each arm the same colour in every chart."""
    return alt.Scale(domain=list(arms), range=[PALETTE[i % len(PALETTE)] for i in range(len(arms))])


def bands_frame(result: sim.Result, metric: str) -> pd.DataFrame:
    """Tidy weekly bands of one metric: arm, week, q05..q95, mean."""
    frames = []
    for arm in result.arms:
        b = result.bands(arm, metric)
        frames.append(pd.DataFrame({"arm": arm, "week": np.arange(result.weeks), **b}))
    return pd.concat(frames, ignore_index=True)


def _base(df: pd.DataFrame, arms: tuple[str, ...]) -> alt.Chart:
    return alt.Chart(df).encode(
        x=alt.X("week:Q", title="Week from today"),
        color=alt.Color("arm:N", scale=arm_scale(arms), title="Arm", sort=list(arms)),
    )


def fan_chart(result: sim.Result, metric: str) -> alt.LayerChart:
    """5-95% and 25-75% bands across paths with the median line, one colour per arm."""
    df = bands_frame(result, metric)
    fmt = METRIC_FORMAT.get(metric, ".2f")
    base = _base(df, result.arms)
    tooltip = [
        alt.Tooltip("arm:N"),
        alt.Tooltip("week:Q"),
        alt.Tooltip("q50:Q", title="median", format=fmt),
        alt.Tooltip("q25:Q", title="25%", format=fmt),
        alt.Tooltip("q75:Q", title="75%", format=fmt),
        alt.Tooltip("mean:Q", format=fmt),
    ]
    outer = base.mark_area(opacity=0.15).encode(y=alt.Y("q05:Q", title=CHART_TITLES[metric]), y2="q95:Q")
    inner = base.mark_area(opacity=0.3).encode(y="q25:Q", y2="q75:Q")
    median = base.mark_line(strokeWidth=2).encode(y="q50:Q", tooltip=tooltip)
    return (outer + inner + median).properties(
        width=WIDTH, height=HEIGHT, title=f"{CHART_TITLES[metric]}: median, 25-75% and 5-95% of futures"
    )


def earnings_chart(result: sim.Result) -> alt.VConcatChart:
    """Mean cumulative net earnings per arm, and each arm's mean difference from the reference."""
    df = bands_frame(result, "earnings")
    top = fan_chart(result, "earnings")
    ref = df[df.arm == result.reference].set_index("week")["mean"]
    diff = df[df.arm != result.reference].copy()
    diff["difference"] = diff["mean"].to_numpy() - ref.reindex(diff["week"]).to_numpy()
    bottom = (
        _base(diff, result.arms)
        .mark_line(strokeWidth=2)
        .encode(
            y=alt.Y("difference:Q", title=f"Mean difference from {result.reference} ($)"),
            tooltip=["arm:N", "week:Q", alt.Tooltip("difference:Q", format="$,.0f")],
        )
        .properties(width=WIDTH, height=HEIGHT // 2)
    )
    return alt.vconcat(top, bottom).resolve_scale(color="shared")


def recovery_chart(result: sim.Result) -> alt.Chart:
    """Distribution over paths of the weeks until the reference's win rate recovers."""
    rows = []
    for arm in result.arms[1:]:
        w = result.weeks_to_recover(arm)
        never = int(np.sum(w < 0))
        values, counts = np.unique(w[w >= 0], return_counts=True)
        rows += [{"arm": arm, "weeks": int(v), "share": c / w.size} for v, c in zip(values, counts, strict=True)]
        rows.append({"arm": arm, "weeks": result.weeks, "share": never / w.size, "never": True})
    df = pd.DataFrame(rows or [{"arm": result.reference, "weeks": 0, "share": 0.0}])
    return (
        alt.Chart(df)
        .mark_bar(opacity=0.8)
        .encode(
            x=alt.X("weeks:Q", bin=alt.Bin(maxbins=40), title=f"Weeks (the bar at {result.weeks}: never)"),
            y=alt.Y("sum(share):Q", title="Share of futures", axis=alt.Axis(format="%")),
            color=alt.Color("arm:N", scale=arm_scale(result.arms), title="Arm"),
            tooltip=["arm:N", alt.Tooltip("sum(share):Q", format=".1%", title="share")],
        )
        .properties(width=WIDTH, height=HEIGHT, title=CHART_TITLES["recovery"])
    )


def ratings_needed_frame(result: sim.Result) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for arm, table in result.ratings_needed().items():
        for agg, targets in table.items():
            for target, n in targets.items():
                rows.append({"arm": arm, "signal": f"{agg} to {target}", "ratings": n})
    return pd.DataFrame(rows)


def ratings_needed_chart(result: sim.Result) -> alt.Chart:
    """Closed-form count of further 5-star ratings to reach each target (absent: unreachable)."""
    df = ratings_needed_frame(result).dropna()
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("signal:N", title=None),
            yOffset=alt.YOffset("arm:N", sort=list(result.arms)),
            x=alt.X("ratings:Q", title="Further 5-star ratings"),
            color=alt.Color("arm:N", scale=arm_scale(result.arms), title="Arm"),
            tooltip=["arm:N", "signal:N", "ratings:Q"],
        )
        .properties(width=WIDTH, height=HEIGHT, title=CHART_TITLES["ratings_needed"])
    )


def build_charts(result: sim.Result) -> dict[str, alt.TopLevelMixin]:
    """Every chart of a result, by name: stars, jss, win_prob, earnings, recovery, ratings_needed."""
    return {
        "stars": fan_chart(result, "stars"),
        "jss": fan_chart(result, "jss"),
        "win_prob": fan_chart(result, "win_prob"),
        "earnings": earnings_chart(result),
        "recovery": recovery_chart(result),
        "ratings_needed": ratings_needed_chart(result),
    }
