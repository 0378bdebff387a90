"""Engine benchmarks: the reference run, time and peak memory as paths and weeks grow, the
engine against competent numba, Mesa and plain-Python baselines side by side (compare.py), and
parallel runs: sim.run on a process pool and a sweep on a Dask LocalCluster (parallel_bench.py).

Each measurement runs in a fresh subprocess so that its peak resident memory is its own; ratios
are measured side by side in one process, in interleaved rounds, with their spread. Figures are
printed as Markdown tables and, with --write FILE, written with the machine and versions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import compare
import parallel_bench
import policy_bench
import tornado_bench
import uncertainty_bench

from sim._files import write_atomic

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFERENCE = ROOT / "scenarios" / "second-job-retaliation.toml"

CHILD = r"""
import json, sys, time
import sim
from compare import peak_bytes
sc = sim.load_scenario(sys.argv[1])
paths, weeks, repeat = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sim.run(sc, paths=min(paths, 1000), weeks=weeks)  # warm up imports and caches
times, cpu = [], []
for _ in range(repeat):
    t, c = time.perf_counter(), time.process_time()
    res = sim.run(sc, paths=paths, weeks=weeks)
    times.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
peak = peak_bytes()  # VmHWM: ru_maxrss would carry the parent's peak across exec
print(json.dumps({"paths": paths, "weeks": weeks, "arms": len(res.arms), "seconds": min(times),
                  "median_seconds": sorted(times)[len(times) // 2], "max_seconds": max(times),
                  "median_cpu_seconds": sorted(cpu)[len(cpu) // 2], "peak_bytes": peak}))
"""


def measure(paths: int, weeks: int, repeat: int, scenario: Path = REFERENCE) -> dict:
    """One configuration in a fresh single-threaded subprocess."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(scenario), str(paths), str(weeks), str(repeat)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def row(m: dict) -> str:
    path_weeks = m["paths"] * m["weeks"] * m["arms"]
    return (
        f"| {m['paths']:>9,} | {m['weeks']:>4} | {m['arms']} | {m['seconds']:8.3f} | "
        f"{m['median_seconds']:8.3f} | {m['max_seconds']:8.3f} | "
        f"{m['median_cpu_seconds']:8.3f} | {path_weeks / m['seconds'] / 1e6:7.2f} | "
        f"{m['peak_bytes'] / 2**20:8.0f} |"
    )


HEADER = (
    "| paths | weeks | arms | seconds (best) | seconds (median) | seconds (worst) "
    "| CPU seconds (median) | million path-weeks/s (best) | peak MiB |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)
REFERENCE_REPEATS = 15  # the machine's speed drifts: best, median and worst of many runs


def parallel(quick: bool) -> dict | None:
    """parallel_bench.py in a fresh process: its JSON, or None when it failed."""
    out = HERE / ".parallel.json"
    args = ["--rounds", "2", "--paths", "20000", "--sweep-paths", "5000"] if quick else []
    done = subprocess.run(
        [sys.executable, str(HERE / "parallel_bench.py"), "--json", str(out), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), str(HERE)]))},
    )
    if done.returncode:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    data = json.loads(out.read_text())
    out.unlink()
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes only (about a minute)")
    ap.add_argument("--write", type=Path, help="write the results as Markdown to this file")
    ap.add_argument("--json", type=Path, help="write the raw measurements as JSON")
    ap.add_argument("--no-compare", action="store_true", help="skip numba, Mesa and plain Python")
    ap.add_argument("--no-parallel", action="store_true", help="skip the process pool and Dask")
    ap.add_argument("--no-policy", action="store_true", help="skip the policy lab's population")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    reference = measure(10_000, 104, REFERENCE_REPEATS)
    uncertainty = uncertainty_bench.measure(3 if args.quick else 9)  # on against off (issue 12)
    if args.quick:
        paths_grid, weeks_grid = (1_000, 10_000, 100_000), (26, 104)
    else:
        paths_grid, weeks_grid = (1_000, 10_000, 100_000), (26, 52, 104, 260, 520)
    by_paths = [measure(p, 52, 1 if p >= 100_000 else 3) for p in paths_grid]
    by_weeks = [measure(10_000, w, 3) for w in weeks_grid]
    comparison = None if args.no_compare else compare.compare(quick=args.quick)
    tornado = [tornado_bench.measure(1), tornado_bench.measure(2)]
    par = None if args.no_parallel else parallel(args.quick)
    policy = None if args.no_policy else policy_bench.run_all(args.quick)

    import numpy
    import scipy

    import sim

    lines = [
        "# Engine benchmarks",
        "",
        f"Measured {date.today().isoformat()} by `make bench` on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"scipy {scipy.__version__}, repsim {sim.__version__}; one thread, each row in a fresh "
        "process (peak = its maximum resident memory, imports included). Load average "
        f"{load_before:.2f} at the start and {os.getloadavg()[0]:.2f} at the end: above the "
        "core count, other work shared the cores and wall-clock seconds are slower than the "
        "machine; CPU seconds and the side-by-side ratios are less affected.",
        "",
        "## The reference run (10,000 paths x 104 weeks x 2 arms)",
        "",
        f"The dashboard's default run, timed alone: {REFERENCE_REPEATS} runs after a warm-up, "
        "best, median and worst (the target is 0.2 s).",
        "",
        HEADER,
        row(reference),
        "",
        *uncertainty_bench.markdown(uncertainty),
        "",
        "## Scaling in paths (52 weeks)",
        "",
        HEADER,
        *map(row, by_paths),
        "",
        "## Scaling in weeks (10,000 paths)",
        "",
        HEADER,
        *map(row, by_weeks),
        "",
        *([] if comparison is None else [*compare.markdown(comparison), ""]),
        *tornado_bench.markdown(tornado),
        "",
        *([] if par is None else parallel_bench.markdown(par["pool"], par["sweep"])),
        *([] if policy is None else [*policy_bench.markdown(policy), ""]),
        f"Total benchmark time: {time.perf_counter() - started:.0f} s.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_atomic(args.write, text.encode())
    if args.json:
        write_atomic(
            args.json,
            json.dumps(
                {
                    "reference": reference,
                    "uncertainty": uncertainty,
                    "paths": by_paths,
                    "weeks": by_weeks,
                    "comparison": comparison,
                    "tornado": tornado,
                    "parallel": par,
                    "policy": policy,
                },
                indent=2,
            ).encode(),
        )
    return 0 if comparison is None or comparison["agreement"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
