"""Validation against published figures: the default calibration measured, never fitted."""

# Every check is a small function of `Settings` (paths, seed and the base scenario, by default
# the default calibration) that returns one `Row`: the published figure with its source, the
# model's figure, how it was measured, the tolerance and the verdict. `CHECKS` lists them; the
# fast ones guard fidelity in `make test`. `report_markdown` turns rows into docs/validation.md
# (`make validate`); the same inputs give the same bytes (no clock time). The checks read the
# model only through its public API (sim.run, sim.engine.trajectories, sim.market,
# sim.reputation), so that they measure whatever the model is today. This module holds the
# registry, the runner and the report; the checks live by source in validation_hiring.py (Y13),
# validation_negatives.py (CH10, R06), validation_field.py (FHG22, JSS-field) and
# validation_platform.py (oDesk, JSS, ratings needed), what they share in validation_base.py.

from __future__ import annotations

import platform
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ._files import write_atomic
from .scenario import Scenario
from .validation_base import (
    FAIL,
    FAST_PATHS,
    FULL_PATHS,
    NOT_COMPARABLE,
    PASS,
    Check,
    Row,
    Settings,
)
from .validation_field import (
    fhg_field_mean,
    fhg_five_star_share,
    fhg_freelancer_mean,
    field_jss_matches_hers,
)
from .validation_hiring import (
    yoganarasimhan_reviews,
    yoganarasimhan_stars_logodds,
    yoganarasimhan_stars_ratio,
)
from .validation_negatives import cabral_hortacsu, resnick
from .validation_platform import (
    jss_qualification,
    jss_weights,
    jss_windows,
    odesk_weighted_mean,
    ratings_needed_reference,
)

__all__ = [
    "CHECKS",
    "FAIL",
    "FAST_PATHS",
    "FULL_PATHS",
    "NOT_COMPARABLE",
    "PASS",
    "Check",
    "Row",
    "Settings",
    "report_markdown",
    "run_checks",
    "write_report",
]

# -- registry, runner, report -----------------------------------------------------------------

CHECKS: tuple[Check, ...] = (
    Check("Y13-stars", yoganarasimhan_stars_logodds, fast=True, simulated=False),
    Check("Y13-ratio", yoganarasimhan_stars_ratio, fast=True, simulated=False),
    Check("Y13-reviews", yoganarasimhan_reviews, fast=True, simulated=False),
    Check("CH10-first-negative", cabral_hortacsu, fast=True, simulated=True),
    Check("R06-sceptical", resnick, fast=True, simulated=True),
    Check("FHG22-five-star", fhg_five_star_share, fast=True, simulated=False),
    Check("FHG22-mean", fhg_freelancer_mean, fast=True, simulated=False),
    Check("FHG22-field", fhg_field_mean, fast=True, simulated=False),
    Check("JSS-field", field_jss_matches_hers, fast=True, simulated=False),
    Check("oDesk-2006-mean", odesk_weighted_mean, fast=True, simulated=False),
    Check("JSS-weights", jss_weights, fast=True, simulated=False),
    Check("JSS-windows", jss_windows, fast=True, simulated=False),
    Check("JSS-qualify", jss_qualification, fast=True, simulated=False),
    Check("Ratings-needed", ratings_needed_reference, fast=True, simulated=False),
)


def run_checks(
    paths: int | None = None,
    fast_only: bool = False,
    seed: int | None = None,
    base: Scenario | None = None,
    ids: Sequence[str] | None = None,
) -> list[Row]:
    """Run the registered checks (all, the fast ones, or those named) and return their rows.

    ``paths`` defaults to `FAST_PATHS` with ``fast_only`` and `FULL_PATHS` otherwise.
    """
    if paths is None:
        paths = FAST_PATHS if fast_only else FULL_PATHS
    if paths < 1:
        raise ValueError(f"paths: must be at least 1 (got {paths})")
    known = {c.id for c in CHECKS}
    unknown = sorted(set(ids or ()) - known)
    if unknown:
        raise ValueError(f"ids: unknown checks {unknown}; expected some of {sorted(known)}")
    settings = Settings(paths=paths, seed=seed, base=Scenario() if base is None else base)
    chosen = [c for c in CHECKS if (not fast_only or c.fast) and (ids is None or c.id in ids)]
    return [c.func(settings) for c in chosen]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def report_markdown(rows: Sequence[Row], paths: int, seed: int | None = None) -> str:
    """The validation report as Markdown: intro, the table, an account of each row that does not
    pass, and what produced it. No clock time: the same rows give the same text."""
    seed = Scenario().run.seed if seed is None else seed
    counts = {k: sum(r.status == k for r in rows) for k in (PASS, FAIL, NOT_COMPARABLE)}
    lines = [
        "# Validation against published figures",
        "",
        "Each row compares a figure the simulator produces with its **default calibration** to "
        "a figure published by researchers or by the platform. It is a fidelity check, not a "
        "fit: no parameter is tuned to make a row pass, and where the model cannot match a "
        "published effect the row says so and why. Rows measured by simulation state their "
        "paths, seed, window and history. Several defaults were derived from these same papers "
        "(MODEL.md, [D]); those rows check that the model's win probability, with its "
        "competitors and outside option, still reproduces the published figure. `make test` "
        f"runs the fast checks with {FAST_PATHS:,} paths (tests/test_validation.py).",
        "",
        "Generated by `make validate` (or `repsim validate`) from `sim/validation.py`. "
        f"Result: {counts[PASS]} pass, {counts[FAIL]} fail, {counts[NOT_COMPARABLE]} not "
        "comparable.",
        "",
        "| Check | Published figure | Source | Model | How measured | Tolerance | Result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        verdict = f"**{r.status}**" + (f": {r.reason}" if r.reason else "")
        cells = [
            f"`{r.id}` {r.title}",
            r.published,
            r.source,
            r.model,
            r.method,
            r.tolerance,
            verdict,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    failing = [r for r in rows if r.status != PASS]
    if failing:
        lines += ["## Rows that do not pass", ""]
        for r in failing:
            lines += [f"### `{r.id}`: {r.status}", "", r.reason, ""]
            if r.explanation:
                lines += [r.explanation, ""]
    versions = ", ".join(
        [f"repsim {_version('repsim')}", f"Python {platform.python_version()}"]
        + [f"{d} {_version(d)}" for d in ("numpy", "scipy", "pydantic")]
    )
    lines += [
        "## How this file was made",
        "",
        f"- Checks: {len(rows)} of the {len(CHECKS)} registered; simulated checks use "
        f"{paths:,} paths and seed {seed}.",
        f"- Versions: {versions}.",
        "- Same code, versions and options give the same bytes: the file holds no clock time.",
        "",
    ]
    return "\n".join(lines)


def write_report(
    path: str | Path,
    rows: Sequence[Row],
    paths: int,
    seed: int | None = None,
) -> bytes:
    """Write `report_markdown` to ``path`` atomically (readers see the old file or the new one);
    returns the bytes written."""
    data = report_markdown(rows, paths, seed).encode("utf-8")
    write_atomic(path, data)
    return data
