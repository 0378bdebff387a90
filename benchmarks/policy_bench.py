"""The policy lab at scale (issue 16): `sim.policy.policy_run` in freelancer-weeks per second and
peak memory at 10^5 and 10^6 freelancers, each in a fresh process; and the frontier
(`sim.frontier.frontier`) in process against a Dask LocalCluster of two workers, in interleaved
rounds in one process (the cluster started once, as `repsim policy --cluster local` does)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PRESET = ROOT / "scenarios" / "policy-standing-rules.toml"  # the Policy lab's first preset
REFERENCE = ROOT / "scenarios" / "second-job-retaliation.toml"


def scenario() -> Any:
    """The population the bench runs: the Policy lab's standing-rules preset where this tree has
    it, else the reference case's market and arms with the default [population]."""
    import sim

    if PRESET.is_file():
        return sim.load_scenario(PRESET)
    data = sim.load_scenario(REFERENCE).model_dump(mode="json")
    data["history"] = []  # a population has no one freelancer's past
    data["population"] = {}  # the default types, clients and reports
    return sim.validate_scenario(data, "bench")


CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[3])
import sim
from compare import peak_bytes
from policy_bench import scenario
from sim.policy import policy_run
paths, weeks = int(sys.argv[1]), int(sys.argv[2])
sc = scenario()
policy_run(sim.with_run(sc, paths=256, weeks=weeks))  # imports, the market, first calls
sc = sim.with_run(sc, paths=paths, weeks=weeks)
t, c = time.perf_counter(), time.process_time()
run = policy_run(sc)
seconds, cpu = time.perf_counter() - t, time.process_time() - c
print(json.dumps({"paths": paths, "weeks": weeks, "arms": len(run.outcomes),
                  "seconds": seconds, "cpu_seconds": cpu, "peak_bytes": peak_bytes()}))
"""


def measure(paths: int, weeks: int) -> dict[str, Any]:
    """One policy run in a fresh single-threaded process: seconds, CPU seconds, peak memory."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(paths), str(weeks), str(HERE)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _spread(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def frontier_speedup(paths: int, weeks: int, rounds: int, workers: int = 2) -> dict[str, Any]:
    """The frontier serial against a Dask LocalCluster (`app.cli.executor_for`), rounds
    interleaved; the results must be the same. Beside wall-clock seconds, CPU seconds: the
    serial frontier's, and on Dask its busiest worker's (the critical path), whose ratio is the
    speed-up two idle cores would give, whatever else the machine runs."""
    from parallel_bench import cpu_seconds

    import sim
    from app.cli import executor_for
    from sim.frontier import frontier, frontier_tasks

    sc = sim.with_run(scenario(), paths=paths, weeks=weeks)
    tasks = len(frontier_tasks(sc))
    frontier(sim.with_run(sc, paths=256, weeks=2))  # imports and first calls in this process
    times: dict[str, list[float]] = {"serial": [], "dask": []}
    cpu: dict[str, list[float]] = {"serial": [], "dask": []}
    start = time.perf_counter()
    with executor_for("local", workers) as (executor, label):
        startup = time.perf_counter() - start
        frontier(sim.with_run(sc, paths=256, weeks=2), executor=executor)  # the workers too
        pids = list(executor._client.run(os.getpid).values())
        results = {}
        for r in range(rounds):
            for kind in ("serial", "dask") if r % 2 == 0 else ("dask", "serial"):
                before = [cpu_seconds(p) for p in pids]
                c, t = time.process_time(), time.perf_counter()
                results[kind] = frontier(sc, executor=executor if kind == "dask" else None)
                times[kind].append(time.perf_counter() - t)
                if kind == "serial":
                    cpu[kind].append(time.process_time() - c)
                else:
                    cpu[kind].append(
                        max(cpu_seconds(p) - b for p, b in zip(pids, before, strict=True))
                    )
            if results["serial"] != results["dask"]:
                raise AssertionError("the frontier on Dask differs from the frontier in process")
    ratios = [s / d for s, d in zip(times["serial"], times["dask"], strict=True)]
    cpu_ratios = [s / d for s, d in zip(cpu["serial"], cpu["dask"], strict=True)]
    return {
        "paths": paths,
        "weeks": weeks,
        "tasks": tasks,
        "rows": len(results["serial"]),
        "workers": workers,
        "executor": label,
        "cluster_start": startup,
        "serial": times["serial"],
        "dask": times["dask"],
        "serial_cpu": cpu["serial"],
        "dask_busiest_worker_cpu": cpu["dask"],
        "speedup": _spread(ratios),
        "cpu_speedup": _spread(cpu_ratios),
        "cpus": os.cpu_count(),
        "load": os.getloadavg()[0],
    }


def run_all(
    quick: bool = False,
    weeks: int | None = None,
    big_weeks: int | None = None,
    frontier_paths: int | None = None,
    rounds: int | None = None,
) -> dict[str, Any]:
    """Every measurement of this entry (`make bench` and `python benchmarks/policy_bench.py`):
    10^5 freelancers over two years (26 weeks with ``quick``), 10^6 over ``big_weeks`` (two
    years, as issue 16 asks; 13 weeks with ``quick``), the frontier of 10,000 (2,000)
    freelancers over 52 (26) weeks in 3 (1) rounds."""
    weeks = weeks or (26 if quick else 104)
    big_weeks = big_weeks or (13 if quick else 104)
    scale = [measure(100_000, weeks), measure(1_000_000, big_weeks)]
    dask = frontier_speedup(
        frontier_paths or (2_000 if quick else 10_000),
        26 if quick else 52,
        rounds or (1 if quick else 3),
    )
    return {"scale": scale, "frontier": dask}


def markdown(data: dict[str, Any]) -> list[str]:
    """This entry's section of RESULTS.md."""
    lines = [
        "## The policy lab (`repsim policy`, issue 16)",
        "",
        "A population's run (`sim.policy.policy_run`, the keep, oracle and victims' "
        "counterfactual arms with the scenario's own), each size in a fresh single-threaded "
        "process after a warm-up; freelancer-weeks per second count each freelancer once "
        "(every arm runs on her); peak is the process's maximum resident memory, imports "
        "included.",
        "",
        "| freelancers | weeks | arms | seconds | CPU seconds | freelancer-weeks/s "
        "| freelancer-weeks per CPU second | peak MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in data["scale"]:
        work = m["paths"] * m["weeks"]
        lines.append(
            f"| {m['paths']:,} | {m['weeks']} | {m['arms']} | {m['seconds']:.1f} | "
            f"{m['cpu_seconds']:.1f} | {work / m['seconds']:,.0f} | "
            f"{work / m['cpu_seconds']:,.0f} | {m['peak_bytes'] / 2**20:,.0f} |"
        )
    f = data["frontier"]
    s, c = f["speedup"], f["cpu_speedup"]
    lines += [
        "",
        f"The frontier ({f['tasks']} scenarios, {f['rows']} rules and settings, "
        f"{f['paths']:,} freelancers x {f['weeks']} weeks) in process and on a Dask "
        f"LocalCluster of {f['workers']} workers ({f['cpus']} CPUs, load {f['load']:.1f}), "
        f"{s['n']} interleaved round(s); the same rows on both (checked).",
        "",
        "| | in process (median) | Dask (median) | speed-up (median) | range |",
        "|---|---:|---:|---:|---:|",
        f"| wall-clock seconds | {statistics.median(f['serial']):.1f} | "
        f"{statistics.median(f['dask']):.1f} | {s['median']:.2f}x | "
        f"{s['min']:.2f}-{s['max']:.2f}x |",
        f"| CPU seconds (Dask: its busiest worker) | {statistics.median(f['serial_cpu']):.1f} | "
        f"{statistics.median(f['dask_busiest_worker_cpu']):.1f} | {c['median']:.2f}x | "
        f"{c['min']:.2f}-{c['max']:.2f}x |",
        "",
        f"The cluster started in {f['cluster_start']:.1f} s (not in the times above). The CPU "
        "ratio is about what two idle cores would give; the wall-clock one is what this "
        "machine gave.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes (a minute or two)")
    ap.add_argument("--weeks", type=int, help="weeks of the 10^5 run (default 104)")
    ap.add_argument("--big-weeks", type=int, help="weeks of the 10^6 run (default 104)")
    ap.add_argument("--frontier-paths", type=int, help="freelancers of the frontier (10,000)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds of the frontier (3)")
    ap.add_argument("--json", type=Path, help="write the raw measurements as JSON")
    args = ap.parse_args(argv)
    data = run_all(args.quick, args.weeks, args.big_weeks, args.frontier_paths, args.rounds)
    print("\n".join(markdown(data)))
    if args.json:
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
