"""One writer per file type, shared by `repsim run` and the dashboard: same input, same bytes."""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sim

if TYPE_CHECKING:  # pandas is imported when a table is written: `repsim check` starts faster
    import pandas as pd

__all__ = [
    "RENDERED",
    "bands_csv",
    "bands_frame",
    "cell",
    "chart_file",
    "csv_bytes",
    "headlines_csv",
    "headlines_rows",
    "json_bytes",
    "scenario_toml",
    "summary_json",
]

RENDERED = ("png", "svg", "html")  # chart formats drawn by vl-convert; json and csv are data


def _json_default(x: Any) -> Any:
    if isinstance(x, datetime.date):  # a swept `today` or `ended`, as TOML writes it
        return x.isoformat()
    if hasattr(x, "item"):  # numpy scalars
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"{type(x).__name__} is not JSON serialisable")


def json_bytes(obj: Any) -> bytes:
    """Stable JSON: sorted keys, two-space indent, floats in their shortest exact form."""
    text = json.dumps(
        obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False, default=_json_default
    )
    return (text + "\n").encode("utf-8")


def cell(value: Any) -> str:
    """One CSV cell: floats to 10 significant digits, NaN and None empty, TOML-style booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return f"{value:.10g}" if math.isfinite(value) else ""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, sort_keys=True)
    return str(value)


def csv_bytes(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    """A CSV table with "\\n" line ends and `cell` formatting: the same rows, the same bytes."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    return buf.getvalue().encode("utf-8")


def _frame_csv(frame: pd.DataFrame) -> bytes:
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return csv_bytes([str(c) for c in frame.columns], rows)


# -- the run's files --------------------------------------------------------------------------


def summary_json(summary: dict[str, Any]) -> bytes:
    """summary.json: `Result.summary()` as stable JSON."""
    return json_bytes(summary)


HEADLINE_COLUMNS = (
    "arm",
    "metric",
    "mean",
    "ci90_low",
    "ci90_high",
    "futures90_low",
    "futures90_high",
    "assumptions90_low",
    "assumptions90_high",
)


def headlines_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The three figures of each headline difference (arm minus the reference): the mean and
    its 90% Monte Carlo interval, the 5-95% range across futures, and across futures and
    assumptions (empty with assumptions fixed)."""
    rows = []
    for arm, d in summary["differences"].items():
        for metric in ("jobs", "earnings"):
            f = d[metric]
            wide = f.get("assumptions90") or [None, None]
            futures = f.get("futures90") or [f.get("p05"), f.get("p95")]
            rows.append(
                {
                    "arm": arm,
                    "metric": metric,
                    "mean": f["mean"],
                    "ci90_low": f["ci90"][0],
                    "ci90_high": f["ci90"][1],
                    "futures90_low": futures[0],
                    "futures90_high": futures[1],
                    "assumptions90_low": wide[0],
                    "assumptions90_high": wide[1],
                }
            )
    return rows


def headlines_csv(summary: dict[str, Any]) -> bytes:
    """headlines.csv: `headlines_rows` of the summary."""
    return csv_bytes(HEADLINE_COLUMNS, headlines_rows(summary))


def bands_frame(result: sim.Result) -> pd.DataFrame:
    """The bands.csv table (arm, metric, week, q05..q95, mean); small enough to cache."""
    import pandas as pd

    return pd.DataFrame(result.bands_columns())


def bands_csv(bands: pd.DataFrame) -> bytes:
    """bands.csv from `bands_frame`."""
    return _frame_csv(bands)


def scenario_toml(sc: sim.Scenario) -> bytes:
    """scenario.toml: the scenario as run, which `repsim run` accepts as is."""
    return sim.dumps_scenario(sc).encode("utf-8")


# -- charts -----------------------------------------------------------------------------------


def _spec(chart: Any) -> dict[str, Any]:
    """An Altair chart's spec, or a spec from `build_specs` with its data frames as JSON rows."""
    from app.charts import json_spec

    return chart.to_dict() if hasattr(chart, "to_dict") else json_spec(chart)


def _chart_data_csv(spec: dict[str, Any]) -> bytes:
    """The data behind a chart: its datasets, joined on their shared columns."""
    import pandas as pd

    frames = [pd.DataFrame(rows) for rows in spec.get("datasets", {}).values()]
    if not frames:
        return b""
    df = frames[0]
    for other in frames[1:]:
        shared = [c for c in df.columns if c in other.columns]
        df = (
            df.merge(other, how="outer", on=shared, sort=False)
            if shared
            else pd.concat([df, other])
        )
    return _frame_csv(df)


def chart_file(name: str, chart: Any, fmt: str) -> tuple[str, bytes]:
    """(file name, bytes) of one chart in one format: png, svg, html, json (the Vega-Lite
    spec) or csv (its data). `chart` is an Altair chart or a spec from `build_specs`."""
    if fmt in RENDERED:
        from app.export import chart_bytes

        return f"charts/{name}.{fmt}", chart_bytes(chart, fmt)
    spec = _spec(chart)
    if fmt == "json":
        return f"charts/{name}.vl.json", json_bytes(spec)
    if fmt == "csv":
        return f"charts/{name}.csv", _chart_data_csv(spec)
    raise ValueError(f"format {fmt!r}: expected one of png, svg, html, json, csv")
