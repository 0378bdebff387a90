"""Altair chart builders over a `sim.Result`, shared by the dashboard and the CLI (no Streamlit)."""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

import sim
from app import dates

__all__ = [
    "CHART_TITLES",
    "arm_scale",
    "bands_frame",
    "build_charts",
    "build_specs",
    "json_spec",
]

# One colour per rule, by its name, on every chart, page and export (Tableau 10 first: distinct
# and colour-blind aware; then Tableau 20's lighter shades for names the catalog does not know).
RULE_COLOURS = {
    "kept": "#4e79a7",
    "excluded": "#f28e2b",
    "harsh-rater rule": "#59a14f",
    "suspended client": "#e15759",
    "whitby filter": "#76b7b2",
    "last 100 ratings": "#edc948",
    "last 104 weeks": "#b07aa1",
    "bayesian average": "#ff9da7",
    "beta reputation": "#9c755f",
    "flagged-client rule": "#bab0ac",
    "excluded at once": "#f28e2b",  # the same rule as "excluded"
    "excluded after 6 weeks": "#d37295",
}
PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#d37295", "#a0cbe8", "#ffbe7d", "#8cd17d", "#b6992d", "#86bcb6",
    "#ff9d9a", "#79706e", "#d4a6c8", "#fabfd2", "#f1ce63", "#499894", "#17becf", "#7f7f7f",
)  # fmt: skip
PANELS_OVER = 3  # with more rules than this, charts draw one panel per rule against the reference
# Two charts side by side fit the dashboard's wide layout; exports use the same size.
WIDTH, HEIGHT = 400, 230
CHART_TITLES = {
    "stars": "Displayed stars",
    "jss": "Job Success Score (%)",
    "win_prob": "Chance one proposal wins",
    "earnings": "Cumulative net earnings ($)",
    "recovery": "Weeks until the win rate recovers for good",
    "ratings_needed": "Further 5-star ratings needed",
}
METRIC_FORMAT = {"stars": ".2f", "jss": ".0f", "win_prob": ".2%", "earnings": "$,.0f"}
FANS = ("stars", "jss", "win_prob")
# the data each chart draws, by dataset name
DATASETS = {
    "stars": ("stars",),
    "jss": ("jss",),
    "win_prob": ("win_prob",),
    "earnings": ("earnings", "earnings_difference"),
    "recovery": ("recovery",),
    "ratings_needed": ("ratings_needed",),
}

Source = pd.DataFrame | alt.NamedData


@dataclass(frozen=True)
class Shape:
    """What a chart's layout depends on, apart from the numbers: arms, reference, horizon."""

    arms: tuple[str, ...]
    weeks: int
    colours: tuple[tuple[str, str], ...] = ()  # (arm, colour) pairs; default: `arm_colours`
    today: datetime.date | None = None  # week 0's date: the axes show each tick's month too

    @property
    def reference(self) -> str:
        return self.arms[0]


def _preferred(name: str) -> str:
    """A rule's own colour: the catalog's, else one picked by a stable hash of its name."""
    if name in RULE_COLOURS:
        return RULE_COLOURS[name]
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return PALETTE[int.from_bytes(digest[:4], "big") % len(PALETTE)]


@functools.lru_cache(maxsize=64)
def arm_colours(arms: tuple[str, ...]) -> dict[str, str]:
    """Each arm's colour, from its name (never its place in the list). Two arms that would
    share a colour (a name outside the catalog, or two names for one rule) are told apart: the
    catalog's names keep theirs, the others take the next free colour, in name order, so the
    same rules get the same colours on every chart, page and export."""
    out: dict[str, str] = {}
    for name in sorted(set(arms), key=lambda n: (n not in RULE_COLOURS, n)):
        want = _preferred(name)
        start = PALETTE.index(want) if want in PALETTE else 0
        ring = [want, *PALETTE[start:], *PALETTE[:start]]
        out[name] = next((c for c in ring if c not in out.values()), want)
    return out


def arm_scale(shape: Shape, arms: tuple[str, ...] | None = None) -> alt.Scale:
    """The colour scale of some of a shape's arms (default all), each in its own colour."""
    colours = dict(shape.colours) or arm_colours(shape.arms)
    arms = shape.arms if arms is None else arms
    return alt.Scale(domain=list(arms), range=[colours[a] for a in arms])


# -- data -------------------------------------------------------------------------------------


def bands_frame(result: sim.Result, metric: str) -> pd.DataFrame:
    """Tidy weekly bands of one metric: arm, week, q05..q95, mean."""
    bands = [result.bands(arm, metric) for arm in result.arms]
    columns = _arm_weeks(result.arms, result.weeks)
    columns |= {key: np.concatenate([b[key] for b in bands]) for key in bands[0]}
    return pd.DataFrame(columns)


def _arm_weeks(arms: tuple[str, ...], weeks: int) -> dict[str, np.ndarray]:
    """The arm and week columns of a tidy frame with every week of each arm in turn."""
    return {
        "arm": np.repeat(np.array(arms, dtype=object), weeks),
        "week": np.tile(np.arange(weeks), len(arms)),
    }


def _difference_frame(result: sim.Result) -> pd.DataFrame:
    """Each arm's mean cumulative earnings minus the reference's (the mean paired difference)."""
    ref = result.bands(result.reference, "earnings")["mean"]
    others = result.arms[1:]
    columns = _arm_weeks(others, result.weeks)
    differences = [result.bands(arm, "earnings")["mean"] - ref for arm in others]
    columns["difference"] = np.concatenate(differences or [[]])
    return pd.DataFrame(columns)


def recovery_bin(weeks: int) -> int:
    """Weeks per bar of the recovery chart: at most 26 bars before the "never" bar."""
    return max(1, math.ceil(weeks / 26))


def recovery_frame(result: sim.Result) -> pd.DataFrame:
    """Per rule, the share of futures whose recovery falls in each bin of weeks, and the share
    that never recover ("never", the last bin): each rule's shares sum to 1."""
    width = recovery_bin(result.weeks)
    never_at = -(-result.weeks // width) * width  # the first bin edge at or after the horizon
    rows = []
    for arm in result.arms[1:]:
        w = result.weeks_to_recover(arm)
        bins = np.where(w < 0, never_at // width, w // width)
        counts = np.bincount(bins, minlength=never_at // width + 1)
        for b in np.flatnonzero(counts):
            start, share = int(b) * width, counts[b] / w.size
            never = start == never_at
            weeks = (
                "never" if never else f"{start}" if width == 1 else f"{start}-{start + width - 1}"
            )
            rows.append(
                {
                    "arm": arm,
                    "start": start,
                    "end": start + width,
                    "weeks": weeks,
                    "share": share,
                    "text": f"{arm}: share={share:.6f} weeks={weeks}",
                }
            )
    columns = ["arm", "start", "end", "weeks", "share", "text"]
    return pd.DataFrame(rows, columns=columns)


def ratings_needed_frame(result: sim.Result) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for arm, table in result.ratings_needed().items():
        for agg, targets in table.items():
            for target, n in targets.items():
                rows.append({"arm": arm, "signal": f"{agg} to {target}", "ratings": n})
    return pd.DataFrame(rows, columns=["arm", "signal", "ratings"]).dropna()


def chart_data(result: sim.Result) -> dict[str, pd.DataFrame]:
    """Every dataset the charts draw, by name."""
    data = {m: bands_frame(result, m) for m in (*FANS, "earnings")}
    data["earnings_difference"] = _difference_frame(result)
    data["recovery"] = recovery_frame(result)
    data["ratings_needed"] = ratings_needed_frame(result)
    return data


# -- charts -----------------------------------------------------------------------------------


def _title(name: str, subtitle: str | list[str]) -> alt.TitleParams:
    return alt.TitleParams(CHART_TITLES[name], subtitle=subtitle, anchor="start")


def _panel_title(arm: str, shape: Shape) -> alt.TitleParams:
    return alt.TitleParams(f"{arm} against {shape.reference}", anchor="start", fontSize=12)


def _only(arms: tuple[str, ...]) -> alt.FieldOneOfPredicate:
    return alt.FieldOneOfPredicate(field="arm", oneOf=list(arms))


def week_title(today: datetime.date | None, title: str = "Week from today") -> str:
    """A weeks axis's title, with today's date when the scenario has one."""
    return title if today is None else f"{title} (today: {dates.day(today)})"


def _week_axis(shape: Shape) -> alt.Axis | Any:
    """With a date: ticks every quarter or so, each with its month under the week number."""
    if shape.today is None:
        return alt.Undefined
    ticks = dates.axis_ticks(shape.weeks)
    return alt.Axis(values=ticks, labelExpr=dates.label_expr(shape.today, ticks))


def _base(source: Source, shape: Shape, arms: tuple[str, ...]) -> alt.Chart:
    last = max(shape.weeks - 1, 1)
    return alt.Chart(source).encode(
        x=alt.X(
            "week:Q",
            title=week_title(shape.today),
            scale=alt.Scale(domain=[0, last], nice=False),
            axis=_week_axis(shape),
        ),
        # the scale's domain orders the legend and the layers: a "sort" here would add a
        # per-row formula to every redraw
        color=alt.Color("arm:N", scale=arm_scale(shape, arms), title="Rule"),
    )


def fan_chart(
    source: Source, shape: Shape, metric: str, arms: tuple[str, ...] | None = None
) -> alt.LayerChart:
    """5-95% and 25-75% bands across paths with the median line, one colour per arm; with
    `arms`, a panel of those arms only (the reference and one rule)."""
    panel = arms is not None
    arms = shape.arms if arms is None else arms
    fmt = METRIC_FORMAT.get(metric, ".2f")
    base = _base(source, shape, arms)
    tooltip = [
        alt.Tooltip("arm:N", title="rule"),
        alt.Tooltip("week:Q"),
        alt.Tooltip("q50:Q", title="median", format=fmt),
        alt.Tooltip("q25:Q", title="25%", format=fmt),
        alt.Tooltip("q75:Q", title="75%", format=fmt),
        alt.Tooltip("mean:Q", format=fmt),
    ]
    # stars live between 1 and 5: a zero baseline would flatten the difference between arms
    y_scale = alt.Scale(zero=metric != "stars")
    # aria=False: a band or line is one SVG path, which shows one description, yet Vega-Lite
    # would format a description for every week on every redraw; the chart keeps its title
    outer = base.mark_area(opacity=0.15, aria=False).encode(
        y=alt.Y("q05:Q", title=CHART_TITLES[metric], scale=y_scale), y2="q95:Q"
    )
    inner = base.mark_area(opacity=0.3, aria=False).encode(y="q25:Q", y2="q75:Q")
    median = base.mark_line(strokeWidth=2, aria=False).encode(y="q50:Q", tooltip=tooltip)
    chart = (outer + inner + median).properties(width=WIDTH, height=HEIGHT)
    if not panel:
        return chart.properties(title=_title(metric, FAN_SUBTITLE))
    return chart.transform_filter(_only(arms)).properties(title=_panel_title(arms[-1], shape))


FAN_SUBTITLE = "line: median; bands: 25-75% and 5-95%"


def _difference_chart(source: Source, shape: Shape, arm: str | None = None) -> alt.Chart:
    """Each rule's mean earnings minus the reference's; with `arm`, that rule's only."""
    arms = shape.arms[1:] if arm is None else (arm,)
    chart = (
        _base(source, shape, arms)
        .mark_line(strokeWidth=2, aria=False)
        .encode(
            y=alt.Y("difference:Q", title=f"Mean difference from {shape.reference} ($)"),
            tooltip=[
                alt.Tooltip("arm:N", title="rule"),
                "week:Q",
                alt.Tooltip("difference:Q", format="$,.0f"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT // 2)
    )
    return chart if arm is None else chart.transform_filter(_only(arms))


def earnings_chart(earnings: Source, difference: Source, shape: Shape) -> alt.VConcatChart:
    """Cumulative net earnings per arm, and each arm's mean difference from the reference."""
    if not panelled(shape, "earnings"):
        top = fan_chart(earnings, shape, "earnings")
        bottom = _difference_chart(difference, shape)
        return alt.vconcat(top, bottom).resolve_scale(color="shared")
    data = {"earnings": earnings, "earnings_difference": difference}
    panels = [_panel("earnings", data, shape, arm) for arm in shape.arms[1:]]
    return _grid(panels, "earnings", FAN_SUBTITLE)


def panelled(shape: Shape, name: str) -> bool:
    """Whether a chart draws one panel per rule against the reference (small multiples)."""
    if name == "recovery":  # the reference has no recovery of its own: one panel per other rule
        return len(shape.arms) > 2
    return name in (*FANS, "earnings") and len(shape.arms) > PANELS_OVER


def _grid(panels: list, name: str, subtitle: str | list[str]) -> alt.ConcatChart:
    return alt.concat(*panels, columns=2, title=_title(name, subtitle)).resolve_scale(
        color="independent"
    )


def recovery_panel(source: Source, shape: Shape, arm: str, single: bool) -> alt.Chart:
    """One rule's distribution over futures of the weeks until the reference's win rate is
    back to 95% of the rule's: bars from zero (never stacked), summing to 100%."""
    width = recovery_bin(shape.weeks)
    never_at = -(-shape.weeks // width) * width
    step = max(width, 10 * math.ceil(shape.weeks / 50))
    ticks = [*range(0, never_at, step), never_at + width / 2]
    never = f"datum.value > {never_at} ? 'never' : datum.label"
    if shape.today is not None:  # each tick's month under its week number
        ticks = [*dates.axis_ticks(never_at), never_at + width / 2]
        never = dates.label_expr(shape.today, ticks[:-1], never)
    chart = (
        alt.Chart(source)
        .mark_bar(opacity=0.85, binSpacing=1)
        .encode(
            x=alt.X(
                "start:Q",
                bin="binned",
                title=week_title(shape.today, f"Weeks until {shape.reference}'s win rate is back"),
                scale=alt.Scale(domain=[0, never_at + width], nice=False),
                axis=alt.Axis(values=ticks, labelExpr=never),
            ),
            x2="end:Q",
            y=alt.Y("share:Q", title="Share of futures", axis=alt.Axis(format="%"), stack=None),
            color=alt.Color("arm:N", scale=arm_scale(shape, (arm,)), title="Rule"),
            description=alt.Description("text:N"),
            tooltip=[
                alt.Tooltip("arm:N", title="rule"),
                alt.Tooltip("weeks:N"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .transform_filter(_only((arm,)))
        .properties(width=WIDTH, height=HEIGHT)
    )
    subtitle = [line.format(weeks=shape.weeks) for line in RECOVERY_SUBTITLE]
    if single:
        return chart.properties(title=_title("recovery", subtitle))
    return chart.properties(title=_panel_title(arm, shape))


def recovery_chart(source: Source, shape: Shape) -> alt.TopLevelMixin:
    """The recovery distribution per rule: one chart, or one panel per rule."""
    others = shape.arms[1:] or shape.arms
    if not panelled(shape, "recovery"):
        return recovery_panel(source, shape, others[0], single=True)
    panels = [_panel("recovery", {"recovery": source}, shape, arm) for arm in others]
    subtitle = [line.format(weeks=shape.weeks) for line in RECOVERY_SUBTITLE]
    return _grid(panels, "recovery", subtitle)


RECOVERY_SUBTITLE = (
    "the week the reference's win rate is back for good to 95% of the rule's",
    "last bar: not back for good by week {weeks}",
)


def ratings_needed_chart(source: Source, shape: Shape) -> alt.Chart:
    """Closed-form count of further 5-star ratings to reach each target (absent: unreachable)."""
    return (
        alt.Chart(source)
        .mark_bar()
        .encode(
            y=alt.Y("signal:N", title=None),
            yOffset=alt.YOffset("arm:N", sort=list(shape.arms)),
            x=alt.X("ratings:Q", title="Further 5-star ratings"),
            color=alt.Color("arm:N", scale=arm_scale(shape), title="Rule"),
            tooltip=[alt.Tooltip("arm:N", title="rule"), "signal:N", "ratings:Q"],
        )
        .properties(
            width=WIDTH,
            # one bar per rule and signal (the step of yOffset's band): thinner with many rules
            height=alt.Step(10 if len(shape.arms) <= PANELS_OVER else 6),
            title=_title("ratings_needed", "closed form, from today's counted feedback"),
        )
    )


def _fans(source: Source, shape: Shape, metric: str) -> alt.TopLevelMixin:
    if not panelled(shape, metric):
        return fan_chart(source, shape, metric)
    panels = [_panel(metric, {metric: source}, shape, arm) for arm in shape.arms[1:]]
    return _grid(panels, metric, FAN_SUBTITLE)


def _panel(name: str, data: dict[str, Source], shape: Shape, arm: str) -> alt.TopLevelMixin:
    """One panel of a chart of small multiples: a rule against the reference."""
    if name in FANS:
        return fan_chart(data[name], shape, name, (shape.reference, arm))
    if name == "earnings":
        return alt.vconcat(
            fan_chart(data["earnings"], shape, "earnings", (shape.reference, arm)),
            _difference_chart(data["earnings_difference"], shape, arm),
        )
    return recovery_panel(data["recovery"], shape, arm, single=False)


def _chart(name: str, data: dict[str, Source], shape: Shape) -> alt.TopLevelMixin:
    if name in FANS:
        return _fans(data[name], shape, name)
    if name == "earnings":
        return earnings_chart(data["earnings"], data["earnings_difference"], shape)
    if name == "recovery":
        return recovery_chart(data["recovery"], shape)
    return ratings_needed_chart(data["ratings_needed"], shape)


def _finish(chart: alt.TopLevelMixin, shape: Shape) -> alt.TopLevelMixin:
    """The legend below the plot, in as many columns as fit a phone's width, and whole: every
    rule's entry and its full name; "pad" is vl-convert's default, stated so that an export
    draws the same size as the dashboard's fixed-width specs."""
    pad = alt.AutoSizeParams(type="pad", contains="padding")
    columns = 2 if len(shape.arms) > 2 else 0
    return chart.configure_legend(
        orient="bottom", columns=columns, symbolOpacity=1, labelLimit=0, symbolLimit=0
    ).properties(autosize=pad)


def _charts(data: dict[str, Source], shape: Shape) -> dict[str, alt.TopLevelMixin]:
    return {name: _finish(_chart(name, data, shape), shape) for name in DATASETS}


def build_charts(result: sim.Result) -> dict[str, alt.TopLevelMixin]:
    """Every chart of a result by name: stars, jss, win_prob, earnings, recovery, ratings_needed."""
    return _charts(chart_data(result), shape_of(result))


def shape_of(result: sim.Result) -> Shape:
    """What a result's charts are laid out by: its rules, horizon and today."""
    return Shape(result.arms, result.weeks, today=getattr(result.scenario, "today", None))


def _named() -> dict[str, alt.NamedData]:
    # parse=None: the rows arrive as JSON numbers and nulls; Vega-Lite's default would convert
    # every row's week again on each redraw
    return {
        name: alt.NamedData(name=name, format=alt.DataFormat(parse=None))
        for names in DATASETS.values()
        for name in names
    }


@functools.lru_cache(maxsize=32)
def _templates(shape: Shape) -> dict[str, dict[str, Any]]:
    """Vega-Lite specs with named, empty datasets: built and validated once per shape. Small
    multiples are put together from one validated panel per chart, whatever the rules."""
    named = _named()
    return {
        name: _grid_spec(name, shape)
        if panelled(shape, name)
        else _finish(_chart(name, named, shape), shape).to_dict()
        for name in DATASETS
    }


# A panel is built for a placeholder reference and rule in placeholder colours, validated once
# per chart and horizon, and filled in with each rule's name and colour as JSON text: Altair
# takes ~80 ms to build a panel, and nine rules have 40.
PLACEHOLDERS = (("\u27e8reference\u27e9", "#000001"), ("\u27e8rule\u27e9", "#000002"))


@functools.lru_cache(maxsize=64)
def _panel_template(
    name: str, weeks: int, today: datetime.date | None = None
) -> tuple[str, dict[str, Any]]:
    """(one panel as JSON text, the chart's top-level settings) for placeholder rules."""
    (ref, _), (arm, _) = PLACEHOLDERS
    shape = Shape((ref, arm), weeks, PLACEHOLDERS, today)
    panel = _panel(name, _named(), shape, arm)
    subtitle = _SUBTITLES[name](weeks)
    many = Shape((ref, arm, "another"), weeks, today=today)  # a chart of several rules
    grid = _finish(_grid([panel], name, subtitle), many).to_dict()
    (only,) = grid.pop("concat")
    return json.dumps(only), grid


_SUBTITLES = {
    **{m: (lambda weeks: FAN_SUBTITLE) for m in (*FANS, "earnings")},
    "recovery": lambda weeks: [line.format(weeks=weeks) for line in RECOVERY_SUBTITLE],
}


def _grid_spec(name: str, shape: Shape) -> dict[str, Any]:
    text, top = _panel_template(name, shape.weeks, shape.today)
    colours = arm_colours(shape.arms)
    (p_ref, c_ref), (p_arm, c_arm) = PLACEHOLDERS
    panels = []
    others = shape.arms[1:]
    for arm in others:
        panel = text
        for placeholder, value in ((p_ref, shape.reference), (p_arm, arm)):
            panel = panel.replace(json.dumps(placeholder)[1:-1], json.dumps(value)[1:-1])
        panel = panel.replace(c_ref, colours[shape.reference]).replace(c_arm, colours[arm])
        panels.append(json.loads(panel))
    title = json.dumps(top["title"])
    title = title.replace(json.dumps(p_ref)[1:-1], json.dumps(shape.reference)[1:-1])
    return {**top, "title": json.loads(title), "concat": panels}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN (no value that week) as null, as Altair writes inline data."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def build_specs(result: sim.Result) -> dict[str, dict[str, Any]]:
    """The Vega-Lite specs of `build_charts`, fast: cached templates whose named datasets are
    this result's data frames (what the dashboard redraws after each change; Streamlit sends
    frames to the browser as Arrow). `json_spec` makes one plain JSON for an export."""
    data = chart_data(result)
    specs = {}
    for name, template in _templates(shape_of(result)).items():
        spec = dict(template)  # shallow: only the datasets differ between results
        spec["datasets"] = {d: data[d] for d in DATASETS[name]}
        specs[name] = spec
    return specs


def json_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec from `build_specs` with its data frames as inline JSON rows (for vl-convert)."""
    datasets = {
        name: _records(rows) if isinstance(rows, pd.DataFrame) else rows
        for name, rows in spec.get("datasets", {}).items()
    }
    return {**spec, "datasets": datasets} if datasets else spec


# -- on screen --------------------------------------------------------------------------------

SCREEN_AUTOSIZE = {"type": "fit-x", "contains": "padding"}
COMPOSITE = ("concat", "vconcat", "hconcat")


def screen_panels(spec: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """A chart as the dashboard draws it, sized to its column: a list of panels (one per rule
    against the reference for small multiples, else one), each a list of single views stacked
    top to bottom, whose width is the container's. Altair's layouts of several views have fixed
    widths; their views, drawn one by one, do not. Each view carries only its rules' rows."""
    if not any(k in spec for k in COMPOSITE):
        return [[_screen_view({}, spec)]]
    common = {k: v for k, v in spec.items() if k not in (*COMPOSITE, "title", "resolve")}
    cells = spec.get("concat") or [spec]
    return [
        [_screen_view(common, view) for view in cell.get("vconcat") or [cell]] for cell in cells
    ]


def screen_title(spec: dict[str, Any]) -> tuple[str, str] | None:
    """The title and subtitle of a grid of panels, which the page shows above them."""
    title = spec.get("title") if "concat" in spec else None
    if not isinstance(title, dict):
        return None
    subtitle = title.get("subtitle", "")
    lines = subtitle if isinstance(subtitle, list) else [subtitle]
    return str(title.get("text", "")), "; ".join(map(str, lines))


def _screen_view(common: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
    out = {**common, **view, "width": "container", "autosize": SCREEN_AUTOSIZE}
    if "datasets" in out:
        # only the datasets this view draws (the browser updates each dataset a view has on
        # every redraw, and knows none it does not draw), with only its rules' rows
        used = _data_names({k: v for k, v in out.items() if k != "datasets"})
        arms = _filtered_arms(view)
        out["datasets"] = {
            name: rows[rows["arm"].isin(arms)]
            if arms is not None and isinstance(rows, pd.DataFrame) and "arm" in rows
            else rows
            for name, rows in out["datasets"].items()
            if name in used
        }
    return out


def _data_names(node: Any) -> set[str]:
    """The named datasets a view (or any part of it) draws."""
    if isinstance(node, list):
        return set().union(*map(_data_names, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    names = {node["data"]["name"]} if isinstance(node.get("data"), dict) else set()
    names.discard(None)
    return names.union(*(_data_names(v) for k, v in node.items() if k != "data"))


def _filtered_arms(view: dict[str, Any]) -> list[str] | None:
    for t in view.get("transform", []):
        f = t.get("filter")
        if isinstance(f, dict) and f.get("field") == "arm" and "oneOf" in f:
            return list(f["oneOf"])
    return None
