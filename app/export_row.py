"""A chart's download buttons in one row: its PNG, SVG and HTML, and its data as CSV."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import streamlit as st

from app.export import FORMATS, MIME, chart_bytes

__all__ = ["export_row"]


def export_row(
    chart: Any, stem: str, key: str, csv: tuple[Callable[[], bytes], str] | None = None
) -> None:
    """``chart`` (Altair, or a spec from `build_specs`) as ``stem.png``, ``.svg`` and ``.html``,
    each built when clicked, and ``csv`` (its bytes when called, its file name) after them;
    the buttons' keys are ``key-png``, ... ``key-csv``."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        for fmt in FORMATS:
            # a plain arrow, not a Material icon: 18 icon glyphs cost ~25 ms on every redraw
            st.download_button(
                f"↓ {fmt.upper()}",
                data=functools.partial(chart_bytes, chart, fmt),
                file_name=f"{stem}.{fmt}",
                mime=MIME[fmt],
                key=f"{key}-{fmt}",
                on_click="ignore",
                type="tertiary",
            )
        if csv is not None:
            data, file_name = csv
            st.download_button(
                "↓ CSV",
                data=data,
                file_name=file_name,
                mime="text/csv",
                key=f"{key}-csv",
                on_click="ignore",
                type="tertiary",
            )
