"""`ScenarioError`, and pydantic's errors worded as (file, dotted key, message) for people."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ._input import key_text
from .scenario_arms import RULE_NAMES

__all__ = ["ScenarioError", "problems_from"]


class ScenarioError(ValueError):
    """A scenario that cannot be used; `problems` holds one (source, dotted key, message) each."""

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """One line per problem: `file: key: what is wrong`."""
        out = []
        for source, key, message in self.problems:
            head = ": ".join(part for part in (source, key) if part)
            out.append(f"{head}: {message}" if head else message)
        return out


def _dotted(loc: tuple[int | str, ...]) -> str:
    """`("history", 1, "stars")` -> `history[1].stars`; drop pydantic's union tags."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            continue  # pydantic's mark of a problem with a table's key rather than its value
        elif i >= 2 and loc[i - 2] == "arms" and isinstance(loc[i - 1], int) and part in RULE_NAMES:
            continue  # discriminated-union tag, not a key the user wrote
        else:
            out += f".{key_text(part)}" if out else key_text(part)
    return out


# strict-mode type errors, worded as `--set` words them
_EXPECTED = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
}


def _shown(value: Any) -> str:
    """A value as the user wrote it in TOML (true, "20", 2.5), cut short."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "tuple_type" and isinstance(err.get("input"), dict):
        return "expected an array of tables: write [[name]] for each entry, not [name]"
    value = err.get("input")
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number (got {value})"
    if err["type"] in _EXPECTED and not isinstance(value, dict | list):
        return f"expected {_EXPECTED[err['type']]}, got {_shown(value)}"
    if err["type"] == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag", err["input"])
        return f"unknown rule {tag!r}; expected one of {', '.join(RULE_NAMES)}"
    if err["type"] == "union_tag_not_found":
        return f"missing 'rule' (one of {', '.join(RULE_NAMES)})"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] not in ("value_error", "assertion_error") and "input" in err:
        shown = repr(err["input"])
        if len(shown) <= 40 and not isinstance(err["input"], dict | list):
            msg += f" (got {shown})"
    return msg


def problems_from(error: ValidationError, source: str = "") -> list[tuple[str, str, str]]:
    """Every problem of a pydantic error as (source, dotted key, message)."""
    errors = error.errors()
    item_errors = {tuple(e["loc"])[:1] for e in errors if len(e["loc"]) > 1}
    out: list[tuple[str, str, str]] = []
    missing: dict[tuple, list[int]] = {}
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "too_short" and loc in item_errors:
            continue  # a follow-on of invalid items, already reported by their own keys
        if e["type"] == "missing" and loc and isinstance(loc[-1], int):
            missing.setdefault(loc[:-1], []).append(loc[-1])  # a short fixed-length array
            continue
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "rule")  # the problem is the arm's rule key, not the whole arm
        out.append((source, _dotted(loc), _message(e)))
    for parent, indices in missing.items():
        need = max(indices) + 1
        out.append((source, _dotted(parent), f"expected {need} values, got {min(indices)}"))
    return out
