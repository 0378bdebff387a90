"""The policy frontier chart on hand-made measures: every rule drawn in its colour, exports."""

from __future__ import annotations

import json
import re

import pytest

from app import files
from app.charts import RULE_COLOURS, arm_colours
from app.export import chart_bytes
from app.frontier_chart import (
    NO_UNFAIR,
    ORACLE_COLOUR,
    SIZE,
    _box,
    _overlap,
    frontier_chart,
    frontier_frame,
    not_plotted,
    screen_spec,
    series_name,
)
from sim.policy_types import RuleMeasures


def measures(
    rule: str,
    arm: str,
    protection: float | None,
    signal_lost: float | None,
    parameter: str | None = None,
    value: float | None = None,
) -> RuleMeasures:
    """A rule's measures with made-up figures and intervals around them."""

    def around(x: float | None, width: float = 0.04) -> tuple[float, float] | None:
        return None if x is None else (max(0.0, x - width), min(1.0, x + width))

    return RuleMeasures(
        rule=rule,
        arm=arm,
        parameter=parameter,
        value=value,
        protection=protection,
        protection90=around(protection),
        protection_weeks=None if protection is None else 3.5,
        signal_lost=signal_lost,
        signal_lost90=around(signal_lost),
        ranking_stars=0.41,
        ranking_stars90=(0.39, 0.43),
        ranking_jss=0.38,
        ranking_jss90=(0.36, 0.40),
        victims_harm=None if protection is None else 812.5,
        victims_harm90=None if protection is None else (790.0, 835.0),
        poor_gain=-12.0,
        poor_gain90=(-20.0, -4.0),
        hired_quality=4.61,
        hired_quality90=(4.60, 4.62),
        unfair_lows=0 if protection is None else 1234,
        fair_lows=5678,
    )


# (rule, swept setting, arm prefix): (value, protection, signal lost) per setting
SWEEPS = {
    ("flagged_client", "threshold", "flagged"): (
        (2.5, 0.1, 0.02), (3.0, 0.3, 0.05), (3.5, 0.5, 0.1), (4.0, 0.7, 0.3),
    ),
    ("whitby", "q", "whitby"): ((0.01, 0.05, 0.1), (0.05, 0.2, 0.25), (0.1, 0.35, 0.4)),
    ("window", "last_n", "last"): ((20, 0.4, 0.4), (50, 0.2, 0.2), (100, 0.1, 0.1)),
    ("exclude_flagged", "delay_weeks", "queue"): ((0, 0.6, 0.01), (2, 0.55, 0.01), (6, 0.4, 0.01)),
    ("keep", "prior_weight", "bayesian"): ((2, 0.02, 0.02), (5, 0.05, 0.05), (20, 0.1, 0.1)),
}  # fmt: skip


def frontier_rows() -> list[RuleMeasures]:
    rows = [
        measures("keep", "kept", 0.0, 0.0),
        measures("keep", "bayesian average", 0.03, 0.03),  # a keep arm on another aggregator
        measures("oracle", "oracle", 1.0, 0.0),
    ]
    for (rule, parameter, prefix), settings in SWEEPS.items():
        for value, p, s in settings:
            rows.append(measures(rule, f"{prefix} {value:g}", p, s, parameter, value))
    return rows


def _layers(spec: dict) -> list[dict]:
    return spec["layer"]


def _data(spec: dict) -> list[dict]:
    (rows,) = spec["datasets"].values()
    return rows


def test_every_rule_is_in_the_chart_in_the_colour_of_the_other_charts():
    rows = frontier_rows()
    spec = frontier_chart(rows).to_dict()
    series = {series_name(r) for r in rows}
    assert series == {
        "kept",
        "oracle",
        "flagged-client rule",
        "whitby filter",
        "window",
        "excluded",
        "bayesian average",
    }
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert set(scale["domain"]) == series
    assert scale["domain"][:2] == ["kept", "oracle"]  # the corners lead the legend
    corners = {r["arm"] for r in _data(spec) if r["corner"]}
    assert corners == {"kept", "oracle"}  # the Bayesian average as given is a rule, not a corner
    colours = dict(zip(scale["domain"], scale["range"], strict=True))
    for name in ("kept", "excluded", "flagged-client rule", "whitby filter", "bayesian average"):
        assert colours[name] == RULE_COLOURS[name]  # as on the Compare page's charts
    rules = tuple(n for n in scale["domain"] if n != "oracle")
    assert {n: colours[n] for n in rules} == arm_colours(rules)
    assert colours["oracle"] == ORACLE_COLOUR  # the reference corner, apart from every rule
    assert len(set(colours.values())) == len(colours)  # one colour per rule
    assert {r["series"] for r in _data(spec)} == series
    assert len(_data(spec)) == len(rows)


def test_the_axes_are_shares_from_0_to_100_percent_and_the_tooltip_has_every_measure():
    spec = frontier_chart(frontier_rows()).to_dict()
    enc = spec["layer"][0]["encoding"]
    for axis, field in (("x", "signal_lost"), ("y", "protection")):
        assert enc[axis]["field"] == field
        assert enc[axis]["scale"]["domain"] == [0, 1]
        assert enc[axis]["axis"]["format"] == "%"
    tooltips = [layer["encoding"].get("tooltip") for layer in _layers(spec)]
    (tooltip, *_) = [t for t in tooltips if t]
    shown = {t["title"] for t in tooltip}
    for words in ("protection", "signal lost", "ranking by stars", "ranking by JSS",
                  "victims' harm", "poor workers' gain", "hired quality",
                  "weeks until it stops counting"):  # fmt: skip
        assert words in shown
    row = next(r for r in _data(spec) if r["setting"] == "threshold 3.5")
    assert row["protection_words"] == "50% (90%: 46% to 54%)"
    assert row["victims_harm_words"] == "$812 (90%: $790 to $835)"
    assert row["poor_gain_words"] == "-$12 (90%: -$20 to -$4)"


def test_intervals_are_error_bars_and_settings_are_labelled():
    spec = frontier_chart(frontier_rows()).to_dict()
    encodings = [layer["encoding"] for layer in _layers(spec)]
    assert any(e.get("y2", {}).get("field") == "protection_hi" for e in encodings)
    assert any(e.get("x2", {}).get("field") == "signal_lost_hi" for e in encodings)
    texts = {e["text"]["field"] for e in encodings if "text" in e}
    assert texts == {"label", "arm"}  # settings beside points, the corners by name
    labels = {r["label"] for r in _data(spec) if not r["corner"]}
    assert {"2.5", "0.05", "100", "2 wk", "20"} <= labels


def test_no_unfair_ratings_is_said_in_words_not_drawn_at_zero():
    rows = [measures("keep", "kept", None, 0.0), measures("oracle", "oracle", None, 0.0)]
    frame = frontier_frame(rows)
    assert frame["protection"].isna().all()
    assert (frame["protection_words"] == NO_UNFAIR).all()
    spec = frontier_chart(rows).to_dict()
    assert any(NO_UNFAIR in line for line in spec["title"]["subtitle"])
    # every layer keeps only rows with both coordinates: none is drawn at 0
    for layer in _layers(spec):
        filters = json.dumps(layer.get("transform", []))
        assert "datum.protection !== null" in filters or "protection !== null" in filters
    assert not_plotted(frontier_rows()) == []


def test_a_rule_as_given_is_its_own_series():
    row = measures("suspended_client", "suspended client", 0.2, 0.0)
    assert series_name(row) == "suspended client"
    spec = frontier_chart([measures("keep", "kept", 0, 0), row]).to_dict()
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert (
        scale["range"][scale["domain"].index("suspended client")]
        == RULE_COLOURS["suspended client"]
    )


def test_on_screen_the_chart_takes_its_column_width():
    spec = screen_spec(frontier_chart(frontier_rows()))
    assert spec["width"] == "container"
    assert spec["autosize"]["type"] == "fit-x"


@pytest.mark.parametrize("fmt", ["png", "svg", "html"])
def test_exports_render(fmt: str):
    chart = frontier_chart(frontier_rows())
    name, data = files.chart_file("frontier", chart, fmt)
    assert name == f"charts/frontier.{fmt}"
    assert data == chart_bytes(chart, fmt)
    if fmt == "png":
        assert data.startswith(b"\x89PNG")
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width > 400 and height > 400
    elif fmt == "svg":
        text = data.decode()
        assert text.startswith("<svg")
        for name in ("flagged-client rule", "whitby filter", "bayesian average", "oracle"):
            assert name in text  # each legend entry and corner label drawn
        assert re.search(r"Signal lost", text)
    else:
        assert b"vega" in data and b"flagged-client rule" in data


def test_the_chart_data_exports_as_csv():
    _, data = files.chart_file("frontier", frontier_chart(frontier_rows()), "csv")
    lines = data.decode().splitlines()
    assert lines[0].startswith("series,rule,arm,setting")
    assert len(lines) == 1 + len(frontier_rows())


def test_labels_that_would_overlap_are_left_out_and_settings_at_one_place_share_one():
    rows = [
        measures("keep", "kept", 0.0, 0.0),
        measures("oracle", "oracle", 1.0, 0.0),
        # thresholds 3 to 4.5 land on one point; 2 sits on the keep corner
        *(
            measures("flagged_client", f"f{t}", 0.35, 0.0035, "threshold", t)
            for t in (3.0, 3.5, 4.0, 4.5)
        ),
        measures("flagged_client", "f2", 0.0, 0.0, "threshold", 2.0),
        measures("flagged_client", "f5", 0.57, 0.57, "threshold", 5.0),
        # queues 1% of protection apart: 4 px at the chart's size, closer than a line of text
        *(
            measures("exclude_flagged", f"q{w}", 0.50 - 0.01 * k, 0.005, "delay_weeks", w)
            for k, w in enumerate((0, 1, 2, 4, 8, 13))
        ),
    ]
    frame = frontier_frame(rows)
    labels = dict(zip(frame["arm"], frame["label"], strict=True))
    assert labels["f3.0"] == "3 to 4.5" and labels["f3.5"] == labels["f4.5"] == ""
    assert labels["f2"] == ""  # under the keep corner's label
    assert labels["f5"] == "5" and labels["kept"] == "kept" and labels["oracle"] == "oracle"
    assert labels["q0"].startswith("0 wk")  # the first setting of a rule is labelled
    shown = frame[frame["label"] != ""]
    boxes = [_box(r.signal_lost, r.protection, r.label, bool(r.corner)) for r in shown.itertuples()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b)
    assert len(shown) < len(frame)


def test_a_label_near_the_right_edge_reads_leftwards_inside_the_plot():
    rows = [
        measures("keep", "kept", 0.0, 0.0),
        measures("drop_below", "drop below 4 stars", 1.0, 1.0),
    ]
    spec = frontier_chart(rows).to_dict()
    texts = [layer for layer in _layers(spec) if layer["mark"].get("type") == "text"]
    rightwards = [t for t in texts if t["mark"].get("align") == "right"]
    assert len(rightwards) == 1 and "signal_lost > 0.7" in json.dumps(rightwards[0]["transform"])
    left, _, right, _ = _box(1.0, 1.0, "drop below 4 stars", corner=False)
    assert right <= SIZE and left < right
