"""Four ways to run the reference model: repsim's engine, numba, Mesa 3 and plain Python.

Each implementation runs in a fresh single-threaded process (its peak resident memory is its own),
scenario in; out, what `sim.run` gives: per-path jobs and earnings per arm at the horizon and each
week's distribution (percentiles and mean) of stars, JSS, win probability, active contracts, jobs,
earnings and badge; the hiring market built by sim.market in each.
Speed is path-weeks per second (paths x weeks x arms); the plain-Python reference runs a few paths
and its rate is extrapolated. The headline figures (mean jobs and earnings per arm at the horizon,
and the arms' paired difference) must agree within 4 standard errors.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

from sim._files import write_atomic

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "scenarios" / "second-job-retaliation.toml"
MODELS = ("engine", "numba", "mesa", "python")
LABELS = {
    "engine": "repsim engine (`sim.run`)",
    "numba": "numba loop, one thread (`benchmarks/numba_model.py`)",
    "mesa": "Mesa 3, an agent per path (`benchmarks/mesa_model.py`)",
    "python": "plain Python reference (`tests/reference_engine.py`)",
}
NEEDS = {"numba": "numba", "mesa": "mesa"}
TARGETS = {"mesa": 300.0, "python": 100.0, "numba": 0.5}  # issue 6: repsim / other at least
# (paths, timed repeats): quick must finish within 45 s on 2 shared cores
SIZES = {
    "quick": {"engine": (10_000, 3), "numba": (10_000, 3), "mesa": (2000, 1), "python": (32, 1)},
    "full": {"engine": (10_000, 5), "numba": (10_000, 5), "mesa": (10_000, 1), "python": (256, 1)},
}
SEEDS = {"numba": 1, "mesa": 2}  # their own random numbers; engine and python: the scenario's
Z_MAX = 4.0
ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ENV |= {"NUMBA_NUM_THREADS": "1"}


# -- the child: one implementation, timed --------------------------------------------------------


def memory_bytes(field: str) -> int | None:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM), Linux only.

    Not getrusage: Linux carries the parent's peak into a child's ru_maxrss across exec.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def peak_bytes() -> int:
    """Peak resident memory of this process (getrusage where /proc is missing)."""
    return memory_bytes("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def runner(model: str):
    """A function (scenario, paths) -> {arm: {"jobs", "earnings": per-path horizon values}}."""
    import numpy as np

    import sim

    if model == "engine":

        def run(sc, paths):
            res = sim.run(sc, paths=paths)
            return {a: {m: res.final[a][m] for m in ("jobs", "earnings")} for a in res.arms}

        return run
    if model == "python":
        sys.path.insert(0, str(ROOT / "tests"))
        from bench_inputs import WEEKLY, weekly_bands
        from reference_engine import simulate_reference

        def run(sc, paths):
            out = simulate_reference(sc, paths)
            keys = ("jobs", "earnings")
            return {
                a: {
                    **{m: np.asarray(v[m][-1]) for m in keys},
                    "bands": {m: weekly_bands(np.asarray(v[m], float)) for m in WEEKLY},
                }
                for a, v in out.items()
            }

        return run
    module = __import__(f"{model}_model")
    return lambda sc, paths: module.run(sc, paths, seed=SEEDS[model])


def moments(x) -> list[float]:
    """[mean, variance (ddof 1), n] of a sample."""
    return [float(x.mean()), float(x.var(ddof=1)) if x.size > 1 else 0.0, int(x.size)]


def sample_stats(out: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """Per arm: moments of jobs and earnings; per other arm: of its paired difference."""
    arms = list(out)
    stats = {a: {m: moments(out[a][m]) for m in ("jobs", "earnings")} for a in arms}
    for a in arms[1:]:
        for m in ("jobs", "earnings"):
            stats[a][f"{m}_difference"] = moments(out[a][m] - out[arms[0]][m])
    return stats


def identical_paths(sc, out: dict[str, dict[str, Any]], paths: int) -> int:
    """Paths on which the engine gives exactly the same jobs and earnings in every arm."""
    import numpy as np

    import sim

    res = sim.run(sc, paths=paths)
    same = np.ones(paths, dtype=bool)
    for a in res.arms:
        for m in ("jobs", "earnings"):
            same &= res.final[a][m] == out[a][m]
    return int(same.sum())


def child(model: str, paths: int, repeat: int) -> dict[str, Any]:
    """Warm up, then time `repeat` runs; the measurement as a JSON-safe dict."""
    import sim

    sc = sim.load_scenario(REFERENCE)
    run = runner(model)
    t = time.perf_counter()
    run(sc, 2)  # imports, caches, numba's compilation (or its cache)
    warmup = time.perf_counter() - t
    before = memory_bytes("VmRSS")
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = run(sc, paths)
        times.append(time.perf_counter() - t)
    peak = peak_bytes()
    m = {
        "model": model,
        "paths": paths,
        "weeks": sc.run.weeks,
        "arms": len(sc.arms),
        "seconds": min(times),
        "repeats": repeat,
        "warmup_seconds": warmup,
        "peak_bytes": peak,
        "before_bytes": before,
        "stats": sample_stats(out),
    }
    if model == "python":
        m["identical_paths"] = identical_paths(sc, out, paths)
    return m


# -- the parent: run each child, compare -------------------------------------------------------


def missing(model: str) -> str | None:
    """Why a model cannot run here, or None."""
    need = NEEDS.get(model)
    if need and importlib.util.find_spec(need) is None:
        return f"{need} is not installed (pip install -e '.[bench]')"
    return None


def measure(model: str, paths: int, repeat: int) -> dict[str, Any]:
    """One implementation in a fresh single-threaded process."""
    why = missing(model)
    if why:
        return {"model": model, "error": why}
    cmd = [sys.executable, __file__, "--child", model, "--paths", str(paths)]
    cmd += ["--repeat", str(repeat)]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **ENV})
    if out.returncode:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return {"model": model, "error": f"failed: {tail}"}
    m = json.loads(out.stdout.strip().splitlines()[-1])
    m["path_weeks_per_s"] = m["paths"] * m["weeks"] * m["arms"] / m["seconds"]
    return m


def z_score(a: list[float], b: list[float]) -> float:
    """(mean a - mean b) / standard error of the difference, for independent samples."""
    se = math.sqrt(a[1] / a[2] + b[1] / b[2])
    return (a[0] - b[0]) / se if se > 0 else (0.0 if a[0] == b[0] else math.inf)


def agreement(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each implementation's headline figures against the engine's, in standard errors."""
    base = runs["engine"].get("stats")
    checks = []
    for model in MODELS[1:]:
        stats = runs[model].get("stats")
        if base is None or stats is None:
            continue
        for arm, figures in stats.items():
            for fig, ours in figures.items():
                theirs = base[arm][fig]
                z = z_score(ours, theirs)
                checks.append(
                    {
                        "model": model,
                        "arm": arm,
                        "figure": fig,
                        "mean": ours[0],
                        "engine_mean": theirs[0],
                        "se": math.sqrt(ours[1] / ours[2] + theirs[1] / theirs[2]),
                        "z": z,
                        "ok": abs(z) < Z_MAX,
                    }
                )
    return {"z_max": Z_MAX, "ok": bool(checks) and all(c["ok"] for c in checks), "checks": checks}


def machine() -> dict[str, Any]:
    versions = {"python": platform.python_version()}
    for name in ("repsim", "numpy", "numba", "mesa"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "versions": versions,
    }


def compare(quick: bool = False) -> dict[str, Any]:
    """Run the four implementations one after the other; the results in the issue's schema."""
    started = time.perf_counter()
    info = machine()
    sizes = SIZES["quick" if quick else "full"]
    runs = {model: measure(model, *sizes[model]) for model in MODELS}
    engine = runs["engine"]
    rate = engine.get("path_weeks_per_s")
    vs = {
        model: rate / runs[model]["path_weeks_per_s"]
        if rate and "path_weeks_per_s" in runs[model]
        else None
        for model in MODELS[1:]
    }
    memory = {
        model: {
            "peak_mib": m["peak_bytes"] / 2**20,
            "before_run_mib": m["before_bytes"] / 2**20 if m.get("before_bytes") else None,
        }
        for model, m in runs.items()
        if "peak_bytes" in m
    }
    return {
        "engine": {
            "path_weeks_per_s": rate,
            **{k: engine.get(k) for k in ("seconds", "paths", "weeks", "arms")},
        },
        "vs": {"mesa": vs["mesa"], "python": vs["python"], "numba": vs["numba"]},
        "memory": memory,
        "runs": runs,
        "agreement": agreement(runs),
        "quick": quick,
        "date": date.today().isoformat(),
        **info,
        "load_average_after": os.getloadavg()[0],
        "total_seconds": time.perf_counter() - started,
    }


# -- Markdown ----------------------------------------------------------------------------------


def _rate(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.1f} k"


def _speed_row(model: str, m: dict[str, Any], ratio: float | None) -> str:
    if "error" in m:
        return f"| {LABELS[model]} | – | – | – | {m['error']} | – | – | – |"
    note = " (extrapolated)" if model == "python" else ""
    target = TARGETS.get(model)
    ratio_text = "1" if model == "engine" else f"{ratio:,.2f}" if ratio < 10 else f"{ratio:,.0f}"
    if target is not None:
        ratio_text += f" ({'meets' if ratio >= target else 'below'} {target:g})"
    before = m.get("before_bytes") or 0
    return (
        f"| {LABELS[model]} | {m['paths']:,}{note} | {m['weeks']} x {m['arms']} | "
        f"{m['seconds']:.2f} | {_rate(m['path_weeks_per_s'])} | {ratio_text} | "
        f"{m['peak_bytes'] / 2**20:.0f} | {max(m['peak_bytes'] - before, 0) / 2**20:.0f} |"
    )


def _check_row(c: dict[str, Any]) -> str:
    money = "earnings" in c["figure"]
    fmt = (lambda x: f"{x:,.0f}") if money else (lambda x: f"{x:.3f}")
    return (
        f"| {c['model']} | {c['arm']} | {c['figure']} | {fmt(c['mean'])} | "
        f"{fmt(c['engine_mean'])} | {fmt(c['se'])} | {c['z']:+.2f} | {'yes' if c['ok'] else 'NO'} |"
    )


def _versions(r: dict[str, Any]) -> str:
    v = r["versions"]
    return ", ".join(f"{k} {v[k]}" for k in ("python", "numpy", "numba", "mesa") if v.get(k))


def markdown(r: dict[str, Any], level: int = 2) -> list[str]:
    """The comparison as Markdown lines, headings at `level`."""
    h = "#" * level
    runs, ag = r["runs"], r["agreement"]
    lines = [
        f"{h} Four ways on the reference model",
        "",
        "The reference scenario (kept against excluded, dollar-weighted mean stars, JSS, badges, "
        "the hiring market of `sim.market`) run by each implementation in a fresh process on one "
        "thread, market building included. Each does the work `sim.run` does: scenario in; out, "
        "the per-path jobs and earnings at the horizon and every week's distribution (5-95 "
        "percentiles and mean) of stars, JSS, win probability, active contracts, jobs, earnings "
        "and badge (numba counts them by week in the compiled loop, as the engine does; Mesa "
        "collects them with its DataCollector and summarises them with pandas; the plain-Python "
        "reference keeps every path's weeks and takes percentiles with numpy). "
        "Path-weeks = paths x weeks x arms; seconds are the best of the timed repeats after a "
        "warm-up (numba's compilation is in the warm-up); repsim / other is the ratio of "
        "path-weeks per second, with the issue's target. Peak = maximum resident memory of the "
        "process, imports included; run = its growth during the timed runs.",
        "",
        "numba and Mesa implement what the reference scenario uses: the rules keep and "
        "exclude_flagged (any delay, scope all), the mean aggregator (dollar or count weights), "
        "harsh clients (a share of contracts whose client takes stars off), the Job Success Score "
        "over its windows and trending and the band clients judge (the shown score, else the one "
        "the feedback implies), badges (Top Rated counting Rising Talent weeks), the hiring "
        "utility with experience as five-star-equivalent reviews and the market's q(V) table "
        "(built once by `sim.market`), geometric contract durations, the feedback rate and delay, "
        "and fees. They draw their own random numbers (numba: a numpy Generator passed into the "
        "compiled loop; Mesa: `model.random`), shared by the arms of a path as in the engine: "
        "one uniform per proposal slot and week, and contract attributes by ordinal. "
        f"Versions: {_versions(r)}.",
        "",
        "| implementation | paths | weeks x arms | seconds | path-weeks/s | repsim / other "
        "| peak MiB | run MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(_speed_row(m, runs[m], r["vs"].get(m)) for m in MODELS),
        "",
    ]
    py = runs.get("python", {})
    if "identical_paths" in py:
        lines += [
            f"The plain-Python reference ran {py['paths']} paths on the engine's random numbers: "
            f"{py['identical_paths']} of {py['paths']} paths give exactly the engine's jobs and "
            "earnings in every arm. Its rate is extrapolated linearly from those paths.",
            "",
        ]
    lines += [
        f"{h}# Statistical agreement (|z| < {ag['z_max']:g}): {'holds' if ag['ok'] else 'FAILS'}",
        "",
        "Means at the horizon against the engine's; z = difference / standard error of the "
        "difference (independent samples; the plain-Python paths are the engine's first paths, "
        "so its z is conservative). `_difference` is the arm minus the first arm, per path.",
        "",
        "| implementation | arm | figure | mean | engine mean | s.e. | z | agrees |",
        "|---|---|---|---:|---:|---:|---:|---|",
        *map(_check_row, ag["checks"]),
        "",
        f"Load average {r['load_average']:.2f} before and {r['load_average_after']:.2f} after "
        f"(2 shared cores); comparison time {r['total_seconds']:.0f} s.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small runs, within 45 s")
    ap.add_argument("--json", type=Path, help="write the results as JSON to this file")
    ap.add_argument("--write", type=Path, help="write the results as Markdown to this file")
    ap.add_argument("--child", choices=MODELS, help=argparse.SUPPRESS)
    ap.add_argument("--paths", type=int, default=1000, help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.paths, args.repeat)))
        return 0
    r = compare(args.quick)
    text = "\n".join(["# Benchmarks side by side", "", *markdown(r)]) + "\n"
    print(text)
    if args.write:
        write_atomic(args.write, text.encode())
    if args.json:
        write_atomic(args.json, json.dumps(r, indent=2).encode())
    return 0 if r["agreement"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
