"""The tornado chart (Altair, no Streamlit): what drives the headline cost and the recovery."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from app.charts import WIDTH
from sim.sensitivity import Bar, Tornado

__all__ = ["ENDS", "recovery_figure", "tornado_chart", "tornado_frame"]

# The two ends of each bar, light to dark as the assumption rises: two shades of teal from the
# charts' palette that no rule takes by name (rules own their colours on every chart)
ENDS = {"low": "#86bcb6", "high": "#499894"}
BASE_COLOUR = "#79706e"
STEP = 20  # px per bar
LABEL_LIMIT = 240  # px of an assumption's name and range before it is cut (a phone keeps bars)
# per figure: the panel's title and the line under it, its axis title and the number format
FIGURE_WORDS = {
    "earnings": (
        "Headline cost ({arm} minus {reference})",
        "mean net earnings difference by week {weeks}",
        "Mean difference ($)",
        "$,.0f",
    ),
    "recovery": (
        "Recovery for good (median week)",
        "until {reference}'s win rate stays at 95% of {arm}'s",
        "Week (median over futures)",
        ",.0f",
    ),
    "not_recovered": (
        "Futures not back for good by week {weeks}",
        "{reference}'s win rate below 95% of {arm}'s at the end",
        "Share of futures",
        ".0%",
    ),
}


def recovery_figure(t: Tornado) -> str:
    """The recovery panel's figure: the median week when the default run's is within the
    horizon, else the share of futures not back for good (a median beyond the horizon cannot
    move on a chart)."""
    return "recovery" if t.base.get("recovery") is not None else "not_recovered"


def _value(b: Bar, x: float | None, weeks: int) -> float:
    """A figure as drawn: a median beyond the horizon at the horizon's end."""
    return float(weeks) if x is None else float(x)


def tornado_frame(t: Tornado, figures: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The chart's one table: per figure and assumption, a segment from the default run's
    figure to the figure at the low end, and one to the figure at the high end."""
    rows = []
    for figure in figures or tuple(t.bars):
        rows += _rows(t, figure)
    columns = ["figure", "assumption", "rank", "end", "setting", "base", "value", "text", "swing"]
    return pd.DataFrame(rows, columns=columns)


def _rows(t: Tornado, figure: str) -> list[dict[str, Any]]:
    fmt = FIGURE_WORDS[figure][3]
    rows = []
    for rank, b in enumerate(t.bars[figure], 1):
        label = f"{b.key} ({b.low:g} to {b.high:g})"
        base = _value(b, b.at_default, t.weeks)
        for end, setting, x in (("low", b.low, b.at_low), ("high", b.high, b.at_high)):
            shown = "beyond the horizon" if x is None else format(x, fmt.replace("$", ""))
            rows.append(
                {
                    "figure": figure,
                    "assumption": label,
                    "rank": rank,
                    "end": end,
                    "setting": setting,
                    "base": base,
                    "value": _value(b, x, t.weeks),
                    "text": f"{b.key} = {setting:g}: {shown}",
                    "swing": b.swing,
                }
            )
    # the longer segment of an assumption first: a shorter one on the same side stays in view
    order = {
        (r["rank"], r["end"]): (r["rank"], -abs(r["value"] - r["base"]), r["end"]) for r in rows
    }
    return sorted(rows, key=lambda r: order[r["rank"], r["end"]])


def _panel(t: Tornado, figure: str, data: pd.DataFrame) -> alt.LayerChart:
    title, line, axis_title, fmt = FIGURE_WORDS[figure]
    words = {"arm": t.arm, "reference": t.reference, "weeks": t.weeks}
    labels = [r["assumption"] for r in _rows(t, figure) if r["end"] == "low"]
    y = alt.Y("assumption:N", sort=labels, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    only = alt.FieldEqualPredicate(field="figure", equal=figure)
    bars = (
        alt.Chart(data)
        .transform_filter(only)
        .mark_bar(height=STEP * 0.7)
        .encode(
            y=y,
            x=alt.X(
                "base:Q", title=axis_title, axis=alt.Axis(format=fmt), scale=alt.Scale(zero=False)
            ),
            x2="value:Q",
            color=alt.Color(
                "end:N",
                scale=alt.Scale(domain=list(ENDS), range=list(ENDS.values())),
                legend=alt.Legend(title="Assumption at its", orient="bottom"),
            ),
            description=alt.Description("text:N"),
            tooltip=[
                alt.Tooltip("assumption:N"),
                alt.Tooltip("end:N", title="at its"),
                alt.Tooltip("setting:Q", title="set to"),
                alt.Tooltip("value:Q", title="figure", format=fmt),
                alt.Tooltip("base:Q", title="at the defaults", format=fmt),
            ],
        )
    )
    # the figure at the defaults: every row holds it (one table behind the chart and its CSV)
    rule = (
        alt.Chart(data)
        .transform_filter(only)
        .mark_rule(color=BASE_COLOUR, strokeDash=[4, 3])
        .encode(x="base:Q")
    )
    return (bars + rule).properties(
        width=WIDTH,
        height=alt.Step(STEP),
        title=alt.TitleParams(
            title.format(**words), subtitle=line.format(**words), anchor="start", fontSize=12
        ),
    )


def tornado_chart(t: Tornado) -> alt.VConcatChart:
    """Two panels, each sorted by its own swing: the headline cost, and the recovery."""
    money = t.base.get("earnings")
    subtitle = [
        "each assumption at its low and its high, the others at their defaults;",
        f"{t.paths:,} futures on the same random numbers (seed {t.seed}); dashed line: the "
        "figure at the defaults"
        + (f" ({'-' if money < 0 else ''}${abs(money):,.0f})" if money is not None else ""),
    ]
    shown = ("earnings", recovery_figure(t))
    data = tornado_frame(t, shown)
    chart = alt.vconcat(
        *(_panel(t, figure, data) for figure in shown),
        title=alt.TitleParams("What drives the figures", subtitle=subtitle, anchor="start"),
    )
    pad = alt.AutoSizeParams(type="pad", contains="padding")
    return chart.resolve_scale(color="shared").properties(autosize=pad)
