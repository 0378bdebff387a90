"""`repsim policy`: a population's frontier of rules (protection against signal lost) as files."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sim
from app.files import csv_bytes, json_bytes, scenario_toml
from app.staging import Folder, Progress, _check_out_name, staged
from sim import ScenarioError
from sim import frontier as fr
from sim import sweep as sweeps
from sim.policy_types import RuleMeasures

__all__ = [
    "CSV_COLUMNS",
    "add_parser",
    "cmd_policy",
    "describe_policy",
    "policy_csv",
    "policy_rows",
    "policy_summary",
    "split_sets",
]

SOURCE = "--set"
CHARTS = ("png", "svg", "html")
INTERVALS = (
    "protection",
    "signal_lost",
    "ranking_stars",
    "ranking_jss",
    "victims_harm",
    "poor_gain",
    "hired_quality",
)
CSV_COLUMNS = (
    "rule", "arm", "parameter", "value",
    "protection", "protection_lo", "protection_hi", "protection_weeks",
    "signal_lost", "signal_lost_lo", "signal_lost_hi",
    "ranking_stars", "ranking_stars_lo", "ranking_stars_hi",
    "ranking_jss", "ranking_jss_lo", "ranking_jss_hi",
    "victims_harm", "victims_harm_lo", "victims_harm_hi",
    "poor_gain", "poor_gain_lo", "poor_gain_hi",
    "hired_quality", "hired_quality_lo", "hired_quality_hi",
    "unfair_lows", "fair_lows",
)  # fmt: skip
METHOD = (
    "every rule and setting on the scenario's seed (common random numbers: one population); "
    "90% intervals clustered over blocks of 256 paths: cluster-robust normal intervals of "
    "ratios, a percentile block bootstrap for the rank correlations (sim/policy_measures.py)"
)


# -- the files --------------------------------------------------------------------------------


def policy_rows(rows: Sequence[RuleMeasures]) -> list[dict[str, Any]]:
    """policy.csv's rows: one per arm and setting, an empty cell where a figure is None."""
    out = []
    for r in rows:
        row: dict[str, Any] = {
            "rule": r.rule,
            "arm": r.arm,
            "parameter": r.parameter,
            "value": r.value,
            "protection_weeks": r.protection_weeks,
            "unfair_lows": r.unfair_lows,
            "fair_lows": r.fair_lows,
        }
        for name in INTERVALS:
            interval = getattr(r, f"{name}90")
            row[name] = getattr(r, name)
            row[f"{name}_lo"], row[f"{name}_hi"] = interval if interval else (None, None)
        out.append(row)
    return out


def policy_csv(rows: Sequence[RuleMeasures]) -> bytes:
    """policy.csv (docs: the policy interface of issue 16), written as the other CSVs are."""
    return csv_bytes(CSV_COLUMNS, policy_rows(rows))


def policy_summary(
    sc: sim.Scenario,
    rows: Sequence[RuleMeasures],
    settings: Mapping[str, Sequence[Any]] | None = None,
) -> dict[str, Any]:
    """summary.json: what was run (seed, scenario hash, versions) and every row's measures; no
    executor, command line or clock, so that it is the same bytes however it was run."""
    from app.cli import LIBRARIES, _version

    return {
        "repsim": sim.__version__,
        "scenario": {"name": sc.name, "sha256": sc.sha256()},
        "seed": sc.run.seed,
        "paths": sc.run.paths,
        "weeks": sc.run.weeks,
        "versions": {d: _version(d) for d in LIBRARIES},
        "method": METHOD,
        "settings": {k: list(v) for k, v in {**fr.SETTINGS, **(settings or {})}.items()},
        "measures": [dataclasses.asdict(r) for r in rows],
    }


# -- the command line -------------------------------------------------------------------------


def split_sets(assignments: Sequence[str]) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """--set KEY=V1,V2: a frontier parameter (`sim.frontier.SETTINGS`) takes the values it is
    swept over; any other scenario key takes one value, which replaces the scenario's."""

    def one_value(key: str, values: list[Any]) -> str | None:
        if key in fr.SETTINGS or len(values) == 1:
            return None
        return (
            f"takes one value (only the frontier's parameters take several: "
            f"{', '.join(fr.SETTINGS)})"
        )

    given = sweeps.parse_assignments(assignments, one_value)
    swept = {k: v for k, v in given.items() if k in fr.SETTINGS}
    fixed = {k: v[0] for k, v in given.items() if k not in fr.SETTINGS}
    return swept, fixed


def _share(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _money(x: float) -> str:
    return f"{'-' if x < 0 else ''}${abs(x):,.0f}"


def _setting(r: RuleMeasures) -> str:
    return r.arm if r.parameter is None else f"{r.parameter} {r.value:g}"


def describe_policy(sc: sim.Scenario, rows: Sequence[RuleMeasures], label: str) -> str:
    """A table for people: per rule and setting, protection, signal lost, ranking and harm."""

    def text(x: float | None, fmt: str, none: str = "n/a") -> str:
        return none if x is None else format(x, fmt)

    lines = [
        f"{sc.name}: {sc.run.paths:,} freelancers x {sc.run.weeks} weeks, seed {sc.run.seed} "
        f"({label}); {len(rows)} rules and settings",
        f"  {'rule':<16} {'setting':<28} {'protection':>10} {'signal lost':>11} "
        f"{'rank stars':>10} {'victims lose':>12} {'hired quality':>13}",
    ]
    for r in rows:
        harm = "n/a" if r.victims_harm is None else _money(r.victims_harm)
        lines.append(
            f"  {r.rule:<16} {_setting(r)[:28]:<28} "
            f"{_share(r.protection) if r.unfair_lows else 'no unfair':>10} "
            f"{_share(r.signal_lost) if r.fair_lows else 'no fair low':>11} "
            f"{text(r.ranking_stars, '+.3f'):>10} {harm:>12} "
            f"{text(r.hired_quality, '.3f'):>13}"
        )
    return "\n".join(lines)


def _chart_module() -> Any | None:
    """app.frontier_chart (the Policy lab page's), or None where this installation lacks it."""
    try:
        return importlib.import_module("app.frontier_chart")
    except ModuleNotFoundError as e:
        if e.name != "app.frontier_chart":
            raise
        return None


def cmd_policy(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from app.cli import EXIT_OK, _load, executor_for, manifest

    swept, fixed = split_sets(args.set or [])
    sc = sweeps.with_values(sim.with_today(_load(args)), fixed)
    fr.frontier_tasks(sc, swept, SOURCE)  # every problem before anything starts
    out = Path(args.out)
    if not args.out.strip():
        raise ScenarioError([("--out", "", "is empty; give a folder")])
    _check_out_name(out)
    workers = args.workers or (2 if args.cluster else 1)
    pool = None
    with (
        staged(out, args.force, keep=[Path(args.scenario)]) as tmp,
        executor_for(args.cluster, workers) as (executor, label),
    ):
        if not args.cluster and workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            from app.pool import worker_init

            pool = ProcessPoolExecutor(workers, initializer=worker_init)
            executor, label = pool, f"{workers} processes"
        try:
            with Progress("frontier", "scenarios") as bar:
                rows = fr.frontier(
                    sc, settings=swept, executor=executor, progress=bar, source=SOURCE
                )
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        folder = Folder(tmp, out)
        folder.write("policy.csv", policy_csv(rows))
        folder.write("summary.json", json_bytes(policy_summary(sc, rows, swept)))
        folder.write("scenario.toml", scenario_toml(sc))
        charts = _chart_module()
        if charts is not None:
            from app.export import chart_bytes

            chart = charts.frontier_chart(rows)
            for fmt in CHARTS:
                folder.write(f"frontier.{fmt}", chart_bytes(chart, fmt))
        info = manifest(
            argv,
            args.scenario,
            sc,
            executor=label,
            frontier={k: list(v) for k, v in swept.items()},
            files=dict(folder.hashes),
        )
        folder.write("manifest.json", json_bytes(info))
    print(describe_policy(sc, rows, label))
    print(f"Wrote {out}/: {', '.join(folder.hashes)}")
    if charts is None:
        print("(no frontier chart: app/frontier_chart.py is not in this installation)")
    return EXIT_OK


def add_parser(sub: Any) -> None:
    """Register `repsim policy` on the CLI's subparsers."""
    from app.cli import _int_in

    p = sub.add_parser(
        "policy",
        help="which rule protects honest freelancers at what cost to the signal: the frontier "
        "of a population",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file (with [population])")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=V1,V2",
        help="a frontier parameter and its settings (" + ", ".join(fr.SETTINGS) + "), or any "
        "scenario key and one value, e.g. population.clients.coercive_share=0.05; repeat for more",
    )
    p.add_argument("--paths", type=int, metavar="N", help="freelancers (default: [run] paths)")
    p.add_argument("--weeks", type=int, metavar="W", help="horizon in weeks (default: [run])")
    p.add_argument("--seed", type=_int_in(0, 2**63 - 1), metavar="S", help="default: [run] seed")
    p.add_argument("--cluster", metavar="local|ADDRESS", help="run on Dask (default: in-process)")
    p.add_argument(
        "--workers",
        type=_int_in(1, 256),
        metavar="N",
        help="Dask workers of --cluster local (default 2), else processes (default 1); the files "
        "are the same, byte for byte, whatever runs them",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    p.set_defaults(func=cmd_policy)
