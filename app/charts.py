"""Altair chart builders over a `sim.Result`, shared by the dashboard and the CLI (no Streamlit)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

import sim

__all__ = [
    "CHART_TITLES",
    "arm_scale",
    "bands_frame",
    "build_charts",
    "build_specs",
    "json_spec",
]

# One colour per arm, in scenario order, everywhere (Tableau 10: distinct, colour-blind aware).
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#17becf",
    "#7f7f7f",
)
# Two charts side by side fit the dashboard's wide layout; exports use the same size.
WIDTH, HEIGHT = 400, 230
CHART_TITLES = {
    "stars": "Displayed stars",
    "jss": "Job Success Score (%)",
    "win_prob": "Chance one proposal wins",
    "earnings": "Cumulative net earnings ($)",
    "recovery": "Weeks until the win rate recovers",
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

    @property
    def reference(self) -> str:
        return self.arms[0]


def arm_scale(arms: tuple[str, ...]) -> alt.Scale:
    """The colour scale that gives each arm the same colour in every chart."""
    return alt.Scale(domain=list(arms), range=[PALETTE[i % len(PALETTE)] for i in range(len(arms))])


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


def _recovery_frame(result: sim.Result) -> pd.DataFrame:
    rows = []
    for arm in result.arms[1:]:
        w = result.weeks_to_recover(arm)
        never = int(np.sum(w < 0))
        values, counts = np.unique(w[w >= 0], return_counts=True)
        rows += [
            {"arm": arm, "weeks": int(v), "share": c / w.size}
            for v, c in zip(values, counts, strict=True)
        ]
        rows.append({"arm": arm, "weeks": result.weeks, "share": never / w.size})
    return pd.DataFrame(rows or [{"arm": result.reference, "weeks": 0, "share": 0.0}])


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
    data["recovery"] = _recovery_frame(result)
    data["ratings_needed"] = ratings_needed_frame(result)
    return data


# -- charts -----------------------------------------------------------------------------------


def _title(name: str, subtitle: str) -> alt.TitleParams:
    return alt.TitleParams(CHART_TITLES[name], subtitle=subtitle, anchor="start")


def _base(source: Source, shape: Shape) -> alt.Chart:
    last = max(shape.weeks - 1, 1)
    return alt.Chart(source).encode(
        x=alt.X("week:Q", title="Week from today", scale=alt.Scale(domain=[0, last], nice=False)),
        # the scale's domain orders the legend and the layers: a "sort" here would add a
        # per-row formula to every redraw
        color=alt.Color("arm:N", scale=arm_scale(shape.arms), title="Arm"),
    )


def fan_chart(source: Source, shape: Shape, metric: str) -> alt.LayerChart:
    """5-95% and 25-75% bands across paths with the median line, one colour per arm."""
    fmt = METRIC_FORMAT.get(metric, ".2f")
    base = _base(source, shape)
    tooltip = [
        alt.Tooltip("arm:N"),
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
    return (outer + inner + median).properties(
        width=WIDTH, height=HEIGHT, title=_title(metric, "line: median; bands: 25-75% and 5-95%")
    )


def earnings_chart(earnings: Source, difference: Source, shape: Shape) -> alt.VConcatChart:
    """Cumulative net earnings per arm, and each arm's mean difference from the reference."""
    top = fan_chart(earnings, shape, "earnings")
    bottom = (
        _base(difference, shape)
        .mark_line(strokeWidth=2, aria=False)
        .encode(
            y=alt.Y("difference:Q", title=f"Mean difference from {shape.reference} ($)"),
            tooltip=["arm:N", "week:Q", alt.Tooltip("difference:Q", format="$,.0f")],
        )
        .properties(width=WIDTH, height=HEIGHT // 2)
    )
    return alt.vconcat(top, bottom).resolve_scale(color="shared")


def recovery_chart(source: Source, shape: Shape) -> alt.Chart:
    """Distribution over paths of the weeks until the reference's win rate recovers."""
    return (
        alt.Chart(source)
        .mark_bar(opacity=0.8)
        .encode(
            x=alt.X(
                "weeks:Q",
                bin=alt.Bin(maxbins=40),
                title=f"Weeks (the bar at {shape.weeks}: never)",
            ),
            y=alt.Y("sum(share):Q", title="Share of futures", axis=alt.Axis(format="%")),
            color=alt.Color(
                "arm:N",
                scale=arm_scale(shape.arms),
                title="Arm",
                legend=alt.Legend(values=list(shape.arms[1:]) or None),  # the reference has none
            ),
            tooltip=["arm:N", alt.Tooltip("sum(share):Q", format=".1%", title="share")],
        )
        .properties(
            width=WIDTH,
            height=HEIGHT,
            title=_title(
                "recovery",
                f"the week {shape.reference}'s win rate is back to 95% of the other arm's",
            ),
        )
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
            color=alt.Color("arm:N", scale=arm_scale(shape.arms), title="Arm"),
            tooltip=["arm:N", "signal:N", "ratings:Q"],
        )
        .properties(
            width=WIDTH,
            height=HEIGHT,
            title=_title("ratings_needed", "closed form, from today's counted feedback"),
        )
    )


def _charts(data: dict[str, Source], shape: Shape) -> dict[str, alt.TopLevelMixin]:
    charts = {m: fan_chart(data[m], shape, m) for m in FANS}
    charts["earnings"] = earnings_chart(data["earnings"], data["earnings_difference"], shape)
    charts["recovery"] = recovery_chart(data["recovery"], shape)
    charts["ratings_needed"] = ratings_needed_chart(data["ratings_needed"], shape)
    # legend below the plot keeps each chart within its WIDTH (two fit side by side); "pad" is
    # vl-convert's default, stated so that the dashboard draws the same size as the export
    pad = alt.AutoSizeParams(type="pad", contains="padding")
    return {
        name: chart.configure_legend(orient="bottom", symbolOpacity=1).properties(autosize=pad)
        for name, chart in charts.items()
    }


def build_charts(result: sim.Result) -> dict[str, alt.TopLevelMixin]:
    """Every chart of a result by name: stars, jss, win_prob, earnings, recovery, ratings_needed."""
    return _charts(chart_data(result), Shape(result.arms, result.weeks))


@functools.lru_cache(maxsize=32)
def _templates(shape: Shape) -> dict[str, dict[str, Any]]:
    """Vega-Lite specs with named, empty datasets: built and validated once per shape."""
    # parse=None: the rows arrive as JSON numbers and nulls; Vega-Lite's default would convert
    # every row's week again on each redraw
    named = {
        name: alt.NamedData(name=name, format=alt.DataFormat(parse=None))
        for names in DATASETS.values()
        for name in names
    }
    return {name: chart.to_dict() for name, chart in _charts(named, shape).items()}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN (no value that week) as null, as Altair writes inline data."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def build_specs(result: sim.Result) -> dict[str, dict[str, Any]]:
    """The Vega-Lite specs of `build_charts`, fast: cached templates whose named datasets are
    this result's data frames (what the dashboard redraws after each change; Streamlit sends
    frames to the browser as Arrow). `json_spec` makes one plain JSON for an export."""
    data = chart_data(result)
    specs = {}
    for name, template in _templates(Shape(result.arms, result.weeks)).items():
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
