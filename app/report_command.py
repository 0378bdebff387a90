"""`repsim report SCENARIO`: the case report as PDF and/or HTML, written atomically, never over
an existing file without --force."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sim
from app.staging import OutputError, Progress, _umask
from sim import ScenarioError, dispute
from sim._files import write_atomic

__all__ = ["REPORT_FORMATS", "add_parser", "cmd_report", "reproduce_command", "with_uncertainty"]

REPORT_FORMATS = ("pdf", "html")


def _problem(key: str, message: str, source: str = "") -> ScenarioError:
    return ScenarioError([(source, key, message)])


def report_formats(text: str) -> tuple[str, ...]:
    """`pdf`, `html` or `pdf,html`."""
    wanted = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in REPORT_FORMATS]
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"choose from {','.join(REPORT_FORMATS)}"
        )
    return tuple(dict.fromkeys(wanted))


def _number(low: float, high: float, what: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{text} is out of range ({what})")
        return value

    return parse


def add_parser(sub: Any, common_debug: dict[str, Any], int_in: Any) -> None:
    """Register `repsim report` on the CLI's subparsers."""
    p = sub.add_parser("report", help="write the case report (PDF and/or HTML)")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="the report's file (default: SCENARIO-case.pdf); with --format pdf,html the HTML "
        "goes beside it with the .html suffix",
    )
    p.add_argument(
        "--format",
        type=report_formats,
        default=("pdf",),
        metavar="LIST",
        help="pdf, html or pdf,html (default: pdf)",
    )
    p.add_argument("--force", action="store_true", help="replace existing report files")
    p.add_argument("--paths", type=int, metavar="N", help="futures per arm (default: [run])")
    p.add_argument("--weeks", type=int, metavar="W", help="horizon in weeks (default: [run])")
    p.add_argument("--seed", type=int_in(0, 2**63 - 1), metavar="S", help="default: [run] seed")
    p.add_argument(
        "--chance",
        type=_number(0, 1, "from 0 to 1"),
        default=dispute.CHANCE_UPHELD,
        metavar="P",
        help=f"chance the report is upheld (default {dispute.CHANCE_UPHELD:g}, an assumption)",
    )
    p.add_argument(
        "--wait-weeks",
        type=int_in(0, sim.scenario.MAX_WEEKS),
        default=dispute.WAIT_WEEKS,
        metavar="N",
        help=f"weeks until the report is decided (default {dispute.WAIT_WEEKS}: about 7 "
        "business days, rounded up)",
    )
    p.add_argument(
        "--hours",
        type=_number(0, 1000, "from 0 to 1000"),
        default=dispute.HOURS,
        metavar="H",
        help=f"hours the report takes her (default {dispute.HOURS:g}); priced at her rate",
    )
    p.add_argument(
        "--uncertainty",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="each block of paths draws its own assumptions from their plausible ranges, for "
        "the third figure, the range over futures and assumptions (default: on, whatever the "
        "scenario's uncertainty.on; --no-uncertainty fixes the assumptions at its values)",
    )
    p.add_argument("--debug", **common_debug)
    p.set_defaults(func=cmd_report)


def reproduce_command(
    inputs: dispute.DisputeInputs, formats: Sequence[str] = ("pdf",), uncertainty: bool = True
) -> list:
    """The command that makes this report again from its appendix saved as scenario.toml (the
    appendix holds [run] with paths, weeks and seed as run); ``uncertainty`` off adds
    --no-uncertainty (the report draws the assumptions unless told not to)."""
    cmd = ["repsim", "report", "scenario.toml"]
    cmd += ["--chance", f"{inputs.chance_upheld:g}", "--wait-weeks", str(inputs.wait_weeks)]
    cmd += ["--hours", f"{inputs.hours:g}"]
    if not uncertainty:
        cmd += ["--no-uncertainty"]
    if tuple(formats) != ("pdf",):
        cmd += ["--format", ",".join(formats)]
    return cmd


def with_uncertainty(sc: sim.Scenario, on: bool) -> sim.Scenario:
    """The scenario with its ``uncertainty.on`` set (its ranges and design points kept). The
    report's rule is the flag's alone: a scenario file written by `repsim run` or the dashboard
    always holds an ``on`` line, so the file cannot say whether anyone chose it."""
    return sc.model_copy(update={"uncertainty": sc.uncertainty.model_copy(update={"on": on})})


def _targets(args: argparse.Namespace) -> dict[str, Path]:
    """{format: file} for the formats asked, refused before any work when they cannot be
    written or exist without --force."""
    if args.out is not None and not args.out.strip():
        raise _problem("--out", "is empty; give the report's file name (or leave --out out)")
    out = Path(args.out) if args.out else Path(f"{Path(args.scenario).stem}-case.pdf")
    if out.is_dir() or not out.name:
        raise _problem("--out", "is a folder; give the report's file name", str(out))
    if out.suffix.lower() in (".pdf", ".html"):
        stem = out.with_suffix("")
    else:
        stem = out
    targets = {}
    for fmt in args.format:
        path = out if out.suffix.lower() == f".{fmt}" else stem.with_name(f"{stem.name}.{fmt}")
        targets[fmt] = path
    for path in targets.values():
        if path.is_dir():
            raise _problem("--out", "is a folder; give the report's file name", str(path))
        if not path.parent.is_dir():
            raise _problem("--out", "no such folder", str(path.parent))
        if path.exists() and not args.force:
            raise _problem("--out", "exists; pass --force to replace it", str(path))
        if path.resolve() == Path(args.scenario).resolve():
            raise _problem("--out", "is the scenario file itself; refusing to replace it")
    return targets


def cmd_report(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Simulate the scenario and the dispute helper, typeset the report, write its files."""
    from app import report, report_html, report_typst
    from app.cli import _load

    targets = _targets(args)
    # as `repsim run`: the day it is run is written into the scenario it reports (its appendix)
    sc = with_uncertainty(sim.with_today(_load(args)), args.uncertainty)
    inputs = dispute.DisputeInputs(args.chance, args.wait_weeks, args.hours)
    command = reproduce_command(inputs, args.format, args.uncertainty)
    with Progress("simulating", "paths") as bar:
        case = report.make_case(sc, inputs, command, bar)
    data = {}
    for fmt in args.format:  # everything is built before anything is written
        data[fmt] = report_typst.case_pdf(case) if fmt == "pdf" else report_html.case_html(case)
    for fmt, path in targets.items():
        try:
            write_atomic(path, data[fmt])
            path.chmod(0o666 & ~_umask())  # a document to share, not a private temporary file
        except OSError as e:
            raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    s = case.summary
    for arm, d in s["differences"].items():
        e = d["earnings"]
        print(
            f"{arm} minus {s['reference']} by week {s['weeks']}: earnings "
            f"{report.money(e['mean'])} (90% interval {report.money(e['ci90'][0])} to "
            f"{report.money(e['ci90'][1])}; {report.ranges_words(e)})"
        )
    for v in case.values()[-1:]:
        print(
            f"reporting ({dispute.removed_label(inputs.wait_weeks)}, chance "
            f"{inputs.chance_upheld:.0%}, time {report.money(v.time_cost)}): expected value "
            f"{report.money(v.value)} by week {v.weeks}"
        )
    print("Wrote " + ", ".join(str(p) for p in targets.values()))
    return 0
