"""Test helpers: the reference scenario as data, and small variants of it."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
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


def repsim(*args: str, cwd: Path, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess:
    """`repsim ARGS` in a subprocess of this interpreter, from the source tree."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


def leftovers(folder: Path) -> list[str]:
    """Hidden entries of a folder: temporary or set-aside folders a failed write would leave."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
