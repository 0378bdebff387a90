"""Chart export through vl-convert: PNG, SVG and self-contained HTML that works offline."""

from __future__ import annotations

from typing import Any

import vl_convert as vlc

from app.charts import json_spec

__all__ = ["FORMATS", "MIME", "chart_bytes"]

FORMATS = ("png", "svg", "html")
MIME = {"png": "image/png", "svg": "image/svg+xml", "html": "text/html"}
PNG_SCALE = 2  # crisp on high-density screens; the layout is the chart's own width and height


def chart_bytes(chart: Any, fmt: str) -> bytes:
    """Render an Altair chart (or a Vega-Lite dict, as `build_specs` gives) to PNG, SVG or HTML."""
    spec = chart.to_dict() if hasattr(chart, "to_dict") else json_spec(chart)
    if fmt == "png":
        return vlc.vegalite_to_png(spec, scale=PNG_SCALE)
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec).encode("utf-8")
    if fmt == "html":
        # bundle=True inlines the Vega libraries: the file opens with no network
        return vlc.vegalite_to_html(spec, bundle=True).encode("utf-8")
    raise ValueError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
