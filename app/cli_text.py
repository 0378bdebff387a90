"""What `repsim run` and `repsim sweep` print: a run's headline figures, a line per sweep point."""

from __future__ import annotations

import datetime
from typing import Any

from app import dates
from app.files import cell

__all__ = ["describe_point", "describe_run"]


def _signed(x: float | None, money: bool = False, digits: int = 2) -> str:
    if x is None:
        return "n/a"
    if money:
        return f"{'-' if x < 0 else '+'}${abs(x):,.0f}"
    return f"{x:+,.{digits}f}"


def _recovery_text(rec: dict[str, Any], weeks: int, today: datetime.date | None = None) -> str:
    def median(r: dict[str, Any]) -> str:
        if r["median"] is None:
            return "never (median)"
        return f"{dates.week_words(r['median'], today)} (median)"

    horizon = "1 week" if weeks == 1 else f"{weeks} weeks"
    first = rec["first"]
    drawn = rec.get("assumptions90")
    over = (
        ""
        if not drawn
        else " ({:.0%}-{:.0%} over the assumptions)".format(*drawn["share_not_recovered"])
    )
    return (
        f"for good from {median(rec)}, {rec['share_not_recovered']:.0%} of futures not within "
        f"{horizon}{over}; first back {median(first)}, {first['share_not_recovered']:.0%} never"
    )


def _ranges(f: dict[str, Any], money: bool) -> list[str]:
    """The lines under a headline: 5-95% across futures, and across futures and assumptions."""
    futures = f.get("futures90") or [f.get("p05"), f.get("p95")]
    lines = [
        f"            in 9 of 10 futures: {_signed(futures[0], money)} to "
        f"{_signed(futures[1], money)}"
    ]
    wide = f.get("assumptions90")
    if wide is None:
        lines.append("            over the assumptions' ranges: not drawn (run with --uncertainty)")
    else:
        lines.append(
            f"            over futures and assumptions: {_signed(wide[0], money)} to "
            f"{_signed(wide[1], money)}"
        )
    return lines


def describe_run(s: dict[str, Any], today: datetime.date | None = None) -> str:
    """A few lines for people: stars now, jobs and earnings with the 90% interval, recovery
    (its weeks also as dates from `today`)."""
    lines = [f"{s['scenario']}: {s['paths']:,} paths x {s['weeks']} weeks, seed {s['seed']}"]
    if today is not None:
        lines[0] += f", today {today.isoformat()}"
    stars = []
    for arm, a in s["arms"].items():
        now = a["start"]["stars"]["mean"]
        stars.append(f"{arm} {'none' if now is None else f'{now:.2f}'}")
    lines.append("Stars now: " + ", ".join(stars))
    for key, o in ((s.get("uncertainty") or {}).get("outside_ranges") or {}).items():
        low, high = o["range"]
        lines.append(
            f"Note: {key} is {o['value']:g} in the scenario but its [uncertainty] range "
            f"{low:g} to {high:g} leaves it out; the run draws from the range"
        )
    for arm, d in s["differences"].items():
        j, e = d["jobs"], d["earnings"]
        lines += [
            f"{arm} minus {s['reference']} by week {s['weeks']}:",
            f"  jobs      {_signed(j['mean'])}  (90% interval {_signed(j['ci90'][0])} to "
            f"{_signed(j['ci90'][1])})",
            *_ranges(j, False),
            f"  earnings  {_signed(e['mean'], True)}  (90% interval {_signed(e['ci90'][0], True)} "
            f"to {_signed(e['ci90'][1], True)})",
            *_ranges(e, True),
            f"  {s['reference']}'s win rate back to 95% of {arm}'s: "
            + _recovery_text(d["weeks_to_recover"], s["weeks"], today),
        ]
    return "\n".join(lines)


def describe_point(r: dict[str, Any], weeks: int) -> str:
    values = ", ".join(f"{k}={cell(v)}" for k, v in r["values"].items())
    parts = []
    for arm, d in r["summary"]["differences"].items():
        e, rec = d["earnings"], d["weeks_to_recover"]
        median = "never" if rec["median"] is None else f"{rec['median']:.0f} wk"
        parts.append(
            f"{arm}: earnings {_signed(e['mean'], True)} ({_signed(e['ci90'][0], True)} to "
            f"{_signed(e['ci90'][1], True)}), jobs {_signed(d['jobs']['mean'])}, recovers "
            f"{median} ({rec['share_not_recovered']:.0%} not within {weeks})"
        )
    return f"  {r['index']:>3}  {values}: " + ("; ".join(parts) or "one arm, nothing to compare")
