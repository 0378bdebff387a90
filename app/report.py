"""The case report's content: a few pages a support agent or a lawyer can read without the tool.

The content is built once as a list of plain blocks (headings, paragraphs, tables, charts, code)
and typeset twice: by Typst as PDF (app/report_typst.py: the `typst` Python binding, compiled
in-process, no browser or system library, SVG charts embedded as vectors, only its own embedded
fonts so the same input gives the same bytes on any machine) and as one self-contained HTML file
(app/report_html.py: inline CSS and SVG). Every piece of text, the user's included, reaches Typst
as JSON data read by a fixed template, never as markup, and reaches HTML through `html.escape`:
a scenario name cannot inject either.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import sim
from app.docs import DOCS
from sim import assumptions as assumption_registry
from sim import dispute, platform_facts

__all__ = [
    "ASSUMPTIONS_FIXED",
    "REPORT_CHARTS",
    "Case",
    "document",
    "make_case",
    "money",
    "ranges_words",
]

REPORT_CHARTS = ("stars", "jss", "win_prob", "earnings")
SECTIONS = ("freelancer", "signals", "hiring", "market", "jss")
TAG = re.compile(r"^\[([A-Z](?:, ?[A-Z])*)\]\s*")
# the range over futures and assumptions of a run whose assumptions were not drawn
ASSUMPTIONS_FIXED = "fixed in this run"
FIXED_NOTE = (
    "'Fixed in this run': this report was made with the model's assumptions fixed at the "
    "scenario's values (repsim report --no-uncertainty, or the dashboard's 'Assumption "
    "uncertainty' set to off), so it has no range over them."
)
CRITERION_NAMES = {
    "skills": "Skills",
    "quality": "Quality of work",
    "availability": "Availability",
    "schedule": "Adherence to schedule",
    "communication": "Communication",
    "cooperation": "Cooperation",
}
LIBRARIES = ("numpy", "scipy", "pydantic", "altair", "vl-convert-python", "typst")


def money(x: float | None) -> str:
    """$1,234 or -$60 (whole dollars); "n/a" for None."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{'-' if round(x) < 0 else ''}${abs(x):,.0f}"


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


@dataclass
class Case:
    """Everything the report states: the scenario, its run's summary and chart specs, the
    dispute helper's inputs and simulation, and the command that reproduces it."""

    sc: sim.Scenario
    summary: dict[str, Any]
    specs: dict[str, Any]
    dispute_inputs: dispute.DisputeInputs | None = None
    avoided: dispute.Avoided | None = None
    command: Sequence[str] = ()
    charts: Sequence[str] = REPORT_CHARTS
    _svgs: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    @property
    def today(self) -> dt.date | None:
        """The scenario's date of "today" where it has one (issue 13's history editor adds it)."""
        value = getattr(self.sc, "today", None)
        return value if isinstance(value, dt.date) else None

    def svg(self, name: str) -> str:
        """The chart as SVG text (vl-convert), without an XML declaration."""
        if name not in self._svgs:
            from app.export import chart_bytes

            text = chart_bytes(self.specs[name], "svg").decode("utf-8")
            self._svgs[name] = re.sub(r"^<\?xml[^>]*>\s*", "", text)
        return self._svgs[name]

    def values(self) -> tuple[dispute.HorizonValue, ...]:
        if self.avoided is None or self.dispute_inputs is None:
            return ()
        return dispute.value_of_reporting(self.avoided, self.dispute_inputs, self.sc)


# -- blocks ---------------------------------------------------------------------------------


def _runs(*parts: str | tuple[str, bool]) -> list[dict[str, Any]]:
    """Text runs: a plain string, or (text, bold)."""
    out = []
    for p in parts:
        text, bold = (p, False) if isinstance(p, str) else p
        out.append({"text": text, "bold": bold})
    return out


def _para(*parts: str | tuple[str, bool], size: str = "normal") -> dict[str, Any]:
    return {"kind": "para", "runs": _runs(*parts), "size": size}


def _heading(text: str, level: int = 1) -> dict[str, Any]:
    return {"kind": "heading", "level": level, "text": text}


def _table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float] | None = None,
    size: str = "small",
) -> dict[str, Any]:
    return {
        "kind": "table",
        "columns": list(columns),
        "rows": [[str(c) for c in r] for r in rows],
        "widths": list(widths or [1.0] * len(columns)),
        "size": size,
    }


def _list(items: Sequence[Sequence[str | tuple[str, bool]]], size: str = "normal") -> dict:
    return {"kind": "list", "items": [_runs(*i) for i in items], "size": size}


def _weeks_text(w: int | float | None) -> str:
    return "n/a" if w is None else f"{w:g} week" + ("" if w == 1 else "s")


def _date_of(case: Case, weeks_from_today: float) -> str:
    today = case.today
    if today is None:
        return ""
    return (today + dt.timedelta(weeks=float(weeks_from_today))).isoformat()


def _facts(case: Case) -> list[dict[str, Any]]:
    sc = case.sc
    stars = sc.history_stars()
    rows = []
    for i, (h, s) in enumerate(zip(sc.history, stars, strict=True)):
        if h.criteria is not None:
            crit = ", ".join(f"{CRITERION_NAMES[k]} {v:g}" for k, v in h.criteria.items())
        else:
            crit = "not given"
        record = []
        if h.client_ratings_given:
            if h.client_mean_given is not None:
                record.append(f"gave {h.client_mean_given:g} on average")
            if h.client_mean_received is not None:
                record.append(f"received {h.client_mean_received:g}")
            record.append(f"over {h.client_ratings_given} contracts")
        if h.client_suspended:
            record.append("suspended")
        ended = "this week" if h.ended_weeks_ago == 0 else f"{_weeks_text(h.ended_weeks_ago)} ago"
        if case.today is not None:
            ended += f" ({_date_of(case, -h.ended_weeks_ago)})"
        rows.append(
            [
                str(i + 1),
                h.client,
                ended,
                money(h.value),
                "no feedback" if math.isnan(s) else f"{s:.2f}",
                crit,
                "yes" if h.flagged else "",
                ", ".join(record) or "not known",
            ]
        )
    blocks: list[dict[str, Any]] = [
        _heading("1. The facts of the case"),
        _para(
            "Her contracts on the platform, oldest first, as the scenario records them. Stars are "
            "the contract's feedback (the mean of the six criteria under the weights below where "
            "the criteria are given)."
        ),
        _table(
            ["#", "Client", "Ended", "Value", "Stars", "Criteria", "Disputed", "Client's record"],
            rows,
            [0.3, 1.3, 1.0, 0.8, 0.7, 2.6, 0.7, 1.4],
        ),
    ]
    flagged = [(i, h) for i, h in enumerate(sc.history) if h.flagged]
    weights = sc.signals.criteria_weights
    for i, h in flagged:
        blocks.append(_heading(f"The disputed feedback: contract {i + 1} ({h.client})", 2))
        if h.criteria is None:
            blocks.append(
                _para(f"Stars {stars[i]:.2f}; the six criteria are not recorded in the scenario.")
            )
            continue
        blocks.append(
            _table(
                ["Criterion", "Given", "Weight"],
                [[CRITERION_NAMES[k], f"{v:g}", f"{weights[k]:g}"] for k, v in h.criteria.items()]
                + [["Contract score (weighted mean)", f"{stars[i]:.2f}", ""]],
                [2.0, 1.0, 1.0],
            )
        )
    if not flagged:
        blocks.append(_para("No contract is marked as disputed (flagged) in this scenario."))
    today = case.today
    blocks.append(
        _para(
            "Dates: "
            + (
                f"'today' in this report is {today.isoformat()}; weeks are counted from it."
                if today is not None
                else "the scenario records no calendar date for 'today'; every time is given "
                "in weeks from the day the scenario describes."
            ),
            size="small",
        )
    )
    return blocks


def _ci(pair: Sequence[float | None]) -> str:
    return f"{money(pair[0])} to {money(pair[1])}"


def _about(e: dict[str, Any]) -> str:
    """The mean to the digits its Monte Carlo interval supports, as the dashboard's lead
    sentence rounds it (app.results.supported)."""
    from app.results import supported

    low, high = e["ci90"]
    half = None if low is None or high is None else (high - low) / 2
    return money(abs(supported(e["mean"] or 0.0, half)))


def _between(pair: Sequence[float | None]) -> str:
    """A range's ends to two significant figures, as the dashboard's lead sentence gives them
    (app.results.two_figures: a tail is not known finer)."""
    from app.results import two_figures

    low, high = (None if x is None else two_figures(x) for x in pair)
    return f"between {money(low)} and {money(high)}"


def ranges_words(e: dict[str, Any]) -> str:
    """'in 9 futures of 10 between $X and $Y; over the plausible range of the model's
    assumptions between $Z and $W' (the second part only when they were drawn)."""
    text = f"in 9 futures of 10 {_between(e['futures90'])}"
    wide = e.get("assumptions90")
    if wide is not None:
        text += f"; over the plausible range of the model's assumptions {_between(wide)}"
    return text


def _costs(case: Case) -> list[dict[str, Any]]:
    s = case.summary
    ref, weeks, paths = s["reference"], s["weeks"], s["paths"]
    blocks: list[dict[str, Any]] = [
        _heading("2. What it costs"),
        _para(
            ("Futures. ", True),
            f"The simulator plays out {paths:,} possible futures of her next {weeks} weeks: which "
            "proposals win, how long contracts last, what later clients rate. Each rule below "
            f"is compared with '{ref}' on the same futures, so the difference is due to the rule "
            "alone. Each figure is given three ways: the mean over futures with its 90% Monte "
            "Carlo interval (how precisely the simulation pins the mean down), the range that "
            "holds 9 futures of 10 (5-95% over futures: how much her own luck can vary), and the "
            "range over futures and the model's assumptions together (each block of 256 futures "
            "draws its own value of every assumed setting from its plausible range, section 6: "
            "how much the answer hangs on what the model cannot know).",
        ),
    ]
    rows = []
    sentences = []
    for arm, d in s["differences"].items():
        e, j, rec = d["earnings"], d["jobs"], d["weeks_to_recover"]
        over = e.get("assumptions90")
        rows.append(
            [
                arm,
                money(e["mean"]),
                _ci(e["ci90"]),
                _ci(e["futures90"]),
                _ci(over) if over else ASSUMPTIONS_FIXED,
                "n/a" if j["mean"] is None else f"{j['mean']:+.1f}",
                "never (median)" if rec["median"] is None else f"week {rec['median']:.0f}",
                f"{rec['share_not_recovered']:.0%}" + _over_assumptions(rec),
            ]
        )
        mean = e["mean"] or 0.0
        jobs = j["mean"] or 0.0
        sentences.append(
            [
                f"Under '{ref}' rather than '{arm}' she earns about ",
                (f"{_about(e)} {'less' if mean >= 0 else 'more'}", True),
                f" net by week {weeks} on average ({_ci(e['ci90'])} at 90% confidence; "
                f"{ranges_words(e)}) and wins {abs(jobs):.1f} "
                f"{'fewer' if jobs >= 0 else 'more'} jobs.",
            ]
        )
    blocks.append(_list(sentences))
    blocks.append(
        _table(
            [
                "Rule",
                f"Earnings, rule minus {ref}: mean",
                "90% Monte Carlo interval",
                "5-95% over futures",
                "5-95% over futures and assumptions",
                "Jobs",
                "Win rate back to 95% for good",
                "Futures not back",
            ],
            rows,
            [1.0, 0.9, 1.2, 1.2, 1.0, 0.45, 0.85, 1.0],
        )
    )
    if not s.get("uncertainty", {}).get("on"):
        blocks.append(_para(FIXED_NOTE, size="small"))
    now = []
    for arm, a in s["arms"].items():
        st, jss = a["start"]["stars"]["q50"], a["start"]["jss"]["q50"]
        now.append(
            [
                arm,
                "no stars yet" if st is None else f"{st:.2f}",
                "none yet" if jss is None else f"{jss:.0f}%",
                f"{a['start']['win_prob']['mean']:.2%}",
                money(a["final"]["earnings"]["mean"]),
            ]
        )
    blocks.append(_heading("What clients see today, by rule", 2))
    blocks.append(
        _table(
            ["Rule", "Stars", "Job Success Score", "Chance one proposal wins", "Net earnings"],
            now,
            [1.4, 0.8, 1.0, 1.2, 1.2],
        )
    )
    blocks.append(
        _para(
            "A Job Success Score of 0% is not a typo: with one success and one failure among "
            "two rated contracts, the platform's published shape gives 100 x (1 - 1) / 2 = 0, "
            "and the score is shown as soon as two contracts from two clients have feedback. "
            f"'Net earnings' is the mean over futures by week {weeks}, after the platform fee.",
            size="small",
        )
    )
    return blocks


def _over_assumptions(rec: dict[str, Any]) -> str:
    """' (55-92% over assumptions)': the share not back, its range over the design points."""
    a = rec.get("assumptions90")
    if not a:
        return ""
    lo, hi = a["share_not_recovered"]
    return f" ({lo:.0%}-{hi:.0%} over assumptions)"


def _charts(case: Case) -> list[dict[str, Any]]:
    from app.charts import CHART_TITLES

    items = [
        {"key": f"chart-{name}", "caption": CHART_TITLES.get(name, name)}
        for name in case.charts
        if name in case.specs
    ]
    return [
        {
            "kind": "figures",
            "title": "3. The charts",
            "note": "Week by week over the futures: the line is the median, the bands hold half "
            "and 9 of 10 futures.",
            "items": items,
            "columns": 2,
        }
    ]


def _windows(case: Case) -> list[dict[str, Any]]:
    s = case.summary
    timed = s.get("ratings_needed_in_time", {})
    ref = s["reference"]
    leaves = timed.get(ref, {}).get("disputed_leaves_window", {})
    rows = []
    for window, week in sorted(leaves.items(), key=lambda kv: -int(kv[0])):
        when = "does not count there now" if week is None else f"week {week}"
        date = "" if week is None else _date_of(case, week)
        rows.append([f"last {window} weeks", when + (f" ({date})" if date else "")])
    blocks = [
        _heading("4. When the feedback stops counting"),
        _para(
            "The Job Success Score is computed over the last 104, 52 and 26 weeks, and a trending "
            "score over 26 and 13; the best is shown. With the feedback kept, it leaves each "
            "window in the week below (from today). The stars count it for as long as it stays "
            "on the profile."
        ),
    ]
    if rows:
        blocks.append(_table(["JSS window", "The disputed feedback stops counting"], rows, [1, 2]))
    else:
        blocks.append(_para("No disputed feedback counts in any JSS window of this scenario."))
    targets = timed.get(ref, {}).get("targets", {})
    if targets:
        t_rows = []
        for key, found in targets.items():
            t_rows.append(
                [
                    _target_words(key),
                    "not within the horizon"
                    if found is None
                    else f"{found['ratings']} five-star contracts, week {found['week']}",
                ]
            )
        blocks.append(
            _para(
                f"With '{ref}', further five-star contracts (one every "
                f"{case.sc.market.contract_weeks:g} weeks, each from a new client) bring her back:",
                size="small",
            )
        )
        blocks.append(_table(["Target", "Needed"], t_rows, [1, 2]))
    return blocks


def _target_words(key: str) -> str:
    """ "stars 4.8" -> "stars to 4.8"; "jss 90" -> "JSS to 90%"."""
    what, target = key.split(" ", 1)
    return f"JSS to {target}%" if what == "jss" else f"stars to {target}"


def _dispute(case: Case) -> list[dict[str, Any]]:
    inputs = case.dispute_inputs
    values = case.values()
    sc = case.sc
    blocks: list[dict[str, Any]] = [_heading("5. Is reporting the feedback worth it?")]
    if inputs is None or not values:
        blocks.append(
            _para(
                "Not computed: the scenario marks no disputed feedback to report."
                if not any(h.flagged for h in sc.history)
                else "Not computed for this report."
            )
        )
    else:
        label = dispute.removed_label(inputs.wait_weeks)
        rate = sc.freelancer.hourly_rate if inputs.hourly_rate is None else inputs.hourly_rate
        blocks.append(
            _para(
                "Reporting takes her time for certain; with the chance the report is upheld, the "
                f"feedback is {label} (the platform's wait), from the stars and the Job Success "
                "Score. Expected value of reporting = chance upheld x the net earnings the "
                "removal recovers - her time. Cost avoided and value are means over the same "
                f"{case.avoided.paths:,} futures, comparing 'if the rating stays' "
                f"with 'if it is {label}'."
            )
        )
        blocks.append(
            _table(
                ["Input", "Value", "Why"],
                [
                    [
                        "Chance the report is upheld",
                        f"{inputs.chance_upheld:.0%}",
                        dispute.CHANCE_UPHELD_REASON,
                    ],
                    ["Wait for the decision", _weeks_text(inputs.wait_weeks), dispute.WAIT_REASON],
                    [
                        "Her time",
                        f"{inputs.hours:g} h x ${rate:,.2f} = {money(inputs.time_cost(sc))}",
                        dispute.HOURS_REASON,
                    ],
                ],
                [1.2, 1.2, 4.0],
            )
        )
        rows = []
        for v in values:
            rows.append(
                [
                    f"{v.weeks} weeks",
                    money(v.avoided_mean),
                    f"{money(v.avoided_range[0])} to {money(v.avoided_range[1])}",
                    money(v.value),
                    _ci(v.value_ci90),
                    f"{money(v.value_range[0])} to {money(v.value_range[1])}",
                    ASSUMPTIONS_FIXED
                    if v.value_assumption_range is None
                    else _ci(v.value_assumption_range),
                ]
            )
        blocks.append(
            _table(
                [
                    "By",
                    "Cost avoided if upheld: mean",
                    "5-95% over futures",
                    "Expected value of reporting",
                    "90% Monte Carlo interval",
                    "5-95% over futures",
                    "5-95% over futures and assumptions",
                ],
                rows,
                [0.7, 1.0, 1.3, 1.0, 1.3, 1.3, 1.0],
            )
        )
        last = values[-1]
        blocks.append(
            _para(
                f"In plain words: by week {last.weeks}, reporting is worth ",
                (money(last.value), True),
                f" to her on average ({dispute.removed_label(inputs.wait_weeks)} with a "
                f"{inputs.chance_upheld:.0%} chance, against {money(last.time_cost)} of her time; "
                + ranges_words(
                    {"futures90": last.value_range, "assumptions90": last.value_assumption_range}
                )
                + ")"
                + (
                    "; it is worth more than it costs."
                    if last.value > 0
                    else "; on these figures it costs more than it is expected to recover."
                ),
            )
        )
    blocks.append(_heading("The platform's facts that bear on the decision", 2))
    fee = platform_facts.conversion_fee(sc.freelancer.hourly_rate)
    fee_forum = platform_facts.conversion_fee(
        sc.freelancer.hourly_rate, platform_facts.CONVERSION_FEE_SHARE_FORUM
    )
    items = []
    for f in platform_facts.FACTS:
        extra = ""
        if f.key == "conversion_fee":
            extra = (
                f" At her ${sc.freelancer.hourly_rate:,.2f} an hour: "
                f"{platform_facts.CONVERSION_FEE_SHARE:.0%} x ${sc.freelancer.hourly_rate:,.2f}"
                f" x {platform_facts.CONVERSION_HOURS:,} h = {money(fee)} ({money(fee_forum)} "
                "at the forum's 13.5%)."
            )
        items.append([(f.title + ". ", True), f.text + extra + f" ({f.source_line()})"])
    blocks.append(_list(items, size="small"))
    return blocks


def assumption_rows(case: Case) -> list[list[str]]:
    """Every tagged setting of the scenario ([A], [D], [L], [P]) with its value, the range
    sim.assumptions gives it (or "-"), and its source; then the dispute helper's inputs."""
    sc = case.sc
    ranges = assumption_registry.ranges(sc)
    rows = []

    def add(key: str, value: Any, description: str | None) -> None:
        text = description or ""
        tag = TAG.match(text)
        if tag is None and key not in ranges:
            return
        source = text[tag.end() :] if tag else ""
        label = tag.group(1).replace(" ", "") if tag else ""
        if key in ranges:
            low, high = ranges[key]
            rng = f"{low:g} to {high:g}"
            a = assumption_registry.by_key(key)
            label = label or a.tag
            source = f"{source}; range: {a.reason}" if source else a.reason
        else:
            rng = "-"
        rows.append([key, _value(value), rng, label, source])

    for section in SECTIONS:
        model = getattr(sc, section)
        for name, info in type(model).model_fields.items():
            add(f"{section}.{name}", getattr(model, name), info.description)
    for i, arm in enumerate(sc.arms):
        for name, info in type(arm).model_fields.items():
            if name in ("name", "rule", "aggregator"):
                continue
            add(f"arms[{i}].{name} ({arm.name})", getattr(arm, name), info.description)
    inputs = case.dispute_inputs
    if inputs is not None:
        lo, hi = dispute.CHANCE_UPHELD_RANGE
        rows.append(
            [
                "dispute.chance_upheld",
                f"{inputs.chance_upheld:g}",
                f"{lo:g} to {hi:g}",
                "A",
                TAG.sub("", dispute.CHANCE_UPHELD_REASON),
            ]
        )
        rows.append(
            ["dispute.wait_weeks", f"{inputs.wait_weeks}", "-", "P", dispute.WAIT_REASON[4:]]
        )
        lo, hi = dispute.HOURS_RANGE
        rows.append(
            [
                "dispute.hours",
                f"{inputs.hours:g}",
                f"{lo:g} to {hi:g}",
                "A",
                TAG.sub("", dispute.HOURS_REASON),
            ]
        )
    return rows


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, tuple | list):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value(x)}" for k, x in v.items())
    return "none" if v is None else str(v)


def _outside_note(case: Case) -> list[dict[str, Any]]:
    """A line per range the scenario sets that leaves out its own value (the run drew from it)."""
    outside = (case.summary.get("uncertainty") or {}).get("outside_ranges") or {}
    if not outside:
        return []
    parts = [
        f"{key} is {o['value']:g} in the scenario, but the range the scenario sets for it, "
        f"{o['range'][0]:g} to {o['range'][1]:g}, leaves that out"
        for key, o in outside.items()
    ]
    return [
        _para(
            ("Note: ", True),
            "; ".join(parts) + ". The range over assumptions is drawn from the range as set.",
            size="small",
        )
    ]


def _assumptions(case: Case) -> list[dict[str, Any]]:
    return [
        _heading("6. Every assumption, its value, range and source"),
        _para(
            "Tags: [P] the platform's own documentation; [L] a published paper; [D] derived by us "
            "from a published figure; [A] our assumption. The range is the plausible span the "
            "project gives each [A] and [D] setting (sim/assumptions.py), widened to take in "
            "the scenario's own value where that lies outside, unless the scenario sets the "
            "range itself.",
            size="small",
        ),
        _table(
            ["Setting", "Value", "Range", "Tag", "Source or reason"],
            assumption_rows(case),
            [1.7, 0.9, 0.7, 0.35, 3.6],
            size="tiny",
        ),
        *_outside_note(case),
    ]


def failing_validation_rows() -> list[tuple[str, str]]:
    """(check id, one-line reason) of each row of docs/validation.md that does not pass."""
    path = DOCS / "validation.md"
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    part = text.split("## Rows that do not pass", 1)
    if len(part) < 2:
        return []
    body = part[1].split("\n## ", 1)[0]
    out = []
    for m in re.finditer(r"^### `([^`]+)`: ([a-z ]+)\n\n(.+)$", body, flags=re.M):
        out.append((f"{m.group(1)} ({m.group(2)})", m.group(3).strip()))
    return out


def _limits() -> list[dict[str, Any]]:
    from app.docs import LIMITS

    items = []
    for line in LIMITS.strip().splitlines():
        line = line.strip()
        if line.startswith("- "):
            items.append([line[2:].replace("**", "")])
        elif items and line and not line.startswith("**"):
            items[-1][0] += " " + line.replace("**", "")
    blocks = [_heading("7. The model's known limits"), _list(items, size="small")]
    failing = failing_validation_rows()
    if failing:
        blocks.append(
            _para(
                "Published effects the model does not reproduce (docs/validation.md):",
                size="small",
            )
        )
        blocks.append(_list([[(k + ": ", True), v] for k, v in failing], size="small"))
    return blocks


def _reproduce(case: Case) -> list[dict[str, Any]]:
    s = case.summary
    command = " ".join(case.command) if case.command else "(not recorded)"
    rows = [
        ["repsim version", sim.__version__],
        ["Seed", str(s["seed"])],
        ["Futures (paths) x weeks", f"{s['paths']:,} x {s['weeks']}"],
        ["Assumptions", _drawn_words(s)],
        ["Scenario sha256", s["scenario_sha256"]],
        ["Command", command],
        ["Libraries", ", ".join(f"{d} {_version(d)}" for d in LIBRARIES)],
    ]
    if case.avoided is not None:
        rows.insert(3, ["Dispute helper", f"{case.avoided.paths:,} futures, same seed"])
    return [
        _heading("8. Reproducibility"),
        _para(
            "The same scenario, seed and repsim version give the same figures and the same file, "
            "byte for byte. The scenario is reproduced in full in the appendix: save it as a "
            ".toml file and run the command.",
            size="small",
        ),
        _table(["What", "Value"], rows, [1, 4]),
    ]


def _drawn_words(s: dict[str, Any]) -> str:
    u = s.get("uncertainty") or {}
    if not u.get("on"):
        return "fixed at the scenario's values (--no-uncertainty)"
    return (
        f"drawn from their ranges: {u['points']} sets (a scrambled Sobol design), each block "
        "of 256 futures takes one in turn"
    )


def _brief(case: Case) -> list[dict[str, Any]]:
    """Three lines up front: what it costs, what reporting is worth, when it stops counting."""
    s = case.summary
    ref, weeks = s["reference"], s["weeks"]
    items = []
    for arm, d in list(s["differences"].items())[:1]:
        e = d["earnings"]
        mean = e["mean"] or 0.0
        items.append(
            [
                ("What it costs: ", True),
                f"under '{ref}' rather than '{arm}' she earns about {_about(e)} "
                f"{'less' if mean >= 0 else 'more'} net by week {weeks} on average "
                f"({ranges_words(e)}).",
            ]
        )
    values = case.values()
    if values and case.dispute_inputs is not None:
        v = values[-1]
        items.append(
            [
                ("Reporting it: ", True),
                f"worth {money(v.value)} to her by week {v.weeks} on average, with a "
                f"{v.chance_upheld:.0%} chance that it is "
                f"{dispute.removed_label(case.dispute_inputs.wait_weeks)}, against "
                f"{money(v.time_cost)} of her time.",
            ]
        )
    leaves = s.get("ratings_needed_in_time", {}).get(ref, {}).get("disputed_leaves_window", {})
    known = {int(w): k for w, k in leaves.items() if k is not None}
    if known:
        longest = max(known)
        date = _date_of(case, known[longest])
        items.append(
            [
                ("When it stops counting: ", True),
                f"kept, it leaves the Job Success Score's longest window ({longest} weeks) in "
                f"week {known[longest]}" + (f" ({date})" if date else "") + "; the stars "
                "count it for as long as it stays on the profile.",
            ]
        )
    return [_heading("In brief", 2), _list(items)] if items else []


def blocks(case: Case) -> list[dict[str, Any]]:
    """The report's content, in order, as plain blocks."""
    sc = case.sc
    subtitle = (
        "A case report made with repsim, a reputation impact simulator: what one disputed "
        "feedback costs a freelancer, and whether reporting it is worth it."
    )
    out: list[dict[str, Any]] = [
        {"kind": "title", "text": f"Case report: {sc.name}", "sub": subtitle},
    ]
    if sc.description:
        out.append(_para(sc.description))
    out += _brief(case)
    out += _facts(case)
    out += _costs(case)
    out += _charts(case)
    out += _windows(case)
    out += _dispute(case)
    out += _assumptions(case)
    out += _limits()
    out += _reproduce(case)
    out.append({"kind": "pagebreak"})
    out.append(_heading("Appendix: the scenario as run (TOML)"))
    out.append({"kind": "code", "text": sim.dumps_scenario(sc), "columns": 2})
    return out


def make_case(
    sc: sim.Scenario,
    dispute_inputs: dispute.DisputeInputs | None = None,
    command: Sequence[str] = (),
    progress: Any = None,
) -> Case:
    """Run the scenario and the dispute helper (when it has disputed feedback) for a report."""
    from app.charts import build_specs

    result = sim.run(sc, progress=progress)
    inputs = dispute_inputs or dispute.DisputeInputs()
    avoided = None
    if any(h.flagged for h in sc.history):
        avoided = dispute.simulate_avoided(sc, inputs.checked().wait_weeks)
    else:
        inputs = None
    return Case(sc, result.summary(), build_specs(result), inputs, avoided, tuple(command))


def document(case: Case) -> dict[str, Any]:
    """The report as plain data: title, date, footer and blocks, for either renderer."""
    today = case.today
    s = case.summary
    return {
        "title": f"Case report: {case.sc.name}",
        "date": None if today is None else [today.year, today.month, today.day],
        "footer": f"repsim {sim.__version__} · seed {s['seed']} · scenario sha256 "
        f"{s['scenario_sha256'][:16]}",
        "blocks": blocks(case),
    }
