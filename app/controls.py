"""The dashboard's settings: controls, their defaults from a base scenario, and the URL encoding."""

from __future__ import annotations

import base64
import binascii
import copy
import datetime
import math
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

import sim
from app.history_table import entries_from_text, history_text
from sim._input import InputProblem, read_capped

__all__ = [
    "CATALOG",
    "CONTROLS",
    "DEFAULT_PRESET",
    "LEGACY",
    "PRESETS",
    "Base",
    "Control",
    "build_scenario",
    "controls_for",
    "decode_query",
    "defaults",
    "encode_query",
    "problems_markdown",
    "scenario_data",
]

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DEFAULT_PRESET = "second-job-retaliation"
# the freelancer's questions; scenarios/policy-*.toml are the Policy lab's (app/policy_lab.py)
PRESETS: dict[str, Path] = {
    p.stem: p for p in sorted(SCENARIOS.glob("*.toml")) if not p.stem.startswith("policy-")
}
SOURCE = "settings"
JS_MAX_INT = 2**53 - 1  # the browser's widgets hold numbers as doubles
TAG_WORDS = {
    "P": "[P] the platform's own documentation",
    "L": "[L] a published paper",
    "D": "[D] derived by us from a published figure",
    "A": "[A] our assumption, exposed as this setting",
}  # the `source` of problems found in the widgets' scenario

# Rules a user can add to the comparison; every arm on common random numbers (MODEL.md).
CATALOG: dict[str, dict[str, Any]] = {
    "kept": {"rule": "keep"},
    "excluded": {"rule": "exclude_flagged", "delay_weeks": 0},
    "flagged-client rule": {"rule": "flagged_client", "threshold": 3.0, "min_ratings": 3},
    "suspended client": {"rule": "suspended_client", "probability": 1.0},
    "whitby filter": {"rule": "whitby", "q": 0.01},
    "last 100 ratings": {"rule": "window", "last_n": 100},
    "last 104 weeks": {"rule": "window", "last_weeks": 104},
    "bayesian average": {"rule": "keep", "aggregator": "bayesian"},
    "beta reputation": {"rule": "keep", "aggregator": "beta"},
}
CATALOG_HELP = (
    "kept: every feedback counts. excluded: the disputed feedback is removed once the report is "
    "upheld [P]. flagged-client rule: feedback from clients whose feedback received from "
    "freelancers averages under 3.0 over 3 or more contracts stops counting against the JSS "
    "[P, threshold A]. suspended client: the disputing client is suspended and their feedback "
    "stops counting against the JSS [P]. whitby filter: iterated beta filtering, q = 0.01 [L]. "
    "last 100 ratings / last 104 weeks: windows as Lyft and Fiverr use [P]. bayesian average, beta "
    "reputation: everything counts, shown through another aggregator [L]. The first arm is the "
    "reference the others are compared with."
)


@dataclass(frozen=True)
class Base:
    """What the settings start from: a preset in scenarios/ or an uploaded TOML text."""

    preset: str | None = DEFAULT_PRESET
    toml: str | None = None

    def scenario(self) -> sim.Scenario:
        if self.toml is not None:
            return sim.loads_scenario(self.toml, "upload")
        return sim.load_scenario(PRESETS[self.preset or DEFAULT_PRESET])

    @property
    def label(self) -> str:
        return self.preset if self.toml is None else "uploaded scenario"


@dataclass(frozen=True)
class Control:
    """One sidebar control; `key` is its URL parameter and, for model fields, its dotted key."""

    key: str
    label: str
    kind: str  # slider, number, select, radio, multiselect, date, history (app/history_editor)
    section: str
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    options: tuple[Any, ...] = ()
    fmt: str | None = None
    note: str = ""  # what it means, for controls that are not one model field
    optional: bool = False  # may be empty (None)
    integer: bool = False

    @property
    def help(self) -> str:
        """What the control means and where its default comes from (MODEL.md's tags)."""
        info = field_info(self.key)
        desc = (info.description if info is not None else None) or ""
        text = " ".join(p for p in (self.note, desc) if p) or self.label
        if self.key not in DERIVED:
            text += f" (scenario key `{self.key}`)"
        tags = sorted(set(re.findall(r"\[([PLDA])\b", text)), key="PLDA".index)
        if not tags:
            return text
        sources = "; ".join(TAG_WORDS[t] for t in tags)
        return f"{text}\n\nWhere the default comes from: {sources}."


def _c(key: str, label: str, kind: str, section: str, **kw: Any) -> Control:
    return Control(key, label, kind, section, **kw)


DISPUTE, WORK, RULES, SIGNALS, RUN, HIRING, MARKET = (
    "Your contracts",
    "Your work",
    "Rules to compare",
    "What clients see",
    "Simulation",
    "Advanced: hiring model",
    "Advanced: market and feedback",
)
SECTIONS = (DISPUTE, WORK, RULES, SIGNALS, RUN, HIRING, MARKET)

# fmt: off
CONTROLS: tuple[Control, ...] = (
    _c("today", "Today", "date", DISPUTE, optional=True,
       note="Not a model assumption."),
    _c("history", "Your contracts", "history", DISPUTE,
       note="Your case, not a model assumption: your past contracts, oldest first, as the "
       "simulation runs them."),
    _c("freelancer.hourly_rate", "Hourly rate ($)", "number", WORK, lo=1.0, hi=1000.0, step=1.0,
       fmt="%.2f"),
    _c("freelancer.hours_per_week", "Hours per week on a contract", "slider", WORK, lo=1.0,
       hi=80.0, step=1.0),
    _c("freelancer.proposals_per_week", "Proposals per week", "slider", WORK, lo=0, hi=50, step=1,
       integer=True),
    _c("freelancer.capacity", "Contracts held at once (capacity)", "slider", WORK, lo=1, hi=10,
       step=1, integer=True),
    _c("freelancer.five_star", "Share of five-star work", "slider", WORK, lo=0.0, hi=1.0,
       step=0.01, note="P(5 stars) on future contracts; the other levels keep their proportions. "
       "[L] 85% in the inflated market (Filippas, Horton & Golden 2022)."),
    _c("freelancer.service_fee", "Platform service fee", "number", WORK, lo=0.0, hi=0.5, step=0.01),
    _c("arms", "Rules to compare", "multiselect", RULES, note=CATALOG_HELP),
    _c("exclusion.delay", "Exclusion delay (weeks)", "number", RULES, lo=0, hi=520, step=1,
       integer=True, note="Weeks the report waits in the support queue before the first "
       "exclude_flagged arm removes the feedback. [A] default 0."),
    _c("signals.shown", "Signals clients see", "radio", SIGNALS, options=("both", "stars", "jss"),
       note="Which signals clients weigh when hiring: the platform shows both stars and the Job "
       "Success Score [P]; stars or jss alone test a view of how clients read profiles [A]."),
    _c("signals.aggregator", "How stars are aggregated", "select", SIGNALS,
       options=("mean", "median", "bayesian", "beta", "wilson", "star_lower_bound")),
    # the JSS thresholds sit with the signals, never in a collapsed section: they must agree with
    # each other, and a control with a problem must be in sight
    _c("jss.success_at", "JSS: success at or above (stars)", "number", SIGNALS, lo=1.0, hi=5.0,
       step=0.1),
    _c("jss.fail_below", "JSS: failure below (stars)", "number", SIGNALS, lo=1.0, hi=5.0,
       step=0.1),
    _c("run.weeks", "Horizon (weeks)", "number", RUN, lo=4, hi=520, step=1, integer=True,
       note="Not a model assumption: how far to project."),
    _c("run.paths", "Paths (futures simulated)", "number", RUN, lo=100, hi=200_000, step=1000,
       integer=True, note="Not a model assumption: more paths, narrower intervals, slower runs."),
    _c("run.seed", "Seed", "number", RUN, lo=0, hi=JS_MAX_INT, step=1, integer=True,
       note="Not a model assumption: the same seed gives the same figures."),
    _c("uncertainty", "Assumption uncertainty", "radio", RUN, options=("on", "off"),
       note="Not a model assumption itself: how the model's assumptions are run. On: each "
       "block of futures draws its own values of the ten main assumptions "
       "(contract length, capacity, how clients weigh stars, JSS and badges, ...) from their "
       "plausible ranges, so the widest range covers what we do not know as well as chance. "
       "Off: every future uses the settings as they are. Scenario key `uncertainty.on`; on by "
       "default here, off in scenario files and `repsim run` (--uncertainty)."),
    _c("hiring.b_stars", "b_stars: per star above the market", "number", HIRING, lo=-10.0,
       hi=10.0, step=0.01),
    _c("hiring.b_stars_half_at_reviews", "Stars count half at this many reviews", "number",
       HIRING, lo=0.0, hi=10_000.0, step=1.0),
    _c("hiring.b_reviews", "b_reviews: per ln(1 + reviews)", "number", HIRING, lo=-10.0, hi=10.0,
       step=0.01),
    _c("hiring.b_jss.1", "b_jss at JSS 80-89", "number", HIRING, lo=-10.0, hi=10.0, step=0.1),
    _c("hiring.b_jss.2", "b_jss at JSS 75-79", "number", HIRING, lo=-10.0, hi=10.0, step=0.1),
    _c("hiring.b_jss.3", "b_jss below JSS 75", "number", HIRING, lo=-10.0, hi=10.0, step=0.1),
    _c("hiring.b_top_rated", "b_badge: Top Rated", "number", HIRING, lo=-10.0, hi=10.0, step=0.01),
    _c("hiring.b_rising_talent", "b_badge: Rising Talent", "number", HIRING, lo=-10.0, hi=10.0,
       step=0.01),
    _c("hiring.b_price", "b_price: per ln(rate / market rate)", "number", HIRING, lo=-10.0,
       hi=10.0, step=0.1),
    _c("hiring.known_win_rate", "Your win rate today (optional)", "number", HIRING, lo=0.0,
       hi=1.0, step=0.001, fmt="%.3f", optional=True,
       note="If you know the share of proposals you win now, the intercept is solved to match "
       "it (first arm, today). Your own figure, not a model assumption; empty: not used."),
    _c("market.competitors", "Other applicants per job", "number", MARKET, lo=0, hi=1000, step=1,
       integer=True),
    _c("market.hire_share", "Share of jobs ending in a hire", "number", MARKET, lo=0.01, hi=0.99,
       step=0.01),
    _c("market.competitor_stars_mean", "Competitors' mean stars", "number", MARKET, lo=1.0,
       hi=5.0, step=0.01),
    _c("market.competitor_reviews_median", "Competitors' median reviews", "number", MARKET,
       lo=1.0, hi=10_000.0, step=1.0),
    _c("market.market_rate", "Market hourly rate ($)", "number", MARKET, lo=1.0, hi=1000.0,
       step=1.0, fmt="%.2f"),
    _c("market.contract_weeks", "Mean contract length (weeks)", "number", MARKET, lo=1.0,
       hi=52.0, step=0.5),
    _c("signals.feedback_rate", "Share of contracts rated", "number", MARKET, lo=0.0, hi=1.0,
       step=0.01),
    _c("signals.weighting", "Weight stars by", "radio", MARKET, options=("value", "count")),
)
# Earlier addresses set the history through these; the history editor has replaced them, and an
# address that has them is read into its table (`decode_query`).
LEGACY: tuple[Control, ...] = (
    _c("disputed.stars", "Disputed rating (stars)", "slider", DISPUTE, lo=1.0, hi=5.0, step=0.1,
       note="Stars on the disputed (flagged) contract; your case's figure, not a model "
       "assumption. The reference case is a 3.4 from its six criteria [P: the platform's "
       "criteria]."),
    _c("disputed.contract", "Which contract it was (1 = first)", "number", DISPUTE, lo=1, hi=200,
       step=1, integer=True,
       note="Its place among your past contracts; earlier ones are kept (most recent first) or "
       "added with the stars below. Your case, not a model assumption."),
    _c("earlier.stars", "Stars on each earlier contract", "slider", DISPUTE, lo=1.0, hi=5.0,
       step=0.1, note="Applied to every contract before the disputed one. Your case."),
    _c("history.value", "Value of each past contract ($)", "number", DISPUTE, lo=1.0,
       hi=1_000_000.0, step=100.0, fmt="%.2f",
       note="Dollars paid on each past contract: stars are weighted by value [P: oDesk 2006] and "
       "so is the JSS [P]. Your case (the reference: $1,600)."),
)
# fmt: on
BY_KEY = {c.key: c for c in CONTROLS}
LEGACY_KEYS = {c.key: c for c in LEGACY}
DERIVED = (
    *LEGACY_KEYS,
    "history",
    "freelancer.five_star",
    "arms",
    "exclusion.delay",
    "uncertainty",
)
UNCERTAINTY_DEFAULT = "on"  # the dashboard draws the assumptions unless told not to


# -- model fields -----------------------------------------------------------------------------


def controls_for(key: str, message: str = "") -> list[Control]:
    """The controls a validation problem is about: the control of its dotted key, else (for a
    problem of a whole table, such as `jss`) the table's controls whose field the message names,
    else all of them."""
    if key in BY_KEY:
        return [BY_KEY[key]]
    inside = [c for c in CONTROLS if key and c.key.startswith(key + ".")]
    named = [c for c in inside if re.search(rf"\b{re.escape(c.key.rsplit('.', 1)[1])}\b", message)]
    return named or inside


def problems_markdown(problems: list[tuple[str, str, str]]) -> str:
    """One bullet per problem: the controls to change by their names, the dotted key, and what
    is wrong (a key no control holds, as from an upload, by its key alone)."""
    lines = []
    for _, key, message in problems:
        names = " and ".join(f"**{c.label}**" for c in controls_for(key, message))
        where = f"{names} (`{key}`)" if names else f"`{key or 'scenario'}`"
        lines.append(f"- {where}: {message}")
    return "\n".join(lines)


def field_info(dotted: str) -> FieldInfo | None:
    """The pydantic field behind a dotted key (None for derived controls)."""
    model: Any = sim.Scenario
    info = None
    for part in dotted.split("."):
        if part.isdigit():
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return None
        info = fields[part]
        model = info.annotation
    return info


def _get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        node = node[int(part)] if part.isdigit() else node[part]
    return node


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node: Any = data
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    last = parts[-1]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


def norm(value: Any, control: Control) -> Any:
    """A control's value in canonical form, so that equal settings compare equal."""
    if value is None:
        return None
    if control.kind == "date":
        return _date(value)
    if control.kind == "multiselect":
        return tuple(value)
    if control.integer:
        return int(value)
    if isinstance(value, float):
        return float(f"{value:.10g}")  # 3.4000000000000004 from a slider is 3.4
    return value


def _date(value: Any) -> datetime.date:
    """A date from a widget (a date), the scenario's JSON (text) or the address (text)."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value)
    if len(text) != 10:
        raise ValueError(f"expected a date such as 2026-11-29, got {text[:40]!r}")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected a date such as 2026-11-29, got {text[:40]!r}") from None


# -- defaults from a base scenario ------------------------------------------------------------


def _flagged(sc: sim.Scenario) -> int | None:
    return next((i for i, h in enumerate(sc.history) if h.flagged), None)


def defaults(sc: sim.Scenario) -> dict[str, Any]:
    """Every control's value in the base scenario (None where a control does not apply)."""
    data = sc.model_dump(mode="json")
    out: dict[str, Any] = {}
    for c in CONTROLS:
        if c.key not in DERIVED:
            out[c.key] = norm(_get(data, c.key), c)
    out["history"] = _history_text(sc)
    out["freelancer.five_star"] = norm(sc.freelancer.quality[4], BY_KEY["freelancer.five_star"])
    out["arms"] = sc.arm_names()
    delays = [a.delay_weeks for a in sc.arms if a.rule == "exclude_flagged"]
    out["exclusion.delay"] = delays[0] if delays else 0
    out["uncertainty"] = UNCERTAINTY_DEFAULT
    return out


_HISTORY_TEXTS: dict[int, tuple[sim.Scenario, str]] = {}


def _history_text(sc: sim.Scenario) -> str:
    """`history_text` of a base scenario, once per scenario object (every rerun asks)."""
    held = _HISTORY_TEXTS.get(id(sc))
    if held is None or held[0] is not sc:
        if len(_HISTORY_TEXTS) >= 32:
            _HISTORY_TEXTS.clear()
        held = _HISTORY_TEXTS[id(sc)] = (sc, history_text(sc.history))
    return held[1]


def legacy_defaults(sc: sim.Scenario) -> dict[str, Any]:
    """The values earlier addresses' history controls had in the base scenario."""
    out: dict[str, Any] = {}
    stars = sc.history_stars()
    f = _flagged(sc)
    earlier = [s for s in stars[:f] if not math.isnan(s)] if f is not None else []
    out["disputed.stars"] = None if f is None else round(float(stars[f]), 1)
    out["disputed.contract"] = None if f is None else f + 1
    mean_earlier = round(float(sum(earlier)) / len(earlier), 1) if earlier else 5.0
    out["earlier.stars"] = None if f is None else mean_earlier
    out["history.value"] = None if f is None else float(sc.history[f].value)
    return out


def arm_options(sc: sim.Scenario) -> tuple[str, ...]:
    """The base scenario's arms, then the catalog's other rules."""
    names = sc.arm_names()
    return names + tuple(n for n in CATALOG if n not in names)


# -- settings -> scenario ---------------------------------------------------------------------


def scenario_data(sc: sim.Scenario, overrides: dict[str, Any]) -> dict[str, Any]:
    """The base scenario's data with the controls that differ from it applied."""
    data = copy.deepcopy(sc.model_dump(mode="json"))
    for key, value in overrides.items():
        if key not in DERIVED:
            _set(data, key, list(value) if isinstance(value, tuple) else value)
    if "freelancer.five_star" in overrides:
        data["freelancer"]["quality"] = _rescale(
            list(sc.freelancer.quality), overrides["freelancer.five_star"]
        )
    _apply_history(data, sc, overrides)
    if "history" in overrides:
        data["history"] = entries_from_text(overrides["history"])
    _apply_arms(data, sc, overrides)
    data["uncertainty"]["on"] = overrides.get("uncertainty", UNCERTAINTY_DEFAULT) == "on"
    return data


def _rescale(quality: list[float], five: float) -> list[float]:
    rest = sum(quality[:4])
    lower = [q * (1 - five) / rest for q in quality[:4]] if rest > 0 else [(1 - five) / 4] * 4
    return [round(q, 12) for q in (*lower, five)]


def _rated(entry: dict[str, Any], stars: float) -> dict[str, Any]:
    """The entry with its feedback given as stars (criteria dropped: they no longer agree)."""
    return {**entry, "stars": stars, "criteria": None}


def _apply_history(data: dict[str, Any], sc: sim.Scenario, ov: dict[str, Any]) -> None:
    """An earlier address's history controls (LEGACY) applied to the base's contracts."""
    f = _flagged(sc)
    if f is None:
        return
    hist = data["history"]
    earlier, disputed, later = hist[:f], hist[f], hist[f + 1 :]
    if "earlier.stars" in ov:
        earlier = [_rated(h, ov["earlier.stars"]) if _has_feedback(h) else h for h in earlier]
    if "disputed.contract" in ov:
        earlier = _resize(earlier, disputed, ov["disputed.contract"] - 1, ov, sc)
    if "disputed.stars" in ov:
        disputed = _rated(disputed, ov["disputed.stars"])
    hist = [*earlier, disputed, *later]
    if "history.value" in ov:
        hist = [{**h, "value": ov["history.value"]} for h in hist]
    data["history"] = hist


def _has_feedback(entry: dict[str, Any]) -> bool:
    return entry.get("stars") is not None or entry.get("criteria") is not None


def _resize(earlier: list, disputed: dict, n: int, ov: dict, sc: sim.Scenario) -> list:
    """Keep the n most recent earlier contracts, or add older ones at the usual spacing."""
    if n <= len(earlier):
        return earlier[len(earlier) - n :]
    newest_age = disputed["ended_weeks_ago"]
    oldest_age = earlier[0]["ended_weeks_ago"] if earlier else newest_age
    gap = max(1, round((oldest_age - newest_age) / len(earlier))) if earlier else 4
    stars = ov.get("earlier.stars", legacy_defaults(sc)["earlier.stars"])
    added = [
        {
            "client": f"earlier-client-{i + 1}",
            "stars": stars,
            "value": disputed["value"],
            "ended_weeks_ago": oldest_age + gap * (n - len(earlier) - i),
        }
        for i in range(n - len(earlier))
    ]
    return added + earlier


def _apply_arms(data: dict[str, Any], sc: sim.Scenario, ov: dict[str, Any]) -> None:
    if "arms" in ov:
        offered = set(arm_options(sc))
        base = {a["name"]: a for a in data["arms"]}
        data["arms"] = [  # in the order picked: the first picked is the reference
            base.get(name, {"name": name, **CATALOG.get(name, {})})
            for name in dict.fromkeys(ov["arms"])
            if name in offered
        ]
    if "exclusion.delay" in ov:
        for arm in data["arms"]:
            if arm.get("rule") == "exclude_flagged":
                arm["delay_weeks"] = ov["exclusion.delay"]
                break


def build_scenario(sc: sim.Scenario, overrides: dict[str, Any]) -> sim.Scenario:
    """The validated scenario the controls describe; `sim.ScenarioError` names each bad key.
    Assumption uncertainty is on unless the "uncertainty" control says off."""
    if not overrides:
        on = UNCERTAINTY_DEFAULT == "on"
        return sc.model_copy(update={"uncertainty": sc.uncertainty.model_copy(update={"on": on})})
    return sim.validate_scenario(scenario_data(sc, overrides), SOURCE)


def diff(values: dict[str, Any], base_defaults: dict[str, Any]) -> dict[str, Any]:
    """Only the controls whose value differs from the base scenario's."""
    out = {}
    for key, value in values.items():
        c = BY_KEY[key]
        v = norm(value, c)
        if v != base_defaults.get(key):
            out[key] = v
    return out


# -- the URL: preset (or an uploaded scenario) plus the keys that differ ----------------------


def _pack(text: str) -> str:
    return base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


MAX_PACKED = 256 * 1024  # bytes of scenario TOML a `scenario=` parameter may unpack to


def _unpack(blob: str) -> str:
    """The TOML of a `scenario=` parameter, decompressed no further than MAX_PACKED bytes."""
    if len(blob) > MAX_PACKED:
        raise ValueError(f"over {MAX_PACKED // 1024} KB")
    inflate = zlib.decompressobj()
    text = inflate.decompress(base64.urlsafe_b64decode(blob.encode("ascii")), MAX_PACKED)
    if inflate.unconsumed_tail or not inflate.eof:
        raise ValueError(f"unpacks to more than {MAX_PACKED // 1024} KB, or is cut short")
    return text.decode("utf-8")


def _in_range(value: Any, c: Control, default: Any) -> Any:
    """A URL value within the control's range (widened to the base scenario's own value, as the
    widget is), checked before anything is built from it."""
    if c.lo is None or c.hi is None or not isinstance(value, int | float):
        return value
    lo, hi = c.lo, c.hi
    if isinstance(default, int | float):
        lo, hi = min(lo, default), max(hi, default)
    if not lo <= value <= hi:
        raise ValueError(f"out of range ({lo:g} to {hi:g})")
    return value


def _fmt(value: Any, c: Control) -> str:
    if value is None:
        return "none"
    if c.kind == "date":
        return value.isoformat()
    if c.kind == "history":
        return _pack(value)
    if c.kind == "multiselect":
        return ",".join(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def encode_query(base: Base, overrides: dict[str, Any]) -> dict[str, str]:
    """Query parameters: `preset` (or `scenario`, a packed TOML) and each changed control."""
    head = {"preset": base.preset} if base.toml is None else {"scenario": _pack(base.toml)}
    return {**head, **{k: _fmt(v, BY_KEY[k]) for k, v in overrides.items()}}


def _parse(text: str, c: Control) -> Any:
    if c.optional and text.lower() in ("none", ""):
        return None
    if c.kind == "date":
        return _date(text)
    if c.kind == "history":
        return history_text(entries_from_text(_unpack(text)))
    if c.kind == "multiselect":
        return tuple(t for t in text.split(",") if t)
    if c.options:
        if text not in c.options:
            raise ValueError(f"expected one of {', '.join(c.options)}")
        return text
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    if c.integer:
        if number != int(number):
            raise ValueError("expected a whole number")
        if abs(number) > JS_MAX_INT:
            raise ValueError(f"too large for the dashboard (at most {JS_MAX_INT})")
        return int(number)
    return number


def decode_query(params: dict[str, str]) -> tuple[Base, dict[str, Any], list[tuple[str, str]]]:
    """Base, overrides and (parameter, problem) pairs for what could not be used."""
    problems: list[tuple[str, str]] = []
    base = Base()
    if "scenario" in params:
        try:
            text = _unpack(params["scenario"])
            sim.loads_scenario(text, "scenario")
            base = Base(preset=None, toml=text)
        except (ValueError, zlib.error, binascii.Error, UnicodeDecodeError) as e:
            problems.append(("scenario", f"not a usable packed scenario ({str(e)[:200]})"))
    elif "preset" in params:
        if params["preset"] in PRESETS:
            base = Base(preset=params["preset"])
        else:
            problems.append(("preset", f"unknown preset; expected one of {', '.join(PRESETS)}"))
    overrides: dict[str, Any] = {}
    base_sc = base.scenario()
    base_values = {**defaults(base_sc), **legacy_defaults(base_sc)}
    for key, text in params.items():
        if key in ("preset", "scenario"):
            continue
        c = BY_KEY.get(key) or LEGACY_KEYS.get(key)
        if c is None:
            problems.append((key, "unknown setting"))
            continue
        try:
            overrides[key] = _in_range(norm(_parse(text, c), c), c, base_values.get(key))
        except (ValueError, zlib.error, binascii.Error, UnicodeDecodeError) as e:
            problems.append((key, str(e)[:300]))
    _history_from_legacy(base_sc, overrides, problems)
    if "history" in overrides:
        _check_history(base_sc, overrides, problems)
    return base, overrides, problems


def _history_from_legacy(
    sc: sim.Scenario, overrides: dict[str, Any], problems: list[tuple[str, str]]
) -> None:
    """An earlier address's history controls, read into the table of contracts."""
    legacy = {k: overrides.pop(k) for k in list(overrides) if k in LEGACY_KEYS}
    if not legacy or "history" in overrides:
        return
    data = scenario_data(sc, legacy)
    try:
        built = sim.validate_scenario(data, SOURCE)
    except sim.ScenarioError as e:
        problems += [(k, "; ".join(m for _, _, m in e.problems)[:300]) for k in legacy]
        return
    overrides["history"] = history_text(built.history)


def _check_history(
    sc: sim.Scenario, overrides: dict[str, Any], problems: list[tuple[str, str]]
) -> None:
    """The address's contracts, checked before anything is built from them."""
    today = overrides.get("today") or sc.today
    data: dict[str, Any] = {"history": entries_from_text(overrides["history"])}
    if today is not None:
        data["today"] = today
    data["signals"] = {"criteria_weights": dict(sc.signals.criteria_weights)}
    try:
        sim.validate_scenario(data, "history")
    except sim.ScenarioError as e:
        overrides.pop("history")
        problems.append(("history", "; ".join(f"{k}: {m}" for _, k, m in e.problems)[:300]))


def base_from_path(path: str | Path) -> Base:
    """A command-line scenario: a preset when it is one of scenarios/, else its text."""
    p = Path(path)
    if p.resolve().parent == SCENARIOS.resolve() and p.stem in PRESETS:
        return Base(preset=p.stem)
    try:  # a regular file of at most MAX_FILE_BYTES: never /dev/zero, a FIFO or a huge file
        raw = read_capped(p)
    except InputProblem as e:
        raise sim.ScenarioError([(str(p), e.key, e.message)]) from None
    sim.loads_scenario(raw, str(p))  # refuses text that is not UTF-8
    return Base(preset=None, toml=raw.decode("utf-8"))
