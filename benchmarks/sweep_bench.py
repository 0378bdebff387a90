"""Sweep timing: points x paths x weeks in-process against a Dask LocalCluster (issue 5)."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sim
from sim import sweep as sw

REFERENCE = Path(__file__).resolve().parents[1] / "scenarios" / "second-job-retaliation.toml"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def grid_for(n: int) -> dict[str, list[int]]:
    """Points of equal cost: only the support queue's delay changes."""
    return {"arms[1].delay_weeks": list(range(n))}


def bench(points: int, paths: int, weeks: int, workers: int, dask_malloc: bool) -> dict[str, float]:
    """Seconds of each phase; the cluster is the one `repsim sweep --cluster local` starts."""
    from app import cli

    sc = sim.with_run(sim.load_scenario(REFERENCE), paths=paths, weeks=weeks)
    grid = grid_for(points)
    tiny = sw.grid_points(sim.with_run(sc, paths=1, weeks=1), grid)
    full = sw.grid_points(sc, grid)
    out: dict[str, float] = {}
    sw.run_points(tiny)  # warm up: first-call costs are not the executor's
    out["serial_tiny"], _ = timed(lambda: sw.run_points(tiny))
    out["serial"], serial = timed(lambda: sw.run_points(full))
    if dask_malloc:  # keep Dask's MALLOC_TRIM_THRESHOLD_ in the workers, to compare
        cli.LOCAL_CLUSTER_CONFIG = {}
    start = time.perf_counter()
    with cli.executor_for("local", workers) as (ex, _):
        out["startup"] = time.perf_counter() - start
        out["dask_cold"], cold = timed(lambda: sw.run_points(full, ex))  # workers import sim
        out["dask_tiny"], _ = timed(lambda: sw.run_points(tiny, ex))
        out["dask"], warm = timed(lambda: sw.run_points(full, ex))
    assert serial == cold == warm, "results must not depend on the executor"
    return out


def report(t: dict[str, float], points: int, paths: int, weeks: int, workers: int) -> str:
    overhead = (workers * t["dask"] - t["serial"]) / points
    rows = [
        f"sweep: {points} points x {paths:,} paths x {weeks} weeks; {workers} Dask workers; "
        f"{os.cpu_count()} CPUs",
        f"in-process                 {t['serial']:8.2f} s   ({t['serial'] / points:.3f} s a point)",
        f"LocalCluster start         {t['startup']:8.2f} s",
        f"Dask, first sweep (cold)   {t['dask_cold']:8.2f} s",
        f"Dask, warm                 {t['dask']:8.2f} s   ({t['dask'] / points:.3f} s a point)",
        f"speed-up, warm             {t['serial'] / t['dask']:8.2f} x  (ideal {workers})",
        f"speed-up, cold + start     {t['serial'] / (t['dask_cold'] + t['startup']):8.2f} x",
        f"overhead a point           {overhead * 1000:8.1f} ms worker time "
        f"({workers} x Dask - in-process) / points",
        f"a 1-path x 1-week point    {t['dask_tiny'] / points * 1000:8.1f} ms on Dask, "
        f"{t['serial_tiny'] / points * 1000:.1f} ms in-process (wall time / points)",
    ]
    return "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--points", type=int, default=16)
    p.add_argument("--paths", type=int, default=20_000)
    p.add_argument("--weeks", type=int, default=104)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--dask-malloc", action="store_true", help="keep Dask's MALLOC_TRIM_THRESHOLD_")
    a = p.parse_args()
    print(
        report(
            bench(a.points, a.paths, a.weeks, a.workers, a.dask_malloc),
            a.points,
            a.paths,
            a.weeks,
            a.workers,
        )
    )


if __name__ == "__main__":
    main()
