"""The `repsim` command: run, check, sweep, sensitivity and app, thin layers over sim's API."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import sim
from app import policy_command, sensitivity_command
from app.cli_text import describe_point, describe_run
from app.files import (  # shared with the dashboard
    bands_csv,
    bands_frame,
    chart_file,
    csv_bytes,
    headlines_csv,
    json_bytes,
    scenario_toml,
    summary_json,
)
from app.pool import worker_init
from app.report_command import add_parser as add_report_parser
from app.staging import (
    Folder,
    OutputError,
    Progress,
    _check_out_name,
    staged,
)
from app.sweep_chart import sweep_chart
from sim import ScenarioError
from sim import sweep as sweeps

FORMATS = ("png", "svg", "html", "csv", "json")
LIBRARIES = ("numpy", "scipy", "pydantic", "pandas", "altair", "vl-convert-python")
CLUSTER_LIBRARIES = ("dask", "distributed")
RUN_OPTIONS = {"run.paths": "--paths", "run.weeks": "--weeks", "run.seed": "--seed"}
SHOWN_POINTS = 20
# Dask config for the LocalCluster we start. Dask's nannies set MALLOC_TRIM_THRESHOLD_ in workers,
# which turns off glibc's adaptive mmap threshold: every large numpy temporary is then mmapped and
# page-faulted afresh, and the engine runs about twice as slow (mostly system time). None unsets it.
# Workers are forked where the platform forks (Linux): they start with sim, numpy and Dask
# already imported, in a fraction of a second instead of several seconds of imports each, which
# a sweep of a few points would not win back (issue 17).
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None
} | ({"distributed.worker.multiprocessing-method": "fork"} if sys.platform == "linux" else {})
EXIT_OK, EXIT_FAILURE, EXIT_INVALID, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


def _problem(source: str, key: str, message: str) -> ScenarioError:
    return ScenarioError([(source, key, message)])


def write_charts(folder: Folder, charts: dict[str, Any], formats: Sequence[str]) -> None:
    jobs = [(name, chart, fmt) for name, chart in charts.items() for fmt in formats]
    with Progress("charts", "files") as bar:
        for i, (name, chart, fmt) in enumerate(jobs, 1):
            folder.write(*chart_file(name, chart, fmt))
            bar(i, len(jobs))


# -- manifest -----------------------------------------------------------------------------------


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def manifest(argv: Sequence[str], source: str, sc: sim.Scenario, **extra: Any) -> dict[str, Any]:
    """What made these files: versions, seed, scenario hash, command line; no clock time."""
    libraries = LIBRARIES + (
        CLUSTER_LIBRARIES if extra.get("executor", "").startswith("dask") else ()
    )
    return {
        "repsim": sim.__version__,
        "command": ["repsim", *argv],
        "scenario": {"file": source, "name": sc.name, "sha256": sc.sha256()},
        "seed": sc.run.seed,
        "paths": sc.run.paths,
        "weeks": sc.run.weeks,
        "versions": {"python": platform.python_version(), **{d: _version(d) for d in libraries}},
        "platform": f"{sys.platform}-{platform.machine()}",
        **extra,
    }


# -- commands -----------------------------------------------------------------------------------


def _load(args: argparse.Namespace, seed: bool = True) -> sim.Scenario:
    """The scenario with --paths, --weeks (and --seed) applied; their problems name the option."""
    sc = sim.load_scenario(args.scenario)
    try:
        return sim.with_run(sc, args.paths, args.weeks, args.seed if seed else None)
    except ScenarioError as e:
        raise ScenarioError(
            [("", RUN_OPTIONS.get(key, key), msg) for _, key, msg in e.problems]
        ) from None


def _out(args: argparse.Namespace, suffix: str) -> Path:
    if args.out is None:
        return Path(f"{Path(args.scenario).stem}-{suffix}")
    if not args.out.strip():
        raise _problem("--out", "", "is empty; give a folder (or leave --out out)")
    return Path(args.out)


def _simulate(sc: sim.Scenario, workers: int, progress: Any) -> sim.Result:
    """sim.run, its chunks spread over ``workers`` processes when more than one (same bytes)."""
    if workers <= 1 or sc.run.paths <= sim.engine.BLOCK:
        return sim.run(sc, progress=progress)
    per_worker = -(-sc.run.paths // workers)
    chunk = min(sc.run.chunk_paths, -(-per_worker // sim.engine.BLOCK) * sim.engine.BLOCK)
    # workers die with this process and leave Ctrl-C to it; on any failure they are stopped
    # at once rather than left to finish their chunks
    pool = ProcessPoolExecutor(workers, initializer=worker_init)
    try:
        return sim.run(sc, progress=progress, executor=pool, chunk_paths=chunk)
    except BaseException:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    sc = sim.with_today(_load(args))  # the scenario.toml it writes carries the day it was run
    if args.uncertainty:  # each block of paths draws its own assumptions (sim/design.py)
        sc = sc.model_copy(update={"uncertainty": sc.uncertainty.model_copy(update={"on": True})})
    out = _out(args, "run")
    _check_out_name(out)
    with staged(out, args.force, keep=[Path(args.scenario)]) as tmp:
        with Progress("simulating", "paths") as bar:
            res = _simulate(sc, args.workers, bar)
        summary = res.summary()
        folder = Folder(tmp, out)
        folder.write("summary.json", summary_json(summary))
        folder.write("bands.csv", bands_csv(bands_frame(res)))
        folder.write("headlines.csv", headlines_csv(summary))
        folder.write("scenario.toml", scenario_toml(sc))
        chart_formats = [f for f in FORMATS if f in args.formats]
        if chart_formats:
            from app.charts import build_specs

            write_charts(folder, build_specs(res), chart_formats)
        info = manifest(argv, args.scenario, sc, files=dict(folder.hashes))
        folder.write("manifest.json", json_bytes(info))
    print(describe_run(summary, sc.today))
    print(
        f"Wrote {out}/: summary.json, bands.csv, headlines.csv, scenario.toml, manifest.json, "
        f"{len(folder.hashes) - 5} chart files"
    )
    return EXIT_OK


def cmd_check(args: argparse.Namespace, argv: Sequence[str]) -> int:
    status = EXIT_OK
    for path in args.scenarios:
        try:
            sc = sim.load_scenario(path)
        except ScenarioError as e:
            print("\n".join(e.lines()), file=sys.stderr)
            status = EXIT_INVALID
            continue
        arms = ", ".join(f"{a.name} ({a.rule})" for a in sc.arms)
        print(
            f"{path}: ok: {sc.name!r}; arms {arms}; {sc.run.paths:,} paths x {sc.run.weeks} weeks"
        )
    return status


@contextlib.contextmanager
def executor_for(cluster: str | None, workers: int) -> Iterator[tuple[Executor, str]]:
    """In-process by default; `local`: a Dask LocalCluster; otherwise a scheduler's address."""
    if not cluster:
        yield sweeps.SerialExecutor(), "in-process"
        return
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise _problem("--cluster", "", "needs Dask: pip install 'repsim[cluster]'") from None
    if cluster == "local":
        with (
            dask.config.set(LOCAL_CLUSTER_CONFIG),
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as local,
            Client(local) as client,
        ):
            plural = "s" if workers != 1 else ""
            yield client.get_executor(), f"dask LocalCluster ({workers} worker{plural})"
        return
    try:
        client = Client(cluster, timeout="10s")
    except (OSError, TimeoutError, ValueError) as e:
        raise _problem("--cluster", cluster, f"cannot reach a Dask scheduler ({e})") from None
    with client:
        yield client.get_executor(), f"dask scheduler at {cluster}"


def write_sweep(
    folder: Folder, results: Sequence[dict[str, Any]], points: Sequence[sweeps.Point], formats
) -> None:
    columns, rows = sweeps.sweep_table(results)
    folder.write("sweep.csv", csv_bytes(columns, rows))
    width = max(3, len(str(len(points) - 1)))
    for r, p in zip(results, points, strict=True):
        sub = f"points/{r['index']:0{width}d}"
        folder.write(f"{sub}/summary.json", json_bytes(r["summary"]))
        folder.write(f"{sub}/scenario.toml", sim.dumps_scenario(p.scenario).encode("utf-8"))
    chart = sweep_chart(results, list(points[0].values)) if points else None
    if chart is not None and formats:
        write_charts(folder, {"sweep": chart}, [f for f in FORMATS if f in formats])


def _point_size(points: Sequence[sweeps.Point]) -> str:
    """Paths x weeks of the points as they run (a --set may change them)."""
    sizes = sorted({(p.scenario.run.paths, p.scenario.run.weeks) for p in points})
    if len(sizes) == 1:
        paths, weeks = sizes[0]
        return f"{paths:,} paths x {weeks} weeks"
    paths = sorted({s[0] for s in sizes})
    weeks = sorted({s[1] for s in sizes})
    return f"{paths[0]:,}-{paths[-1]:,} paths x {weeks[0]}-{weeks[-1]} weeks"


def cmd_sweep(args: argparse.Namespace, argv: Sequence[str]) -> int:
    sc = sim.with_today(_load(args, seed=False))  # each point's scenario.toml carries the day
    out = _out(args, "sweep")
    _check_out_name(out)
    grid = sweeps.parse_assignments(args.set)
    points = sweeps.grid_points(sc, grid, seed=args.seed)
    with (
        staged(out, args.force, keep=[Path(args.scenario)]) as tmp,
        executor_for(args.cluster, args.workers) as (executor, label),
    ):
        with Progress("sweeping", "points") as bar:
            results = sweeps.run_points(points, executor, bar)
        folder = Folder(tmp, out)
        write_sweep(folder, results, points, args.formats)
        base_seed = sc.run.seed if args.seed is None else args.seed
        info = manifest(
            argv,
            args.scenario,
            sc,
            grid=grid,
            executor=label,
            seed_note="each point's seed: SeedSequence(seed).spawn(points)",
            files=dict(folder.hashes),
        )
        folder.write("manifest.json", json_bytes({**info, "seed": base_seed}))
    print(f"{sc.name}: {len(points)} points x {_point_size(points)} ({label})")
    for r in results[:SHOWN_POINTS]:
        print(describe_point(r, sc.run.weeks))
    if len(results) > SHOWN_POINTS:
        print(f"  ... {len(results) - SHOWN_POINTS} more in sweep.csv")
    print(f"Wrote {out}/: sweep.csv, points/, charts/, manifest.json")
    return EXIT_OK


def dashboard_path() -> Path:
    return Path(__file__).with_name("serve.py")  # main.py, served with its /health route


def cmd_app(args: argparse.Namespace, argv: Sequence[str]) -> int:
    main_py = dashboard_path()
    if not main_py.is_file():
        raise RuntimeError(f"{main_py}: the dashboard is missing from this installation")
    command = [sys.executable, "-m", "streamlit", "run", str(main_py)]
    if args.port is not None:
        command += ["--server.port", str(args.port)]
    if args.scenario:
        sim.load_scenario(args.scenario)  # invalid: exit 2 here rather than in the browser
        command += ["--", str(Path(args.scenario).resolve())]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)
    return EXIT_FAILURE  # not reached


def cmd_validate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run the published checks (sim.validation) and write the Markdown report atomically."""
    from sim import validation

    out = Path(args.out)
    if out.is_dir():
        raise _problem("--out", str(out), "is a folder; give the report's file name")
    if not out.parent.is_dir():
        raise _problem("--out", str(out.parent), "no such folder")
    if out.exists() and not args.force:
        raise _problem("--out", str(out), "exists; pass --force to replace it")
    start = time.monotonic()
    rows = validation.run_checks(paths=args.paths, fast_only=args.fast)
    paths = args.paths or (validation.FAST_PATHS if args.fast else validation.FULL_PATHS)
    validation.write_report(out, rows, paths)
    for r in rows:
        print(f"{r.status:>14}  {r.id}" + (f": {r.reason}" if r.reason else ""))
    print(f"Wrote {out}: {len(rows)} checks in {time.monotonic() - start:.1f} s")
    return EXIT_OK


# -- arguments ----------------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error and a pointer to --help, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_INVALID, f"{self.prog}: {message}\n(see '{self.prog} --help')\n")


def formats_arg(text: str) -> tuple[str, ...]:
    wanted = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"choose from {','.join(FORMATS)}"
        )
    return tuple(dict.fromkeys(wanted))


def _int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            span = f"at least {low}" if high is None else f"from {low} to {high}"
            raise argparse.ArgumentTypeError(f"{value} is out of range ({span})")
        return value

    return parse


def _common(p: argparse.ArgumentParser, out_help: str) -> None:
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    p.add_argument("--paths", type=int, metavar="N", help="futures per arm (default: [run])")
    p.add_argument("--weeks", type=int, metavar="W", help="horizon in weeks (default: [run])")
    p.add_argument("--seed", type=_int_in(0, 2**63 - 1), metavar="S", help="default: [run] seed")
    p.add_argument("--out", metavar="DIR", help=out_help)
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")
    p.add_argument(
        "--formats",
        type=formats_arg,
        default=FORMATS,
        metavar="LIST",
        help="chart files, comma-separated: png,svg,html (rendered), json (Vega-Lite spec), "
        "csv (the chart's data); default: all",
    )


def build_parser() -> Parser:
    parser = Parser(prog="repsim", description="Reputation impact simulator.")
    parser.add_argument("--version", action="version", version=f"repsim {sim.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
    debug = {"action": "store_true", "default": argparse.SUPPRESS, "help": "show tracebacks"}

    p = sub.add_parser("run", help="simulate a scenario and write its files")
    _common(p, "output folder (default: ./SCENARIO-run)")
    p.add_argument(
        "--workers",
        type=_int_in(1, 256),
        default=1,
        help="processes that share the paths (the result is the same, byte for byte)",
    )
    p.add_argument(
        "--uncertainty",
        action="store_true",
        help="each block of paths draws its own assumptions from their plausible ranges "
        "(the scenario's [uncertainty]; default: its 'on', off unless set)",
    )
    p.add_argument("--debug", **debug)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", help="validate scenario files, listing every problem")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    p.add_argument("--debug", **debug)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("sweep", help="run a grid of variations of a scenario")
    _common(p, "output folder (default: ./SCENARIO-sweep)")
    p.add_argument(
        "--set",
        action="append",
        required=True,
        metavar="KEY=V1,V2",
        help="a dotted key and its values, e.g. arms[1].delay_weeks=0,6; repeat for a grid",
    )
    p.add_argument("--cluster", metavar="local|ADDRESS", help="run on Dask (default: in-process)")
    p.add_argument("--workers", type=_int_in(1, 256), default=2, help="for --cluster local")
    p.add_argument("--debug", **debug)
    p.set_defaults(func=cmd_sweep)

    sensitivity_command.add_parser(sub)
    policy_command.add_parser(sub)

    p = sub.add_parser("validate", help="compare the model with published figures")
    p.add_argument("--paths", type=_int_in(100, 100_000), metavar="N", help="simulated checks")
    p.add_argument("--out", default="docs/validation.md", metavar="FILE", help="Markdown report")
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    p.add_argument("--fast", action="store_true", help="only the fast checks (as in make test)")
    p.add_argument("--debug", **debug)
    p.set_defaults(func=cmd_validate)

    add_report_parser(sub, debug, _int_in)

    p = sub.add_parser("app", help="open the dashboard")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario to open")
    p.add_argument("--port", type=_int_in(1, 65535), metavar="P", help="server port")
    p.add_argument("--debug", **debug)
    p.set_defaults(func=cmd_app)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the same clean-up, exit status 143."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def _signals() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt and SIGTERM Terminated while a command runs (so staged
    folders and worker pools are cleaned up); the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, _on_sigterm),
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: exit 0 on success, 2 on invalid input, 1 on an unexpected failure."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = None
    try:
        with _signals():
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as e:
                code = e.code
                return EXIT_OK if code is None else code if isinstance(code, int) else EXIT_INVALID
            return args.func(args, argv)
    except ScenarioError as e:
        print("\n".join(e.lines()), file=sys.stderr)
        return EXIT_INVALID
    except Terminated:
        print("repsim: terminated; nothing written", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("repsim: interrupted; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OutputError as e:
        print(f"repsim: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as e:
        if args is not None and args.debug:
            traceback.print_exc()
        else:
            print(f"repsim: unexpected failure: {type(e).__name__}: {e}", file=sys.stderr)
            print("(run again with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
