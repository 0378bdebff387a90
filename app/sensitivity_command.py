"""`repsim sensitivity`: the tornado of a scenario (what drives its figures), written as files."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from app.files import csv_bytes, json_bytes, scenario_toml
from app.staging import Folder, Progress, _check_out_name, staged
from sim import ScenarioError
from sim import sensitivity as sens
from sim.assumptions import ASSUMPTIONS

__all__ = ["add_parser", "cmd_sensitivity", "describe_tornado", "tornado_csv"]

SHOWN = 5  # bars per figure in the printout
WORKERS = min(2, os.cpu_count() or 1)


def tornado_csv(t: sens.Tornado) -> bytes:
    """tornado.csv: per figure, one row an assumption, largest swing first."""
    return csv_bytes(sens.COLUMNS, t.rows())


def _keys(text: str | None) -> tuple[str, ...] | None:
    """--assumptions: None (the default choice), "all", or a comma-separated list of keys."""
    if text is None:
        return None
    if text.strip() == "all":
        return tuple(a.key for a in ASSUMPTIONS if a.key not in sens.OWN_FACTS)
    keys = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    known = {a.key for a in ASSUMPTIONS}
    problems = [
        ("--assumptions", k, "not an assumption with a range (see docs/model.md)")
        for k in keys
        if k not in known
    ]
    if not keys:
        problems.append(("--assumptions", "", "is empty; give keys such as hiring.b_jss, or all"))
    if problems:
        raise ScenarioError(problems)
    return keys


def _signed_money(x: float | None) -> str:
    return "n/a" if x is None else f"{'-' if x < 0 else '+'}${abs(x):,.0f}"


def _figure_text(figure: str, x: float | None, weeks: int) -> str:
    if figure == "earnings":
        return _signed_money(x)
    if figure == "recovery":
        return f"> {weeks} wk" if x is None else f"week {x:.0f}"
    return "n/a" if x is None else f"{x:.0%}"


def describe_tornado(t: sens.Tornado) -> str:
    """The largest swings per figure, for people."""
    lines = [
        f"{t.scenario}: {t.arm} minus {t.reference}, {t.paths:,} paths x {t.weeks} weeks, "
        f"seed {t.seed}; each assumption at its low and its high, the others at their defaults"
    ]
    names = {
        "earnings": "net earnings difference",
        "recovery": "lasting recovery (median week)",
        "not_recovered": "share not back for good",
    }
    for figure in sens.FIGURES:
        base = _figure_text(figure, t.base[figure], t.weeks)
        if all(b.at_low == b.at_high == t.base[figure] for b in t.bars[figure]):
            lines.append(f"{names[figure]}: {base} at the defaults and at every low and high")
            continue
        lines.append(
            f"{names[figure]}: {base} at the defaults; largest swings (share of the variance, "
            "first order):"
        )
        shares = t.variance_shares(figure)
        for b in t.bars[figure][:SHOWN]:
            lo = _figure_text(figure, b.at_low, t.weeks)
            hi = _figure_text(figure, b.at_high, t.weeks)
            share = "" if shares[b.key] is None else f"  ({shares[b.key]:.0%})"
            lines.append(f"  {b.key:<32} {b.low:>7g} -> {lo:>10}   {b.high:>7g} -> {hi:>10}{share}")
    return "\n".join(lines)


def cmd_sensitivity(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from app.cli import EXIT_OK, FORMATS, _load, _out, manifest, write_charts
    from app.pool import worker_init

    sc = _load(args)
    keys = _keys(args.assumptions)
    compared = sc.arm_names()[1:]
    if args.arm is not None and args.arm not in compared:
        shown = ", ".join(compared) or "none: give at least two rules"
        raise ScenarioError([("--arm", "", f"{args.arm!r} is not a compared rule ({shown})")])
    out = _out(args, "sensitivity")
    _check_out_name(out)
    source = args.scenario
    with staged(out, args.force, keep=[Path(args.scenario)]) as tmp:
        pool = (
            ProcessPoolExecutor(args.workers, initializer=worker_init) if args.workers > 1 else None
        )
        try:
            with Progress("tornado", "runs") as bar:
                t = sens.tornado(
                    sc,
                    keys,
                    paths=args.paths or sens.DEFAULT_PATHS,
                    arm=args.arm,
                    executor=pool,
                    progress=bar,
                    source=source,
                )
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        folder = Folder(tmp, out)
        folder.write("tornado.csv", tornado_csv(t))
        folder.write("scenario.toml", scenario_toml(sc))
        chart_formats = [f for f in FORMATS if f in args.formats]
        if chart_formats:
            from app.tornado_chart import tornado_chart

            write_charts(folder, {"tornado": tornado_chart(t)}, chart_formats)
        info = manifest(
            argv,
            args.scenario,
            sc,
            tornado=_manifest_line(t),
            files=dict(folder.hashes),
        )
        folder.write("manifest.json", json_bytes({**info, "paths": t.paths}))
    print(describe_tornado(t))
    charts = len(folder.hashes) - 3
    print(f"Wrote {out}/: tornado.csv, scenario.toml, manifest.json, {charts} chart files")
    return EXIT_OK


def _manifest_line(t: sens.Tornado) -> dict[str, Any]:
    return {
        "arm": t.arm,
        "reference": t.reference,
        "paths": t.paths,
        "runs": t.runs,
        "assumptions": [b.key for b in t.bars["earnings"]],
        "method": "each assumption at its low and its high, the others at their defaults, on "
        "the default run's seed (common random numbers)",
    }


def add_parser(sub: Any) -> None:
    """Register `repsim sensitivity` on the CLI's subparsers."""
    from app.cli import FORMATS, _int_in, formats_arg

    p = sub.add_parser(
        "sensitivity", help="what drives the figures: a tornado over the assumptions' ranges"
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    p.add_argument(
        "--paths", type=int, metavar="N", help=f"futures per run (default: {sens.DEFAULT_PATHS:,})"
    )
    p.add_argument("--weeks", type=int, metavar="W", help="horizon in weeks (default: [run])")
    p.add_argument("--seed", type=_int_in(0, 2**63 - 1), metavar="S", help="default: [run] seed")
    p.add_argument("--out", metavar="DIR", help="output folder (default: ./SCENARIO-sensitivity)")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")
    p.add_argument(
        "--formats",
        "--format",
        type=formats_arg,
        default=FORMATS,
        metavar="LIST",
        help="chart files, comma-separated: png,svg,html (rendered), json (Vega-Lite spec), "
        "csv (the chart's data); default: all",
    )
    p.add_argument(
        "--assumptions",
        metavar="KEYS",
        help="comma-separated dotted keys, or all (default: the assumptions the run draws, the "
        "JSS thresholds and the aggregators' settings the rules use)",
    )
    p.add_argument("--arm", metavar="NAME", help="the compared rule (default: the second)")
    p.add_argument(
        "--workers",
        type=_int_in(1, 256),
        default=WORKERS,
        metavar="N",
        help=f"processes that share the runs (default {WORKERS}; the files are the same, byte "
        "for byte, whatever the number)",
    )
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    p.set_defaults(func=cmd_sensitivity)
