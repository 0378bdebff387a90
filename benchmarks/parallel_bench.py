"""Parallel runs side by side: `sim.run` serial against a warm process pool (chunks balanced
across its workers, and as they were before: `run.chunk_paths` each), and a sweep of points in
process against a Dask LocalCluster started for it (cluster start included). Interleaved rounds
in one process; the ratios per round, their median and range."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import sim
from sim import sweep as sw

REFERENCE = Path(__file__).resolve().parents[1] / "scenarios" / "second-job-retaliation.toml"


def _spread(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_on_pool(paths: int, workers: int, rounds: int) -> dict[str, Any]:
    """sim.run at `paths` serial, on a warm pool of `workers` processes with balanced chunks,
    and on the same pool with `run.chunk_paths` chunks (workers=1: no balancing)."""
    sc = sim.with_run(sim.load_scenario(REFERENCE), paths=paths)
    times: dict[str, list[float]] = {"serial": [], "balanced": [], "unbalanced": []}
    # CPU seconds: what a run costs whatever else the machine runs; a pool run's critical path
    # is its busiest process (a worker, or the parent merging)
    cpu: dict[str, list[float]] = {"serial": [], "balanced": [], "unbalanced": []}
    with ProcessPoolExecutor(workers) as pool:
        warm = sim.with_run(sc, paths=workers * 256)
        sim.run(warm, executor=pool)  # start the workers, import sim in them
        sim.run(warm)
        results = {}
        for r in range(rounds):
            order = list(times)
            for kind in order[r % 3 :] + order[: r % 3]:
                pids = list(pool._processes)
                before = [cpu_seconds(p) for p in pids]
                c, t = time.process_time(), time.perf_counter()
                if kind == "serial":
                    res = sim.run(sc)
                else:
                    res = sim.run(sc, executor=pool, workers=None if kind == "balanced" else 1)
                times[kind].append(time.perf_counter() - t)
                parent = time.process_time() - c
                busy = [cpu_seconds(p) - b for p, b in zip(pids, before, strict=True)]
                cpu[kind].append(parent if kind == "serial" else max([parent, *busy]))
                results[kind] = res.summary()
    assert results["serial"] == results["balanced"] == results["unbalanced"], "not identical"
    out: dict[str, Any] = {"paths": paths, "workers": workers, "identical": True}
    out["seconds"] = {k: _spread(v) for k, v in times.items()}
    for kind in ("balanced", "unbalanced"):
        ratios = [s / p for s, p in zip(times["serial"], times[kind], strict=True)]
        out[f"speedup_{kind}"] = _spread(ratios)
        bound = [s / p for s, p in zip(cpu["serial"], cpu[kind], strict=True)]
        out[f"cpu_bound_{kind}"] = _spread(bound)
    return out


def sweep_on_cluster(points: int, paths: int, weeks: int, workers: int, rounds: int) -> dict:
    """A sweep of `points` points in process, and on a Dask LocalCluster started for it each
    round (its start, the workers' start and the sweep: what `repsim sweep --cluster local`
    pays), the order alternating."""
    from app import cli

    sc = sim.with_run(sim.load_scenario(REFERENCE), paths=paths, weeks=weeks)
    full = sw.grid_points(sc, {"arms[1].delay_weeks": list(range(points))})
    sw.run_points(sw.grid_points(sim.with_run(sc, paths=256, weeks=2), {"run.weeks": [2]}))
    times: dict[str, list[float]] = {"serial": [], "cluster": []}
    results = {}
    for r in range(rounds):
        for kind in ("serial", "cluster") if r % 2 == 0 else ("cluster", "serial"):
            t = time.perf_counter()
            if kind == "serial":
                results[kind] = sw.run_points(full)
            else:
                with cli.executor_for("local", workers) as (ex, _):
                    results[kind] = sw.run_points(full, ex)
            times[kind].append(time.perf_counter() - t)
    assert results["serial"] == results["cluster"], "not identical"
    ratios = [s / c for s, c in zip(times["serial"], times["cluster"], strict=True)]
    return {
        "points": points,
        "paths": paths,
        "weeks": weeks,
        "workers": workers,
        "identical": True,
        "seconds": {k: _spread(v) for k, v in times.items()},
        "speedup": _spread(ratios),
    }


def markdown(pool: dict[str, Any] | None, sweep: dict[str, Any] | None) -> list[str]:
    """The parallel figures as Markdown lines."""

    def x(s: dict[str, float]) -> str:
        return f"{s['median']:.2f}x ({s['min']:.2f}–{s['max']:.2f})"

    lines = ["## Parallel runs (2 processes)", ""]
    if pool:
        sec = pool["seconds"]
        lines += [
            f"`sim.run` of the reference scenario at {pool['paths']:,} paths x 104 weeks, serial "
            f"against a warm `ProcessPoolExecutor({pool['workers']})`, "
            f"{sec['serial']['n']} interleaved rounds; speed-up = serial seconds / pool seconds "
            "in the same round, median (lowest–highest); results identical to the bit: "
            f"{'yes' if pool['identical'] else 'NO'}.",
            "",
            "| run | seconds (median) | speed-up over serial | target |",
            "|---|---:|---:|---|",
            f"| serial | {sec['serial']['median']:.2f} | 1 | |",
            f"| pool, chunks balanced across the workers | {sec['balanced']['median']:.2f} | "
            f"{x(pool['speedup_balanced'])} | at least 1.7x: "
            f"{'meets' if pool['speedup_balanced']['median'] >= 1.7 else 'below'} |",
            f"| pool, `run.chunk_paths` chunks (before) | {sec['unbalanced']['median']:.2f} | "
            f"{x(pool['speedup_unbalanced'])} | |",
            "",
            "On two free cores the speed-up is bounded by serial CPU seconds / the busiest "
            "process's CPU seconds (a worker's chunks, or the parent's merging), which other "
            f"load does not change: {x(pool['cpu_bound_balanced'])} balanced, "
            f"{x(pool['cpu_bound_unbalanced'])} before.",
            "",
        ]
    if sweep:
        sec = sweep["seconds"]
        lines += [
            f"A sweep of {sweep['points']} points x {sweep['paths']:,} paths x {sweep['weeks']} "
            f"weeks in process against `repsim sweep --cluster local --workers "
            f"{sweep['workers']}`'s Dask LocalCluster, started anew each round (start and "
            f"workers' imports included), {sec['serial']['n']} interleaved rounds; results "
            f"identical: {'yes' if sweep['identical'] else 'NO'}.",
            "",
            "| sweep | seconds (median) | speed-up over in-process | target |",
            "|---|---:|---:|---|",
            f"| in process | {sec['serial']['median']:.2f} | 1 | |",
            f"| Dask LocalCluster, start included | {sec['cluster']['median']:.2f} | "
            f"{x(sweep['speedup'])} | at least 1.5x: "
            f"{'meets' if sweep['speedup']['median'] >= 1.5 else 'below'} |",
            "",
        ]
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--paths", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--points", type=int, default=8)
    p.add_argument("--sweep-paths", type=int, default=20_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--no-sweep", action="store_true")
    p.add_argument("--no-pool", action="store_true")
    p.add_argument("--json", type=Path)
    a = p.parse_args()
    pool = None if a.no_pool else run_on_pool(a.paths, a.workers, a.rounds)
    sweep = (
        None if a.no_sweep else sweep_on_cluster(a.points, a.sweep_paths, 104, a.workers, a.rounds)
    )
    print("\n".join(markdown(pool, sweep)))
    print(f"load average {os.getloadavg()[0]:.2f}")
    if a.json:
        a.json.write_text(json.dumps({"pool": pool, "sweep": sweep}, indent=2))


if __name__ == "__main__":
    main()
