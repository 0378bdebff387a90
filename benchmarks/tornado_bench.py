"""Tornado timing (issue 12): `sim.sensitivity.tornado` on the reference case at its default size.

Each configuration runs in a fresh process: "cold" pays for the competitor fields of the hiring
settings the tornado changes (built once per process, as in `repsim sensitivity`), "warm" is the
same tornado again (the dashboard's workers keep their fields). The reference run (10,000 paths,
serial) is timed in the same process, so that the ratio survives a busy machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE.parent / "scenarios" / "second-job-retaliation.toml"

CHILD = r"""
import json, sys, time
from concurrent.futures import ProcessPoolExecutor
import sim
from sim import sensitivity as sens
sc = sim.load_scenario(sys.argv[1])
workers = int(sys.argv[2])
sim.run(sc, paths=256)  # imports and first calls
pool = ProcessPoolExecutor(workers) if workers > 1 else None
if pool is not None:
    list(pool.map(sim.run, [sc] * workers, [256] * workers))  # the workers warmed up likewise
def timed(fn):
    t = time.perf_counter(); value = fn(); return time.perf_counter() - t, value
cold, t = timed(lambda: sens.tornado(sc, executor=pool))
warm, _ = timed(lambda: sens.tornado(sc, executor=pool))
reference, _ = timed(lambda: sim.run(sc))
print(json.dumps({"workers": workers, "assumptions": len(t.bars["earnings"]), "runs": t.runs,
                  "paths": t.paths, "cold": cold, "warm": warm, "reference_run": reference}))
"""


def measure(workers: int) -> dict:
    """One tornado configuration in a fresh single-threaded subprocess."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(REFERENCE), str(workers)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def markdown(rows: list[dict]) -> list[str]:
    """The benchmark's section of RESULTS.md."""
    first = rows[0]
    lines = [
        "## The tornado (`repsim sensitivity`, issue 12)",
        "",
        f"The reference case's tornado at its default size: {first['assumptions']} assumptions "
        f"at their low and high, {first['runs']} runs of {first['paths']:,} paths x 104 weeks; "
        "the target is 3 s. Cold: a fresh process "
        "(the competitor fields built); warm: the same tornado again. The reference run "
        "(10,000 paths, serial) timed in the same process gives the ratio.",
        "",
        "| workers | cold (s) | warm (s) | reference run (s) | warm / reference run |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['workers']} | {r['cold']:.2f} | {r['warm']:.2f} | {r['reference_run']:.2f} | "
            f"{r['warm'] / r['reference_run']:.1f} |"
        )
    return lines


def main() -> int:
    rows = [measure(1), measure(2)]
    print("\n".join(markdown(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
