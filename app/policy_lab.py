"""The Policy lab's settings, its address, its run and its words (no Streamlit: tested alone)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from app import runner
from app.frontier_chart import NO_FAIR_LOWS, NO_UNFAIR, series_name, setting_words
from sim.policy_types import RuleMeasures

__all__ = [
    "DEFAULT_PRESET",
    "KNOBS",
    "PRESETS",
    "RULES",
    "Knob",
    "LabSettings",
    "budget_problems",
    "build_scenario",
    "decode_query",
    "defaults",
    "encode_query",
    "frontier_settings",
    "lead_sentence",
    "measures_table",
    "rule_words",
    "shown_knobs",
]

ROOT = Path(__file__).resolve().parents[1]
PRESETS: dict[str, Path] = {
    p.stem: p for p in sorted((ROOT / "scenarios").glob("policy-*.toml"))
}  # the policy questions; the Compare page's presets are the freelancer's
DEFAULT_PRESET = "policy-standing-rules"
SOURCE = "policy lab"
PRESET_PARAM = "policy"  # the address's preset (the Compare page's is `preset`)
RULES_PARAM = "rules"
POOR_SHARE = "population.poor_share"  # not a scenario key: the poor types' shares together
QUEUE = "exclude_flagged.delay_weeks"  # the scenario's own report-and-review arms

# The rules swept along the frontier, by the chart's name for them, and their frontier keys
RULES: dict[str, str] = {
    "excluded": "exclude_flagged.delay_weeks",
    "flagged-client rule": "flagged_client.threshold",
    "whitby filter": "whitby.q",
    "window": "window.last_n",
    "bayesian average": "signals.prior_weight",
}
# The settings the page sweeps: fewer than `sim.frontier.SETTINGS` (`repsim policy`'s), so that
# the page answers in seconds on a laptop: each rule from where it starts to act to where it
# hides most; the Bayesian average hides no rating (it shrinks the mean toward its prior), so
# one weight shows it
PAGE_SWEEPS: dict[str, tuple[float, ...]] = {
    "exclude_flagged.delay_weeks": (0, 2, 8, 26),
    "flagged_client.threshold": (2.5, 3.5, 5.0),
    "whitby.q": (0.05, 0.1, 0.2, 0.45),
    "window.last_n": (5, 10, 20),
    "signals.prior_weight": (20,),
}
RULES_HELP = (
    "Each rule is swept over its range on the same population: excluded (report and review: "
    "a reported rating removed once support upholds it) over the support queue's length; the "
    "flagged-client rule over its threshold; Whitby's filter over q; the window over its last n "
    "ratings; the Bayesian average over its prior weight. The preset's own rules are always shown."
)


@dataclass(frozen=True)
class Knob:
    """One control of the page; `key` is its address parameter and, where it is one, the
    scenario's dotted key."""

    key: str
    label: str
    lo: float
    hi: float
    step: float
    help: str
    integer: bool = False


KNOBS: tuple[Knob, ...] = (
    Knob("population.clients.coercive_share", "Coercive clients (share)", 0.0, 0.2, 0.005,
         "Clients who push work off the platform and, refused, may retaliate with a low rating."),
    Knob("population.clients.retaliation_probability", "Refused, they retaliate (probability)",
         0.0, 1.0, 0.05, "The chance a refused coercive client leaves a retaliatory rating."),
    Knob(POOR_SHARE, "Genuinely poor workers (share)", 0.0, 0.9, 0.01,
         "The share of freelancers whose work is genuinely poor: their fair low ratings are the "
         "signal clients rely on. The other types keep their proportions."),
    Knob("population.reports.unfair", "Unfair low ratings reported (share)", 0.0, 1.0, 0.05,
         "The share of unfair low ratings the freelancer reports to support."),
    Knob("population.reports.fair", "Fair low ratings reported anyway (share)", 0.0, 1.0, 0.05,
         "The share of fair low ratings reported all the same."),
    Knob("population.reports.upheld_unfair", "Support upholds a report of an unfair rating",
         0.0, 1.0, 0.05, "The chance support upholds a report of a rating that was unfair."),
    Knob("population.reports.upheld_fair", "Support upholds a report of a fair rating", 0.0, 1.0,
         0.05, "The chance support upholds a report of a rating that was fair."),
    Knob(QUEUE, "Support queue (weeks)", 0, 52, 1,
         "Weeks a report waits before an upheld rating is removed, for the preset's own "
         "report-and-review rule (the frontier sweeps the queue as well).", integer=True),
)  # fmt: skip
BY_KEY = {k.key: k for k in KNOBS}


@dataclass(frozen=True)
class LabSettings:
    """What the page runs: a preset, the knobs moved from its values, and the swept rules."""

    preset: str = DEFAULT_PRESET
    overrides: tuple[tuple[str, float], ...] = ()
    rules: tuple[str, ...] = tuple(RULES)

    def __post_init__(self) -> None:  # one form for equal settings: the overrides by key
        object.__setattr__(self, "overrides", tuple(sorted(self.overrides)))

    def base(self) -> sim.Scenario:
        return sim.load_scenario(PRESETS[self.preset])

    def values(self) -> dict[str, float]:
        return {**defaults(self.base()), **dict(self.overrides)}


# -- the scenario -----------------------------------------------------------------------------


def _poor(types: Sequence[Any]) -> float:
    return sum(t.share for t in types if t.poor)


def defaults(sc: sim.Scenario) -> dict[str, float]:
    """The preset's value of every knob that applies to it (absent: the knob is not shown)."""
    out: dict[str, float] = {}
    pop = sc.population
    if pop is None:
        return out
    for key in KNOBS:
        parts = key.key.split(".")
        if parts[0] == "population" and key.key != POOR_SHARE:
            node: Any = pop
            for part in parts[1:]:
                node = getattr(node, part)
            out[key.key] = float(node)
    types = pop.types
    if any(t.poor for t in types) and not all(t.poor for t in types):
        out[POOR_SHARE] = round(_poor(types), 10)
    queues = [a.delay_weeks for a in sc.arms if a.rule == "exclude_flagged"]
    if queues:
        out[QUEUE] = queues[0]
    return out


def shown_knobs(sc: sim.Scenario) -> list[Knob]:
    have = defaults(sc)
    return [k for k in KNOBS if k.key in have]


def _queue_name(weeks: int) -> str:
    """The report-and-review arm's name, as the Compare page's catalog says it."""
    return "excluded at once" if weeks == 0 else f"excluded after {weeks} weeks"


def build_scenario(base: sim.Scenario, overrides: dict[str, float]) -> sim.Scenario:
    """The preset with the knobs' values; raises `sim.ScenarioError` naming the knob's key."""
    data = base.model_dump(mode="json")
    problems: list[tuple[str, str, str]] = []
    for key, value in overrides.items():
        knob = BY_KEY.get(key)
        if knob is None:
            problems.append((SOURCE, key, "not a setting of the Policy lab"))
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            problems.append((SOURCE, key, f"expected a number, got {value!r}"))
            continue
        if not knob.lo <= value <= knob.hi:
            problems.append((SOURCE, key, f"{value:g} is out of range: {knob.lo:g} to {knob.hi:g}"))
            continue
        _apply(data, key, value, problems)
    if problems:
        raise sim.ScenarioError(problems)
    try:
        return sim.validate_scenario(data, SOURCE)
    except sim.ScenarioError as e:
        raise sim.ScenarioError([(SOURCE, k, m) for _, k, m in e.problems]) from None


def _apply(data: dict[str, Any], key: str, value: float, problems: list) -> None:
    pop = data.get("population")
    if key == QUEUE:
        arms = [a for a in data["arms"] if a["rule"] == "exclude_flagged"]
        if not arms:
            problems.append((SOURCE, key, "this preset has no report-and-review rule"))
        for a in arms:
            a["delay_weeks"] = int(value)
            if a["name"].startswith("excluded"):  # its name says its queue
                a["name"] = _queue_name(int(value))
        return
    if pop is None:
        problems.append((SOURCE, key, "this preset has no population"))
        return
    if key == POOR_SHARE:
        _set_poor_share(pop["types"], value, problems)
        return
    node = pop
    *path, last = key.split(".")[1:]
    for part in path:
        node = node[part]
    node[last] = value


def _set_poor_share(types: list[dict[str, Any]], share: float, problems: list) -> None:
    """The poor types take ``share`` together, the others the rest, each group in its own
    proportions."""
    poor = sum(t["share"] for t in types if t["poor"])
    rest = sum(t["share"] for t in types if not t["poor"])
    if poor <= 0 or rest <= 0:
        problems.append(
            (SOURCE, POOR_SHARE, "needs a preset with both poor and other freelancer types")
        )
        return
    for t in types:
        t["share"] = t["share"] * (share / poor if t["poor"] else (1 - share) / rest)
    # the shares sum to 1 to the last bit: the largest type takes the rounding
    big = max(types, key=lambda t: t["share"])
    big["share"] += 1.0 - math.fsum(t["share"] for t in types)


def frontier_settings(rules: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """The frontier's settings for the chosen rules (`PAGE_SWEEPS`), an empty sweep for each
    rule left out."""
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise sim.ScenarioError(
            [
                (SOURCE, RULES_PARAM, f"unknown rule {r!r}; expected one of {', '.join(RULES)}")
                for r in unknown
            ]
        )
    return {key: PAGE_SWEEPS[key] if name in rules else () for name, key in RULES.items()}


def budget_problems(sc: sim.Scenario, rules: Sequence[str]) -> list[tuple[str, str, str]]:
    """Why the dashboard will not run this frontier (empty when it will): every scenario of
    the frontier together within the session budget of one run (`runner.BUDGET_CELLS`)."""
    from sim.frontier import frontier_tasks

    tasks = frontier_tasks(sc, frontier_settings(rules))
    cells = sum(len(t.scenario.arms) * t.scenario.run.paths * t.scenario.run.weeks for t in tasks)
    if cells <= runner.BUDGET_CELLS:
        return []
    return [
        (
            SOURCE,
            "run.paths",
            f"the frontier is {cells:,} arm-path-weeks, over the dashboard's "
            f"{runner.BUDGET_CELLS:,}; sweep fewer rules, or run it with repsim policy",
        )
    ]


# -- the address ------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:.10g}"


def encode_query(settings: LabSettings) -> dict[str, str]:
    """The address's parameters: the preset, then only what differs from it."""
    params = {PRESET_PARAM: settings.preset}
    base = defaults(settings.base())
    for key, value in settings.overrides:
        if base.get(key) != value:
            params[key] = _fmt(value)
    if tuple(settings.rules) != tuple(RULES):
        params[RULES_PARAM] = ",".join(settings.rules) or "none"
    return params


def decode_query(params: dict[str, str]) -> tuple[LabSettings, list[tuple[str, str]]]:
    """The settings an address holds, and (parameter, problem) for what could not be used."""
    problems: list[tuple[str, str]] = []
    preset = params.get(PRESET_PARAM, DEFAULT_PRESET)
    if preset not in PRESETS:
        problems.append((PRESET_PARAM, f"unknown preset; expected one of {', '.join(PRESETS)}"))
        preset = DEFAULT_PRESET
    have = defaults(sim.load_scenario(PRESETS[preset]))
    overrides: dict[str, float] = {}
    for key, text in params.items():
        if key in (PRESET_PARAM, RULES_PARAM):
            continue
        knob = BY_KEY.get(key)
        if knob is None:
            continue  # another page's setting (the address is shared by the dashboard's pages)
        if key not in have:
            problems.append((key, "this preset has no such setting"))
            continue
        try:
            value = float(text)
        except ValueError:
            problems.append((key, f"{text[:40]!r} is not a number"))
            continue
        if not math.isfinite(value) or not knob.lo <= value <= knob.hi:
            problems.append((key, f"{text[:40]} is out of range: {knob.lo:g} to {knob.hi:g}"))
            continue
        if knob.integer:
            if value != int(value):
                problems.append((key, f"{text[:40]} is not a whole number"))
                continue
            value = int(value)
        overrides[key] = value
    rules: tuple[str, ...] = tuple(RULES)
    if RULES_PARAM in params:
        text = params[RULES_PARAM]
        asked = [] if text == "none" else [r for r in text.split(",") if r]
        bad = [r for r in asked if r not in RULES]
        if bad:
            problems.append((RULES_PARAM, f"unknown rule {bad[0][:40]!r}; expected one of "
                             f"{', '.join(RULES)}"))  # fmt: skip
        rules = tuple(r for r in RULES if r in asked)
    settings = LabSettings(preset, tuple(sorted(overrides.items())), rules)
    return settings, problems


# -- the run's words --------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{x:.0%}" if x == 0 or x >= 0.01 else f"{x:.1%}"


def _point(r: RuleMeasures) -> str:
    name = series_name(r)
    return name if r.parameter is None else f"{name} ({setting_words(r)})"


SMALL_LOSS = 0.05  # a rule that hides fewer fair low ratings than this "keeps the signal"


def lead_sentence(rows: Sequence[RuleMeasures], sc: sim.Scenario) -> str:
    """What the frontier says, in plain words, from its figures."""
    pop = f"{sc.run.paths:,} freelancers over {sc.run.weeks} weeks"
    keep = next((r for r in rows if r.rule == "keep" and r.parameter is None), None)
    if keep is None or not rows:
        return f"On {pop}: no rule was measured."
    counts = (
        f"On {pop}, clients left {keep.unfair_lows:,} unfair low ratings (harsh or retaliatory) "
        f"and {keep.fair_lows:,} fair ones."
    )
    if keep.protection is None:
        return (
            f"{counts} With {NO_UNFAIR} there is nothing to protect: every rule can only hide "
            "honest signal."
        )
    rules = [r for r in rows if r.rule not in ("keep", "oracle") and r.protection is not None]
    if not rules:
        return counts
    cheap = [r for r in rules if r.signal_lost is not None and r.signal_lost < SMALL_LOSS]
    most = max(rules, key=lambda r: (r.protection, -(r.signal_lost or 0.0)))
    words = [counts]
    if cheap:
        best = max(cheap, key=lambda r: (r.protection, -(r.signal_lost or 0.0)))
        words.append(
            f"Losing under {_pct(SMALL_LOSS)} of the fair ones, the best protection is "
            f"{_point(best)}: it hides {_pct(best.protection or 0.0)} of the unfair low ratings "
            f"and {_pct(best.signal_lost or 0.0)} of the fair ones."
        )
    else:
        words.append(
            f"No rule hides any unfair low ratings while losing under {_pct(SMALL_LOSS)} of "
            "the fair ones."
        )
    if not cheap or most is not best:
        lost = (
            "the share of fair ones is not measured"
            if most.signal_lost is None
            else (f"{_pct(most.signal_lost)} of the fair ones")
        )
        words.append(
            f"The most protective, {_point(most)}, hides {_pct(most.protection or 0.0)} of the "
            f"unfair low ratings and {lost}."
        )
    return " ".join(words)


def _dollars(x: float) -> str:
    return f"{'-' if round(x) < 0 else ''}${abs(x):,.0f}"


def rule_words(r: RuleMeasures) -> str:
    """One rule's measures in a sentence (the page's card of each of the question's rules)."""
    if r.protection is None:
        hides = f"{NO_UNFAIR} to hide"
    else:
        hides = f"hides {_pct(r.protection)} of the unfair low ratings"
        lo, hi = r.protection90 or (r.protection, r.protection)
        if _pct(lo) != _pct(hi):  # no interval where it is one figure (keep, the oracle)
            hides += f" (90%: {_pct(lo)} to {_pct(hi)})"
    lost = NO_FAIR_LOWS if r.signal_lost is None else f"{_pct(r.signal_lost)} of the fair ones"
    words = [f"{hides} and {lost}."]
    if r.victims_harm is not None:
        words.append(
            f"Victims of an unfair low rating earn {_dollars(r.victims_harm)} less by the "
            "horizon than without it."
        )
    if r.hired_quality is not None:
        words.append(f"Clients hire freelancers of {r.hired_quality:.2f} stars on average.")
    return " ".join(words)


def _interval(x: tuple[float, float] | None, fmt: str) -> str:
    if x is None:
        return ""
    return f"{format(x[0], fmt)} to {format(x[1], fmt)}"


def _share_or(x: float | None, none: str) -> str:
    return none if x is None else f"{x:.1%}"


def measures_table(rows: Sequence[RuleMeasures]) -> pd.DataFrame:
    """The measures as the page shows them: shares in percent, "no unfair ratings" in words."""
    out = []
    for r in rows:
        out.append(
            {
                "rule": series_name(r),
                "setting": setting_words(r) if r.parameter is not None else "as given",
                "protection": _share_or(r.protection, NO_UNFAIR),
                "protection 90%": _interval(r.protection90, ".1%"),
                "weeks until it stops counting": "none stopped"
                if r.protection_weeks is None
                else f"{r.protection_weeks:.1f}",
                "signal lost": _share_or(r.signal_lost, NO_FAIR_LOWS),
                "signal lost 90%": _interval(r.signal_lost90, ".1%"),
                "ranking by stars": r.ranking_stars,
                "ranking by stars 90%": _interval(r.ranking_stars90, ".3f"),
                "ranking by JSS": r.ranking_jss,
                "ranking by JSS 90%": _interval(r.ranking_jss90, ".3f"),
                "victims' harm ($)": r.victims_harm,
                "victims' harm 90%": _interval(r.victims_harm90, ",.0f"),
                "poor workers' gain ($)": r.poor_gain,
                "poor workers' gain 90%": _interval(r.poor_gain90, ",.0f"),
                "hired quality (stars)": r.hired_quality,
                "hired quality 90%": _interval(r.hired_quality90, ".3f"),
                "unfair low ratings": r.unfair_lows,
                "fair low ratings": r.fair_lows,
            }
        )
    return pd.DataFrame(out)
