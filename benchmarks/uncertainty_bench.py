"""The cost of assumption uncertainty on the reference run: uncertainty on against off, timed side
by side (interleaved in one fresh process), and where the difference goes."""

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
import sim
from sim import design
from sim.engine import make_plan, market_for
sc = sim.load_scenario(sys.argv[1])
repeat = int(sys.argv[2])

def on(*fixed):
    data = sc.model_dump()
    width0 = {k: (design.scenario_value(sc, k),) * 2 for k in fixed}
    data["uncertainty"] = {"on": True, "ranges": width0}
    return sim.Scenario.model_validate(data)

every = [a.key for a in design.varied()]
cases = {
    "off": sc,
    "on": on(),
    "on, proposals fixed": on("freelancer.proposals_per_week"),
    "on, proposals and capacity fixed": on("freelancer.proposals_per_week", "freelancer.capacity"),
    "on, every range of width zero": on(*every),
}
# the design markets, built cold (the run caches them, as it caches the scenario's market)
plan = make_plan(cases["on"])
t = time.perf_counter()
design._tables(plan.sc, plan.design)
markets = time.perf_counter() - t
for c in cases.values():
    sim.run(c)  # warm up imports and caches
times = {k: [] for k in cases}
for _ in range(repeat):
    for k, c in cases.items():  # interleaved: the machine's drift hits every case alike
        t = time.perf_counter()
        sim.run(c)
        times[k].append(time.perf_counter() - t)
print(json.dumps({"markets_seconds": markets, "points": plan.design.points,
                  "times": {k: sorted(v) for k, v in times.items()}}))
"""


def measure(repeat: int = 9, scenario: Path = REFERENCE) -> dict:
    """Every case ``repeat`` times, interleaved, in a fresh single-threaded subprocess."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(scenario), str(repeat)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def markdown(m: dict) -> list[str]:
    """The section of RESULTS.md."""
    times = m["times"]
    best_off = times["off"][0]
    median_off = times["off"][len(times["off"]) // 2]
    lines = [
        "## Assumption uncertainty (the reference run, 10,000 paths x 104 weeks)",
        "",
        f"Uncertainty on draws {m['points']} design points; block b of 256 paths takes point "
        f"b mod {m['points']} (docs/model.md). Each case run "
        f"{len(times['off'])} times, interleaved with the others in one process; ratios are "
        "to uncertainty off (the target is at most 1.25). The cases with some ranges of "
        "width zero show where the cost goes.",
        "",
        "| case | seconds (best) | seconds (median) | ratio (best) | ratio (median) |",
        "|---|---:|---:|---:|---:|",
    ]
    for case, t in times.items():
        median = t[len(t) // 2]
        lines.append(
            f"| {case} | {t[0]:.3f} | {median:.3f} | {t[0] / best_off:.2f} | "
            f"{median / median_off:.2f} |"
        )
    lines += [
        "",
        f"The {m['points']} design markets, tabulated cold: {m['markets_seconds']:.3f} s "
        "(cached afterwards, as the scenario's own market is).",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(markdown(measure())))
