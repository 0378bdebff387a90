"""The chart `repsim sweep` writes: headline figures against the first swept key (Altair)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.files import cell

__all__ = ["sweep_chart"]


def sweep_chart(results: Sequence[dict[str, Any]], keys: Sequence[str]) -> Any | None:
    """Headline figures per non-reference arm against the first swept key (others in the legend)."""
    import altair as alt

    rows = []
    for r in results:
        x = r["values"][keys[0]]
        others = ", ".join(f"{k}={cell(r['values'][k])}" for k in keys[1:])
        for arm, d in r["summary"]["differences"].items():
            rows.append(
                {
                    "x": x if isinstance(x, int | float) and not isinstance(x, bool) else cell(x),
                    "series": f"{arm} ({others})" if others else arm,
                    "earnings": d["earnings"]["mean"],
                    "low": d["earnings"]["ci90"][0],
                    "high": d["earnings"]["ci90"][1],
                    "jobs": d["jobs"]["mean"],
                    "recover": d["weeks_to_recover"]["median"],
                    "not_recovered": d["weeks_to_recover"]["share_not_recovered"],
                }
            )
    if not rows:
        return None
    numeric = all(isinstance(row["x"], int | float) for row in rows)
    x_field = "x:Q" if numeric else "x:N"
    x = alt.X(x_field, title=keys[0])
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=x, color=alt.Color("series:N", title="Arm (minus the reference)")
    )

    def panel(field: str, title: str, fmt: str = ",.2f") -> Any:
        y = alt.Y(f"{field}:Q", title=title, axis=alt.Axis(format=fmt))
        tip = [
            "series:N",
            alt.Tooltip(x_field, title=keys[0]),
            alt.Tooltip(f"{field}:Q", format=fmt),
        ]
        lines = base.mark_line(point=True).encode(y=y, tooltip=tip)
        return lines.properties(width=480, height=160)

    earnings = panel("earnings", "Mean earnings difference ($)", "$,.0f") + base.mark_errorbar(
        ticks=True
    ).encode(y=alt.Y("low:Q", title=""), y2="high:Q")
    return alt.vconcat(
        earnings.properties(title=f"Headline figures against {keys[0]} (90% interval on earnings)"),
        panel("jobs", "Mean jobs difference"),
        panel("recover", "Median weeks to recover", ",.0f"),
        panel("not_recovered", "Share not recovered", ".0%"),
    )
