"""Weeks from today read as calendar dates, for pages, charts and the command line's summary."""

from __future__ import annotations

import datetime
import json
import math

__all__ = ["axis_ticks", "day", "label_expr", "on", "week_words"]


def on(today: datetime.date, week: float) -> datetime.date:
    """The day `week` weeks after `today`."""
    return today + datetime.timedelta(days=round(7 * week))


def day(d: datetime.date) -> str:
    """A date in words that read the same everywhere: 29 Nov 2026."""
    return f"{d.day} {d:%b %Y}"


def week_words(week: float, today: datetime.date | None) -> str:
    """ "week 24 (15 May 2027)", or "week 24" without a date."""
    text = f"week {week:.0f}"
    return text if today is None else f"{text} ({day(on(today, week))})"


def axis_ticks(weeks: int) -> list[int]:
    """Ticks of a weeks axis that has dates under its numbers: quarters of a year (13 weeks) or
    multiples of them, four or five to an axis, so that the two-line labels never crowd."""
    if weeks <= 16:
        step = max(1, math.ceil(weeks / 4))
    else:
        step = 13 * max(1, round(weeks / 4 / 13))
    return list(range(0, weeks, step))


def label_expr(today: datetime.date, ticks: list[int], other: str = "datum.label") -> str:
    """A Vega label expression putting each tick's month under its week number (two lines);
    computed here, so the labels are the same whatever the browser's time zone."""
    expr = other
    for week in reversed(ticks):
        lines = json.dumps([str(week), f"{on(today, week):%b %Y}"])
        expr = f"datum.value == {week} ? {lines} : {expr}"
    return expr
