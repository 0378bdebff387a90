"""repsim's engine against competent baselines: numba (one and two threads), Mesa 3 and a
per-path plain-Python loop, with the plain-Python reference oracle as the correctness check.

Each implementation runs once in a fresh single-threaded process (its peak resident memory is its
own, and its sample for the agreement), scenario in; out, what `sim.run` gives: per-path jobs and
earnings per arm at the horizon and each week's distribution (percentiles and mean) of stars, JSS,
win probability, active contracts, jobs, earnings and badge; the hiring market built by sim.market
in each. Speed is timed side by side in one more process, in interleaved rounds: the ratio engine
/ model per round, its median and range. The headline figures (mean jobs and earnings per arm at
the horizon, and the arms' paired difference) must agree within 4 standard errors.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import resource
import statistics
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
# "python" is the competent per-path loop; "oracle" the plain-Python reference, for correctness
MODELS = ("engine", "numba", "numba2", "mesa", "python", "oracle")
TIMED = MODELS[:-1]  # timed side by side in interleaved rounds
LABELS = {
    "engine": "repsim engine (`sim.run`)",
    "numba": "numba loop, one thread (`benchmarks/numba_model.py`)",
    "numba2": "numba loop, two threads",
    "mesa": "Mesa 3, an agent per path (`benchmarks/mesa_model.py`)",
    "python": "plain Python, per path (`benchmarks/python_model.py`)",
    "oracle": "plain-Python reference oracle (`tests/reference_engine.py`)",
}
NEEDS = {"numba": "numba", "numba2": "numba", "mesa": "mesa"}
# repsim / other at least: the engine's target against competent numba (issue 17); the others
# are issue 6's targets against the first baselines, shown for the record
TARGETS = {"numba": 0.7}
# the fresh process of each model (peak memory, the agreement's sample): (paths, repeats)
SIZES = {
    "quick": {"engine": (10_000, 1), "numba": (10_000, 1), "mesa": (1000, 1), "python": (200, 1),
              "oracle": (32, 1)},
    "full": {"engine": (10_000, 1), "numba": (10_000, 1), "mesa": (4000, 1), "python": (1000, 1),
             "oracle": (64, 1)},
}  # fmt: skip
# interleaved rounds in one process: paths a round per model, and rounds
ROUNDS = {
    "quick": ({"engine": 10_000, "numba": 10_000, "numba2": 10_000, "mesa": 300, "python": 50}, 3),
    "full": ({"engine": 10_000, "numba": 10_000, "numba2": 10_000, "mesa": 1000, "python": 200}, 9),
}
SEEDS = {
    "numba": 1,
    "mesa": 2,
    "python": 3,
}  # their own random numbers; engine, oracle: the scenario's
Z_MAX = 4.0
ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ENV |= {"NUMBA_NUM_THREADS": "1"}  # the two-thread numba row runs its own Python threads


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
    if model == "oracle":
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
    if model == "numba2":
        import numba_model

        return lambda sc, paths: numba_model.run(sc, paths, seed=SEEDS["numba"], threads=2)
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
    if model == "oracle":
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
        stats = runs.get(model, {}).get("stats")
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


def interleaved(quick: bool) -> dict[str, Any]:
    """Every timed model in this one process, round after round (the order rotating): each
    round's ratio engine / model is measured within seconds, so the machine's drift cancels."""
    import sim

    sizes, rounds = ROUNDS["quick" if quick else "full"]
    sc = sim.load_scenario(REFERENCE)
    models = [m for m in TIMED if missing(m) is None]
    runs = {m: runner(m) for m in models}
    for m in models:  # imports, caches, numba's compilation
        runs[m](sc, 2)
        runs[m](sc, min(sizes[m], 256))
    work = {m: sizes[m] * sc.run.weeks * len(sc.arms) for m in models}
    seconds: dict[str, list[float]] = {m: [] for m in models}
    cpu: dict[str, list[float]] = {m: [] for m in models}
    for r in range(rounds):
        for m in models[r % len(models) :] + models[: r % len(models)]:
            t, c = time.perf_counter(), time.process_time()
            runs[m](sc, sizes[m])
            seconds[m].append(time.perf_counter() - t)
            cpu[m].append(time.process_time() - c)
    out: dict[str, Any] = {"rounds": rounds, "models": {}}
    engine = [work["engine"] / s for s in seconds["engine"]]
    engine_cpu = [work["engine"] / s for s in cpu["engine"]]
    for m in models:
        rates = [work[m] / s for s in seconds[m]]
        ratios = sorted(e / x for e, x in zip(engine, rates, strict=True))
        # CPU seconds: what each run cost whatever else the machine ran (one thread only: the
        # two-thread row's CPU seconds are not its wall time)
        cpu_ratios = sorted(
            e * s / work[m] for e, s in zip(engine_cpu, cpu[m], strict=True)
        )  # engine CPU rate / model CPU rate
        out["models"][m] = {
            "paths": sizes[m],
            "seconds": seconds[m],
            "cpu_seconds": cpu[m],
            "median_rate": statistics.median(rates),
            "ratio": statistics.median(ratios),
            "ratio_min": ratios[0],
            "ratio_max": ratios[-1],
            "cpu_ratio": None if m == "numba2" else statistics.median(cpu_ratios),
            "cpu_ratio_min": None if m == "numba2" else cpu_ratios[0],
            "cpu_ratio_max": None if m == "numba2" else cpu_ratios[-1],
        }
    return out


def compare(quick: bool = False) -> dict[str, Any]:
    """Each implementation's fresh process (memory, agreement), then the interleaved timing."""
    started = time.perf_counter()
    info = machine()
    sizes = SIZES["quick" if quick else "full"]
    runs = {model: measure(model, *sizes[model]) for model in sizes}
    cmd = [sys.executable, __file__, "--interleaved"] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **ENV})
    if out.returncode:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        timing: dict[str, Any] = {"error": f"failed: {tail}", "models": {}}
    else:
        timing = json.loads(out.stdout.strip().splitlines()[-1])
    vs = {m: timing["models"].get(m, {}).get("ratio") for m in TIMED[1:]}
    memory = {
        model: {
            "peak_mib": m["peak_bytes"] / 2**20,
            "before_run_mib": m["before_bytes"] / 2**20 if m.get("before_bytes") else None,
        }
        for model, m in runs.items()
        if "peak_bytes" in m
    }
    engine = timing["models"].get("engine", {})
    return {
        "engine": {
            "path_weeks_per_s": engine.get("median_rate"),
            **{k: runs["engine"].get(k) for k in ("paths", "weeks", "arms")},
        },
        "vs": vs,
        "timing": timing,
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


def _ratio(x: float) -> str:
    return f"{x:,.2f}" if x < 10 else f"{x:,.0f}"


def _speed_row(model: str, r: dict[str, Any]) -> str:
    t = r["timing"]["models"].get(model)
    m = r["runs"].get(model if model != "numba2" else "numba", {})
    if t is None:
        why = missing(model) or r["timing"].get("error", "not timed")
        return f"| {LABELS[model]} | – | – | – | {why} | – | – | – |"
    if model == "engine":
        ratio = "1"
    else:
        ratio = f"{_ratio(t['ratio'])} ({_ratio(t['ratio_min'])}–{_ratio(t['ratio_max'])})"
        target = TARGETS.get(model)
        if target is not None:
            ratio += f", {'meets' if t['ratio'] >= target else 'below'} {target:g}"
    by_cpu = "–"
    if model == "engine":
        by_cpu = "1"
    elif t.get("cpu_ratio") is not None:
        by_cpu = (
            f"{_ratio(t['cpu_ratio'])} ({_ratio(t['cpu_ratio_min'])}–{_ratio(t['cpu_ratio_max'])})"
        )
    peak = f"{m['peak_bytes'] / 2**20:.0f}" if "peak_bytes" in m else "–"
    before = m.get("before_bytes") or 0
    grew = f"{max(m['peak_bytes'] - before, 0) / 2**20:.0f}" if "peak_bytes" in m else "–"
    return (
        f"| {LABELS[model]} | {t['paths']:,} | {statistics.median(t['seconds']):.3f} | "
        f"{_rate(t['median_rate'])} | {ratio} | {by_cpu} | {peak} | {grew} |"
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
    runs, ag, timing = r["runs"], r["agreement"], r["timing"]
    lines = [
        f"{h} The engine against competent baselines",
        "",
        "The reference scenario (kept against excluded, dollar-weighted mean stars, JSS, badges, "
        "the hiring market of `sim.market`), scenario in; out, what `sim.run` gives: the "
        "per-path jobs and earnings at the horizon and every week's distribution (5-95 "
        "percentiles and mean) of stars, JSS, win probability, active contracts, jobs, earnings "
        "and badge. Timed side by side in one process: "
        f"{timing.get('rounds', 0)} rounds, each running every implementation once (the order "
        "rotating), after a warm-up (numba's compilation is in it). repsim / other is the ratio "
        "of path-weeks per second (paths x weeks x arms) within a round: the median over the "
        "rounds, and in brackets the lowest and highest; by CPU seconds, the same ratio of the "
        "processes' CPU time, which other work on a loaded machine changes less (one thread "
        "only). Seconds and path-weeks/s are medians. "
        "Peak = maximum resident memory of the model's own fresh process (imports included, the "
        "agreement's sample below); run = its growth during the run. The two-thread numba row "
        "runs in the one-thread row's process for memory. See the notes below the table for "
        "what each implementation does. "
        f"Versions: {_versions(r)}.",
        "",
        "| implementation | paths a round | seconds | path-weeks/s | repsim / other (range) "
        "| by CPU seconds (range) | peak MiB | run MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(_speed_row(m, r) for m in TIMED),
        "",
    ]
    lines += [
        "What each baseline does to be fast, and what it does that the engine does not:",
        "",
        "- **numba** (`simulate`): one path at a time in compiled code, every arm of the path in "
        "step; stars as running sums; the JSS as the engine keeps it (running sums per window, "
        "future feedback leaving by end-week bucket, history item by item), its scores "
        "recomputed only in update weeks when a sum changed; the weekly distributions counted "
        "into histograms in the loop. Unlike the engine it touches only live state (no pass over "
        "all rows for a few changes, no temporaries), draws its random numbers when needed (a "
        "Generator called in the loop: no page of uniforms drawn ahead and skipped), and keeps "
        "a path's state in cache. Two threads: the kernel releases the GIL and each thread runs "
        "a block of paths with its own Generator and histograms, merged at the end. On the same "
        "random numbers it gives the first numba loop's results to the bit "
        "(`simulate_rescan`, which rescanned all feedback for the JSS; tests/test_benchmarks.py).",
        "- **Mesa** (`ExpertModel`): the agents keep the same running sums for the stars and the "
        "JSS windows, and one model reporter keeps each week's percentiles and mean (6 numbers "
        "per arm and figure) instead of 14 agent reporters and a row per agent-week. It gives "
        "the idiomatic model's (`run_idiomatic`) jobs and earnings to the bit. It still pays "
        "Mesa's agent scheduling and a Python method call per agent, arm and week.",
        "- **plain Python** (`python_model.py`): the numba loop's algorithm with lists, dicts "
        "and local variables, the standard library's Mersenne Twister; on a numpy Generator's "
        "numbers it gives the numba loop's results to the bit. The reference oracle "
        "(`tests/reference_engine.py`) stays the correctness check, path by path against the "
        "engine.",
        "- None of them implements the rules that decide per feedback (whitby, forgetting, "
        "suspension, support queues with scopes), the other aggregators, or recovery and paired "
        "bands; the engine does all of them in the same run.",
        "",
    ]
    py = runs.get("oracle", {})
    if "identical_paths" in py:
        lines += [
            f"Correctness: the plain-Python reference oracle ran {py['paths']} paths on the "
            f"engine's random numbers: {py['identical_paths']} of {py['paths']} paths give "
            "exactly the engine's jobs and earnings in every arm "
            f"({_rate(py['paths'] * py['weeks'] * py['arms'] / py['seconds'])} path-weeks/s; "
            "written for clarity, not speed).",
            "",
        ]
    lines += [
        f"{h}# Statistical agreement (|z| < {ag['z_max']:g}): {'holds' if ag['ok'] else 'FAILS'}",
        "",
        "Means at the horizon against the engine's; z = difference / standard error of the "
        "difference (independent samples; the oracle's paths are the engine's first paths, "
        "so its z is conservative). `_difference` is the arm minus the first arm, per path.",
        "",
        "| implementation | arm | figure | mean | engine mean | s.e. | z | agrees |",
        "|---|---|---|---:|---:|---:|---:|---|",
        *map(_check_row, ag["checks"]),
        "",
        f"Load average {r['load_average']:.2f} before and {r['load_average_after']:.2f} after "
        f"({r['cpus']} cores); comparison time {r['total_seconds']:.0f} s.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small runs, within 45 s")
    ap.add_argument("--json", type=Path, help="write the results as JSON to this file")
    ap.add_argument("--write", type=Path, help="write the results as Markdown to this file")
    ap.add_argument("--child", choices=MODELS, help=argparse.SUPPRESS)
    ap.add_argument("--interleaved", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--paths", type=int, default=1000, help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.interleaved:
        print(json.dumps(interleaved(args.quick)))
        return 0
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
