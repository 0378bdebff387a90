"""The Dispute page's inputs in the address bar: their parameters, ranges, encoding and checks.

The chance the report is upheld, the wait and her time are named as `sim.dispute.DisputeInputs`
names them (`dispute.chance_upheld`, a share from 0 to 1 as `repsim report --chance` takes it;
`dispute.wait_weeks`; `dispute.hours`). Only the inputs that differ from the defaults are in
the address, as with the scenario's controls. A value from an address is bounded to its widget's
range and checked before anything uses it; a bad one is named and left out, the rest kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim import dispute

__all__ = ["DEFAULTS", "INPUTS", "PARAMS", "STORE", "Input", "decode", "encode"]

STORE = "dispute-inputs"  # session_state: {name: value} as the page's widgets hold them


@dataclass(frozen=True)
class Input:
    """One input of the Dispute page: its widget's range and its address parameter."""

    name: str  # the page's own key: chance (whole percent), wait (weeks), hours
    param: str  # the address parameter: dispute.<the DisputeInputs field>
    lo: float
    hi: float
    integer: bool
    what: str  # in words, for messages
    scale: int = 1  # the address's value times this is the widget's (a share, a percent)


INPUTS: tuple[Input, ...] = (
    Input(
        "chance",
        "dispute.chance_upheld",
        0,
        100,
        True,
        "the chance the report is upheld as a share",
        100,
    ),
    Input("wait", "dispute.wait_weeks", 0, 52, True, "the weeks until it is decided"),
    Input("hours", "dispute.hours", 0.0, 100.0, False, "the hours it takes you"),
)
PARAMS = {i.param: i for i in INPUTS}
DEFAULTS: dict[str, Any] = {
    "chance": round(dispute.CHANCE_UPHELD * 100),
    "wait": dispute.WAIT_WEEKS,
    "hours": dispute.HOURS,
}


def _fmt(value: Any, i: Input) -> str:
    if i.integer and i.scale == 1:
        return str(int(value))
    return f"{value / i.scale:.10g}"


def encode(values: dict[str, Any]) -> dict[str, str]:
    """The address's parameters for the inputs that differ from the defaults."""
    return {
        i.param: _fmt(values[i.name], i)
        for i in INPUTS
        if i.name in values and values[i.name] != DEFAULTS[i.name]
    }


def _parse(text: str, i: Input) -> int | float:
    """The widget's value of an address parameter, or ValueError saying what is wrong."""
    shown = text[:40] + ("…" if len(text) > 40 else "")
    lo, hi = i.lo / i.scale, i.hi / i.scale
    expected = f"expected {i.what}, {lo:g} to {hi:g}"
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{shown!r} is not a number; {expected}") from None
    if not math.isfinite(number):
        raise ValueError(f"{shown} is not a finite number; {expected}")
    if not lo <= number <= hi:
        raise ValueError(f"{shown} is out of range; {expected}")
    value = number * i.scale
    if not i.integer:
        return value
    if abs(value - round(value)) > 1e-9:
        whole = "a whole percent (steps of 0.01)" if i.scale == 100 else "a whole number"
        raise ValueError(f"{shown} is not {whole}; {expected}")
    return round(value)


def decode(params: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The inputs an address holds ({name: widget value}) and (parameter, problem) for each
    value that could not be used (that input keeps its default)."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for i in INPUTS:
        if i.param not in params:
            continue
        try:
            values[i.name] = _parse(params[i.param], i)
        except ValueError as e:
            problems.append((i.param, str(e)))
    return values, problems
