"""The policy frontier chart (Altair, no Streamlit): protection against signal lost, per rule."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from app.charts import arm_colours
from sim.policy_types import RuleMeasures

__all__ = [
    "NO_FAIR_LOWS",
    "NO_UNFAIR",
    "SIZE",
    "frontier_chart",
    "frontier_frame",
    "not_plotted",
    "screen_spec",
    "series_colours",
    "series_name",
    "setting_words",
]

SIZE = 420  # px, the exported chart's plot (square); on screen it takes its column's width
NO_UNFAIR = "no unfair ratings"  # protection is None: nothing to protect
NO_FAIR_LOWS = "no fair low ratings"  # signal lost is None: nothing to lose
# drawn as labelled corners, not on a line: the first arm that keeps everything (the reference;
# a keep arm on another aggregator, a statistical filter, is a rule) and the oracle
CORNERS = ("keep", "oracle")
# A swept rule's series, by (rule, swept setting): the dashboard's name for that rule where it
# has one (app/controls.CATALOG), so that it takes the same colour as on every other chart
FAMILIES = {
    ("exclude_flagged", "delay_weeks"): "excluded",
    ("flagged_client", "threshold"): "flagged-client rule",
    ("whitby", "q"): "whitby filter",
    ("window", "last_n"): "window",
    ("window", "last_weeks"): "window",
    ("keep", "prior_weight"): "bayesian average",
}
# the swept setting in words, for the point's label and the tooltip
SETTING_WORDS = {
    "delay_weeks": "{v:g}-week queue",
    "threshold": "threshold {v:g}",
    "q": "q {v:g}",
    "last_n": "last {v:g} ratings",
    "last_weeks": "last {v:g} weeks",
    "prior_weight": "prior weight {v:g}",
}
LABELS = {  # the short label beside each point (the tooltip has the words)
    "delay_weeks": "{v:g} wk",
    "threshold": "{v:g}",
    "q": "{v:g}",
    "last_n": "{v:g}",
    "last_weeks": "{v:g} wk",
    "prior_weight": "{v:g}",
}
COLUMNS = [
    "series",
    "rule",
    "arm",
    "setting",
    "label",
    "value",
    "corner",
    "protection",
    "protection_lo",
    "protection_hi",
    "signal_lost",
    "signal_lost_lo",
    "signal_lost_hi",
    "protection_words",
    "signal_lost_words",
    "protection_weeks_words",
    "ranking_stars_words",
    "ranking_jss_words",
    "victims_harm_words",
    "poor_gain_words",
    "hired_quality_words",
    "unfair_lows",
    "fair_lows",
]


def series_name(row: RuleMeasures) -> str:
    """The line a row belongs to: a rule swept over a setting is one series, named as the
    dashboard names that rule; a rule as given (and the keep and oracle corners) is its arm."""
    if row.parameter is None:
        return row.arm
    return FAMILIES.get((row.rule, row.parameter), f"{row.rule} ({row.parameter})")


def setting_words(row: RuleMeasures) -> str:
    """The row's setting in words: "threshold 3.5", "2-week queue"; the arm's name if none."""
    if row.parameter is None or row.value is None:
        return row.arm
    template = SETTING_WORDS.get(row.parameter, f"{row.parameter} {{v:g}}")
    return template.format(v=row.value)


def _label(row: RuleMeasures) -> str:
    if row.parameter is None or row.value is None:
        return row.arm
    return LABELS.get(row.parameter, "{v:g}").format(v=row.value)


def _share(x: float | None, interval: tuple[float, float] | None, none: str) -> str:
    if x is None or not math.isfinite(x):
        return none
    text = f"{x:.0%}"
    if interval is not None:
        text += f" (90%: {interval[0]:.0%} to {interval[1]:.0%})"
    return text


def _number(
    x: float | None, interval: tuple[float, float] | None, fmt: str, none: str = "none"
) -> str:
    if x is None or not math.isfinite(x):
        return none
    text = format(x, fmt)
    if interval is not None:
        text += f" (90%: {format(interval[0], fmt)} to {format(interval[1], fmt)})"
    return text.replace("$-", "-$")


def _money(x: float | None, interval: tuple[float, float] | None, none: str) -> str:
    if x is None or not math.isfinite(x):
        return none

    def m(v: float) -> str:
        return f"{'-' if v < 0 else ''}${abs(v):,.0f}"

    text = m(x)
    if interval is not None:
        text += f" (90%: {m(interval[0])} to {m(interval[1])})"
    return text


def _bounds(interval: tuple[float, float] | None) -> tuple[float | None, float | None]:
    return (None, None) if interval is None else (float(interval[0]), float(interval[1]))


def frontier_frame(rows: Sequence[RuleMeasures]) -> pd.DataFrame:
    """One row per rule and setting: what the chart draws (shares as fractions) and every
    measure in words for its tooltip. Rows with nothing to protect or lose are kept, with
    empty coordinates: the chart leaves them out and says why (`not_plotted`)."""
    out: list[dict[str, Any]] = []
    corners = corner_arms(rows)
    for r in rows:
        p_lo, p_hi = _bounds(r.protection90)
        s_lo, s_hi = _bounds(r.signal_lost90)
        out.append(
            {
                "series": series_name(r),
                "rule": r.rule,
                "arm": r.arm,
                "setting": setting_words(r),
                "label": _label(r),
                "value": r.value,
                "corner": r.arm in corners,
                "protection": r.protection,
                "protection_lo": p_lo,
                "protection_hi": p_hi,
                "signal_lost": r.signal_lost,
                "signal_lost_lo": s_lo,
                "signal_lost_hi": s_hi,
                "protection_words": _share(r.protection, r.protection90, NO_UNFAIR),
                "signal_lost_words": _share(r.signal_lost, r.signal_lost90, NO_FAIR_LOWS),
                "protection_weeks_words": _number(r.protection_weeks, None, ".1f", "none stopped"),
                "ranking_stars_words": _number(r.ranking_stars, r.ranking_stars90, ".3f"),
                "ranking_jss_words": _number(r.ranking_jss, r.ranking_jss90, ".3f"),
                "victims_harm_words": _money(r.victims_harm, r.victims_harm90, "no victims"),
                "poor_gain_words": _money(r.poor_gain, r.poor_gain90, "no poor workers"),
                "hired_quality_words": _number(r.hired_quality, r.hired_quality90, ".3f"),
                "unfair_lows": int(r.unfair_lows),
                "fair_lows": int(r.fair_lows),
            }
        )
    frame = pd.DataFrame(out, columns=COLUMNS)
    frame["label"] = thinned_labels(frame)
    return frame


# Labels beside points that would overlap are left out (the tooltip still names the setting):
# boxes estimated at the exported size, `SIZE` px square; text about 0.6 em wide a character
CHAR, LINE = 0.6, 1.2


RIGHT = 0.7  # a label of a point further right than this reads leftwards, inside the plot


def _box(x: float, y: float, text: str, corner: bool) -> tuple[float, float, float, float]:
    size, dx, dy = (12, 9, 0) if corner else (10, 6, -6)
    width = len(text) * size * CHAR
    left = x * SIZE - dx - width if x > RIGHT and not corner else x * SIZE + dx
    middle = (1 - y) * SIZE + dy
    return left, middle - size * LINE / 2, left + width, middle + size * LINE / 2


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


NEAR = 4  # px: a rule's consecutive settings this close to the first of a run share its label


def thinned_labels(frame: pd.DataFrame) -> list[str]:
    """Each point's label, or "" where it would overlap one already placed: the corners first,
    then each rule's first and last settings, then its others, then the rules as given (the
    legend names those). A rule's consecutive settings at about the same place share one
    label ("3 to 4.5")."""
    drawn = frame["protection"].notna() & frame["signal_lost"].notna()
    rows = frame[drawn]
    corner = rows["corner"].astype(bool)
    swept = rows[rows["value"].notna() & ~corner]
    text = {i: str(r["label"]) for i, r in rows.iterrows()}
    order = list(rows.index[corner])
    for _, group in swept.groupby("series", sort=False):
        runs: list[list[int]] = []
        for i in group.sort_values("value", kind="stable").index:
            here = (rows.at[i, "signal_lost"] * SIZE, rows.at[i, "protection"] * SIZE)
            if runs:
                j = runs[-1][0]
                there = (rows.at[j, "signal_lost"] * SIZE, rows.at[j, "protection"] * SIZE)
                if max(abs(here[0] - there[0]), abs(here[1] - there[1])) <= NEAR:
                    runs[-1].append(i)
                    continue
            runs.append([i])
        for run in runs:
            if len(run) > 1:
                text[run[0]] = f"{text[run[0]]} to {text[run[-1]]}"
                for i in run[1:]:
                    text[i] = ""
        firsts = [run[0] for run in runs]
        order += [*firsts[:1], *firsts[-1:][: len(firsts) - 1], *firsts[1:-1]]
    order += list(rows.index[rows["value"].isna() & ~corner])
    labels = [""] * len(frame)
    placed: list[tuple[float, float, float, float]] = []
    for i in order:
        r = rows.loc[i]
        box = _box(r["signal_lost"], r["protection"], text[i], bool(r["corner"]))
        if not text[i] or any(_overlap(box, other) for other in placed):
            continue
        placed.append(box)
        labels[frame.index.get_loc(i)] = text[i]
    return labels


def not_plotted(rows: Sequence[RuleMeasures]) -> list[str]:
    """Why some rows are not on the chart, in words (empty when every row is)."""
    notes = []
    if any(r.protection is None for r in rows):
        notes.append(f"{NO_UNFAIR}: protection is not measured, so no point is drawn")
    if any(r.signal_lost is None for r in rows):
        notes.append(f"{NO_FAIR_LOWS}: signal lost is not measured, so no point is drawn")
    return notes


def corner_arms(rows: Sequence[RuleMeasures]) -> dict[str, str]:
    """The corners' arms and their rules: the first keep arm as given, the first oracle."""
    out: dict[str, str] = {}
    for r in rows:
        if r.rule in CORNERS and r.parameter is None and r.rule not in out.values():
            out[r.arm] = r.rule
    return out


def series_order(rows: Sequence[RuleMeasures]) -> list[str]:
    """The legend's order: keep and the oracle first, then the rules as they come."""
    names = list(dict.fromkeys(series_name(r) for r in rows))
    rank = {arm: CORNERS.index(rule) for arm, rule in corner_arms(rows).items()}
    return sorted(names, key=lambda n: rank.get(n, len(CORNERS)))  # stable: the rest in order


TOOLTIP = [
    alt.Tooltip("series:N", title="rule"),
    alt.Tooltip("setting:N", title="setting"),
    alt.Tooltip("protection_words:N", title="protection"),
    alt.Tooltip("protection_weeks_words:N", title="weeks until it stops counting"),
    alt.Tooltip("signal_lost_words:N", title="signal lost"),
    alt.Tooltip("ranking_stars_words:N", title="ranking by stars"),
    alt.Tooltip("ranking_jss_words:N", title="ranking by JSS"),
    alt.Tooltip("victims_harm_words:N", title="victims' harm"),
    alt.Tooltip("poor_gain_words:N", title="poor workers' gain"),
    alt.Tooltip("hired_quality_words:N", title="hired quality"),
    alt.Tooltip("unfair_lows:Q", title="unfair low ratings", format=","),
    alt.Tooltip("fair_lows:Q", title="fair low ratings", format=","),
]


ORACLE_COLOUR = "#3a3a3a"  # the oracle's corner: a reference, not a rule one could adopt


def series_colours(rows: Sequence[RuleMeasures]) -> dict[str, str]:
    """Each series' colour: a rule's by its name, as on every other chart (`arm_colours`); the
    oracle's corner dark grey, apart from every rule's colour."""
    oracle = [arm for arm, rule in corner_arms(rows).items() if rule == "oracle"]
    names = tuple(n for n in series_order(rows) if n not in oracle)
    return {**arm_colours(names), **dict.fromkeys(oracle, ORACLE_COLOUR)}


def frontier_chart(rows: Sequence[RuleMeasures], title: str | None = None) -> alt.LayerChart:
    """Protection (y) against signal lost (x), both 0-100%: each rule's settings as points
    joined by a line, labelled with the setting; keep and the oracle as labelled corners;
    90% intervals as error bars; one colour per rule, by name, as on every other chart. Rows
    with no unfair ratings (or no fair low ones) are not drawn at 0: the subtitle says so."""
    frame = frontier_frame(rows)
    order = series_order(rows)
    colours = series_colours(rows)
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=order, range=[colours[n] for n in order]),
        title="Rule",
    )
    axis = {"format": "%", "values": [0, 0.25, 0.5, 0.75, 1]}
    scale = alt.Scale(domain=[0, 1], nice=False, clamp=True)
    x = alt.X("signal_lost:Q", title="Signal lost (fair low ratings hidden)", scale=scale,
              axis=alt.Axis(**axis))  # fmt: skip
    y = alt.Y("protection:Q", title="Protection (unfair low ratings hidden)", scale=scale,
              axis=alt.Axis(**axis))  # fmt: skip
    shown = alt.datum.protection != None  # noqa: E711 (a Vega expression, not Python)
    shown = shown & (alt.datum.signal_lost != None)  # noqa: E711
    base = alt.Chart(frame).transform_filter(shown).encode(x=x, y=y, color=colour)
    swept = base.transform_filter(~alt.datum.corner)
    corners = base.transform_filter(alt.datum.corner)
    # a line joins a rule's swept settings only; a rule as given (the question's own) is a
    # square of its own, drawn over the settings (it may sit on one of them)
    swept_only = alt.datum.value != None  # noqa: E711
    settings = swept.transform_filter(swept_only)
    given = swept.transform_filter(~swept_only)
    line = settings.mark_line(strokeWidth=1.5, opacity=0.8).encode(
        order=alt.Order("value:Q"), detail="series:N"
    )
    error_y = swept.mark_rule(strokeWidth=1, opacity=0.6).encode(
        y="protection_lo:Q", y2="protection_hi:Q"
    )
    error_x = swept.mark_rule(strokeWidth=1, opacity=0.6).encode(
        x="signal_lost_lo:Q", x2="signal_lost_hi:Q"
    )
    points = settings.mark_point(filled=True, size=45, opacity=1).encode(tooltip=TOOLTIP)
    given_points = given.mark_point(
        shape="square", filled=True, size=70, opacity=1, stroke="white", strokeWidth=1
    ).encode(tooltip=TOOLTIP)
    leftwards = alt.datum.signal_lost > RIGHT
    labels = (
        swept.transform_filter(~leftwards)
        .mark_text(align="left", dx=6, dy=-6, fontSize=10)
        .encode(text="label:N")
    )
    labels_left = (
        swept.transform_filter(leftwards)
        .mark_text(align="right", dx=-6, dy=-6, fontSize=10)
        .encode(text="label:N")
    )
    corner_points = corners.mark_point(shape="diamond", filled=True, size=140, opacity=1).encode(
        tooltip=TOOLTIP
    )
    corner_labels = corners.mark_text(
        align="left", dx=9, dy=0, fontSize=12, fontWeight="bold"
    ).encode(text="arm:N")
    subtitle = [
        "dots: each rule at each setting, labelled with it, joined by a line; squares: the "
        "question's own rules;",
        "bars: 90% intervals; diamonds: keep (nothing hidden) and the oracle (exactly the "
        "unfair ratings hidden)",
        *not_plotted(rows),
    ]
    chart = alt.layer(
        line,
        error_y,
        error_x,
        points,
        given_points,
        labels,
        labels_left,
        corner_points,
        corner_labels,
    ).properties(
        width=SIZE,
        height=SIZE,
        title=alt.TitleParams(
            title or "Protection against signal lost", subtitle=subtitle, anchor="start"
        ),
    )
    pad = alt.AutoSizeParams(type="pad", contains="padding")
    return chart.configure_legend(
        orient="bottom", columns=2, symbolOpacity=1, labelLimit=0, symbolLimit=0
    ).properties(autosize=pad)


SCREEN_AUTOSIZE = {"type": "fit-x", "contains": "padding"}


def screen_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart as the dashboard draws it: as wide as its column (a phone's 390 px too), as
    tall as it is wide up to `SIZE`, the subtitle left out (the page says it in words)."""
    spec = chart.to_dict()
    spec["width"] = "container"
    spec["autosize"] = SCREEN_AUTOSIZE
    title = spec.get("title")
    if isinstance(title, dict):
        spec["title"] = {k: v for k, v in title.items() if k != "subtitle"}
    return spec
