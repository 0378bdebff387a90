"""Scenario TOML: read and validated into a `Scenario`, or dumped, saved and hashed from one."""

from __future__ import annotations

import datetime
import hashlib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from ._input import MAX_FILE_BYTES, InputProblem, check_toml_dates, parse_toml, read_capped, to_json
from .scenario_arms import RULE_ALIASES
from .scenario_errors import ScenarioError, problems_from
from .scenario_model import Scenario

__all__ = [
    "SINGLE_ARM",
    "dumps_scenario",
    "load_scenario",
    "loads_scenario",
    "save_scenario",
    "scenario_sha256",
    "scenario_to_dict",
    "validate_scenario",
    "with_current_names",
    "with_today",
]


def with_current_names(data: Any) -> Any:
    """Older files name the flagged-client rule `harsh_rater`: read it as `flagged_client`."""
    arms = data.get("arms") if isinstance(data, Mapping) else None
    if not isinstance(arms, list | tuple):
        return data

    def old(a: Any) -> bool:
        return (
            isinstance(a, Mapping) and isinstance(a.get("rule"), str) and a["rule"] in RULE_ALIASES
        )

    if not any(old(a) for a in arms):
        return data
    renamed = [{**a, "rule": RULE_ALIASES[a["rule"]]} if old(a) else a for a in arms]
    return {**data, "arms": renamed}


SINGLE_ARM = (
    "give at least two rules to compare: the first is the reference, each other one is "
    "compared with it"
)


def validate_scenario(data: Mapping[str, Any], source: str = "") -> Scenario:
    """A `Scenario` from a mapping, or `ScenarioError` listing every problem with its key.

    Strict, like `--set`: no booleans or strings where numbers belong, no floats where integers
    do, no NaN or infinity; nesting deeper than a scenario has is refused before validating; a
    single arm is refused (there is nothing to compare it with).
    """
    data = with_current_names(data)
    try:
        text = to_json(data)
    except InputProblem as e:
        raise ScenarioError([(source, e.key, e.message)]) from None
    problems: list[tuple[str, str, str]] = []
    try:
        sc = Scenario.model_validate_json(text, strict=True)
    except ValidationError as e:
        problems += problems_from(e, source)
    arms = data.get("arms") if isinstance(data, Mapping) else None
    arm_problem = any(key.startswith("arms") for _, key, _ in problems)
    if isinstance(arms, list | tuple) and len(arms) == 1 and not arm_problem:
        problems.append((source, "arms", f"{SINGLE_ARM} (got 1)"))
    if problems:
        raise ScenarioError(problems)
    return sc


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file; problems name the file and the dotted key.

    Only a regular file of at most `MAX_FILE_BYTES` is read (never a device or a FIFO).
    """
    source = str(path)
    try:
        raw = read_capped(path)
    except InputProblem as e:
        raise ScenarioError([(source, e.key, e.message)]) from None
    return loads_scenario(raw, source)


def loads_scenario(raw: bytes | str, source: str = "<scenario>") -> Scenario:
    """Parse and validate scenario TOML text."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioError([(source, "", "not UTF-8 text")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([(source, "", f"over the {MAX_FILE_BYTES / 2**20:.1f} MB limit")])
    try:
        data = parse_toml(raw)
        check_toml_dates(data)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError([(source, "", f"not valid TOML: {e}")]) from None
    except InputProblem as e:
        raise ScenarioError([(source, e.key, e.message)]) from None
    return validate_scenario(data, source)


def scenario_to_dict(sc: Scenario) -> dict[str, Any]:
    """The scenario as plain TOML-ready data (no None values, tuples as lists, dates as dates)."""
    data = _drop_none(sc.model_dump(mode="json"))
    if sc.today is not None:
        data["today"] = sc.today
    for entry, h in zip(data.get("history", []), sc.history, strict=True):
        if h.ended is not None:
            entry["ended"] = h.ended
    return data


def with_today(sc: Scenario, day: datetime.date | None = None) -> Scenario:
    """The scenario as run on a day: its own `today` if it has one, else `day` (default: the
    day it is run). Outputs are made from this, so the scenario they save reruns to the same
    bytes on any day."""
    if sc.today is not None:
        return sc
    return sc.model_copy(update={"today": day or datetime.date.today()})


def _drop_none(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    return x


def dumps_scenario(sc: Scenario) -> str:
    """The scenario as TOML text that `loads_scenario` reads back to an equal scenario."""
    return tomli_w.dumps(scenario_to_dict(sc))


def save_scenario(sc: Scenario, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the scenario as TOML, atomically; refuse to replace a file unless `overwrite`."""
    from ._files import write_atomic

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: exists; pass overwrite=True to replace it")
    write_atomic(path, dumps_scenario(sc).encode("utf-8"))
    return path


def scenario_sha256(sc: Scenario) -> str:
    """Hash of the scenario's canonical TOML: equal scenarios, equal hashes."""
    return hashlib.sha256(dumps_scenario(sc).encode("utf-8")).hexdigest()
