"""Test helpers: the reference scenario as data, and small variants of it."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import sim

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
REFERENCE = SCENARIOS / "second-job-retaliation.toml"


def reference_data() -> dict[str, Any]:
    """The reference scenario as a plain mapping (a fresh copy each call)."""
    return copy.deepcopy(tomllib.loads(REFERENCE.read_text()))


def small(data: dict[str, Any] | None = None, paths: int = 512, weeks: int = 40, **run: Any):
    """A validated scenario with a small [run] section."""
    data = reference_data() if data is None else copy.deepcopy(data)
    data["run"] = {**data.get("run", {}), "paths": paths, "weeks": weeks, **run}
    return sim.Scenario.model_validate(data)
