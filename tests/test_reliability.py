"""Hostile input, faults and many users (issue 15): one test or more per finding, by its number."""

from __future__ import annotations

import contextlib
import copy
import errno
import io
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import psutil
import pytest
import tomli_w
from helpers import REFERENCE, ROOT, leftovers, reference_data, repsim
from streamlit.testing.v1 import AppTest

import sim
from app import cli, controls, results, session, staging

try:
    from app import pool, runner
except ImportError:  # a tree without them: the tests that use them fail, the others still run
    pool = runner = None  # type: ignore[assignment]
from sim import sweep as sw

MAIN = str(ROOT / "app" / "main.py")
SMALL = ["--paths", "300", "--weeks", "10", "--formats", "json"]
REPSIM = Path(sys.executable).with_name("repsim")


def toml(data: dict[str, Any]) -> str:
    return tomli_w.dumps(data)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def run_cli(tmp_path: Path, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def app_test(**params: str) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    for key, value in {"run.paths": "300", "run.weeks": "10", **params}.items():
        at.query_params[key] = value
    return at.run()


def page_errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error) + "\n".join(w.value for w in at.warning)


def small_data(**run: Any) -> dict[str, Any]:
    data = reference_data()
    data["run"] = {**data["run"], "paths": 300, "weeks": 10, **run}
    return data


# -- 1: every size from a URL is bounded before anything is built --------------------------------


def test_1_url_sizes_are_bounded_before_building(monkeypatch):
    built = []
    monkeypatch.setattr(controls, "_resize", lambda *a: built.append(a) or [])
    params = {
        "preset": "second-job-retaliation",
        "disputed.contract": "1000000",
        "run.paths": "500",
    }
    _, overrides, problems = controls.decode_query(params)
    assert overrides == {"run.paths": 500}
    assert dict(problems)["disputed.contract"] == "out of range (1 to 200)"
    for key, value in [("run.paths", "1000000000"), ("run.weeks", "100000"), ("run.seed", "-1")]:
        _, overrides, problems = controls.decode_query(
            {"preset": "second-job-retaliation", key: value}
        )
        assert key not in overrides and "out of range" in dict(problems)[key]
    assert not built


def test_1_a_packed_scenario_is_inflated_no_further_than_the_cap():
    data = small_data()
    text = toml(data) + "# " + "x" * (2 * controls.MAX_PACKED) + "\n"  # valid, but huge
    base, _, problems = controls.decode_query({"scenario": controls._pack(text)})
    assert base.toml is None and "more than 256 KB" in dict(problems)["scenario"]


def test_1_the_page_with_a_huge_contract_number_is_fine():
    at = app_test(**{"disputed.contract": "1000000"})
    assert not at.exception
    assert "disputed.contract" in page_errors(at) and "out of range" in page_errors(at)
    assert len(at.markdown) < 200  # not one bullet per bad history entry


# -- 2: a dead worker is detected, the pool rebuilt, the run retried -----------------------------


def _pool_workers() -> list[psutil.Process]:
    """The small pool's worker processes (the dashboard's runs; the big pool, if an earlier test
    started it, has a worker of its own, which these tests must not kill: nothing heals it
    until its next run, and the health check would rightly name it)."""
    small = runner.pool("small")
    pool = None if small is None else small._pool
    processes = [] if pool is None else list((getattr(pool, "_processes", None) or {}).values())
    out = []
    for process in processes:
        with contextlib.suppress(psutil.Error, ValueError):
            out.append(psutil.Process(process.pid))
    return out


def test_2_a_killed_worker_heals_and_the_next_run_succeeds():
    sc = sim.validate_scenario(small_data(paths=1024), "t")
    expected = sim.run(sc).summary()
    assert results.run_in_parallel(sc).summary() == expected  # the pool is up and warm
    workers = _pool_workers()
    assert workers, "the dashboard runs on worker processes on a machine with two cores"
    os.kill(workers[0].pid, signal.SIGKILL)  # what the OOM killer does
    psutil.wait_procs(workers[:1], timeout=10)
    assert results.run_in_parallel(sc).summary() == expected
    assert results.run_in_parallel(sc).summary() == expected


def test_2_a_worker_killed_during_a_run_is_retried_once():
    import multiprocessing

    sc = sim.validate_scenario(small_data(paths=2048), "t")
    healing = pool.HealingPool(2, mp_context=multiprocessing.get_context("forkserver"))
    calls = []

    def go(executor):
        calls.append(executor)
        if len(calls) == 1:  # the OOM killer strikes in the middle of the first attempt
            os.kill(next(iter(executor._processes.values())).pid, signal.SIGKILL)
            time.sleep(0.5)
        return sim.run(sc, executor=executor, chunk_paths=256)

    try:
        healing.executor().submit(int).result()  # workers started
        assert healing.call(go).summary() == sim.run(sc).summary()
        assert len(calls) == 2 and calls[0] is not calls[1] and healing.rebuilds == 1
    finally:
        healing.shutdown()


def test_2_the_health_check_reflects_a_dead_worker_and_heals_it():
    """runner.broken() (what app/serve.py's /health answers) names the pool with a dead worker,
    has it rebuilt in the background, and the next check and the next run find it whole."""
    sc = sim.validate_scenario(small_data(paths=1024), "t")
    expected = sim.run(sc).summary()
    assert results.run_in_parallel(sc).summary() == expected
    assert runner.broken() == [] and runner.healthy()
    workers = _pool_workers()
    assert workers, "the dashboard runs on worker processes on a machine with two cores"
    os.kill(workers[0].pid, signal.SIGKILL)
    psutil.wait_procs(workers[:1], timeout=10)
    assert not runner.healthy()
    assert runner.broken() == ["small"]  # and a rebuild is on its way
    deadline = time.monotonic() + 60
    while runner.broken(heal=False) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert runner.broken() == [], "the pool was rebuilt without waiting for a run"
    assert results.run_in_parallel(sc).summary() == expected


# -- 3: the memory estimate: see test_memory.py ---------------------------------------------------


# -- 4: a per-session budget whatever the source; small runs never wait for a big one -------------


def test_4_a_url_scenario_over_the_budget_does_not_run(monkeypatch):
    ran = []
    monkeypatch.setattr(results, "compute_view", lambda toml: ran.append(toml))
    big = sim.validate_scenario(small_data(paths=10_000_000, weeks=104), "t")
    with pytest.raises(sim.ScenarioError) as e:
        session.view_for(sim.dumps_scenario(big))
    assert "over the dashboard's" in str(e.value) and not ran


def test_4_the_page_refuses_a_shared_10_million_path_scenario():
    text = toml(small_data(paths=10_000_000, weeks=104))
    count = results.RUNS["count"]
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.query_params["scenario"] = controls._pack(text)
    at.run()
    assert not at.exception
    assert "over the dashboard's" in page_errors(at)
    assert results.RUNS["count"] == count


def test_4_a_small_run_does_not_wait_for_a_big_one(monkeypatch):
    """While a big run (8.5 million arm-path-weeks) holds its workers, a default-size run from
    another session completes, with the right figures. The big run is held by a task that keeps
    its executor's workers busy; the small run is given far longer than it needs."""
    big = sim.validate_scenario(small_data(paths=40_960, weeks=104), "t")
    small = sim.validate_scenario(small_data(paths=1024, weeks=4), "t")
    results.run_in_parallel(small)  # pools up
    release, held = threading.Event(), threading.Event()
    real_run = sim.run

    def run(sc, *args: Any, executor: Any = None, **kwargs: Any) -> Any:
        if sc == big and executor is not None:
            for _ in range(2):
                executor.submit(time.sleep, 10)  # hold every worker of the pool it runs on
            held.set()
            release.wait(60)
        return real_run(sc, *args, executor=executor, **kwargs)

    monkeypatch.setattr(sim, "run", run)
    done: list[Any] = []
    big_thread = threading.Thread(target=lambda: results.run_in_parallel(big))
    big_thread.start()
    try:
        assert held.wait(60)
        small_thread = threading.Thread(target=lambda: done.append(results.run_in_parallel(small)))
        small_thread.start()
        small_thread.join(8)  # the small run needs well under a second
        assert done, "the small run waited for the big one"
        assert done[0].summary() == real_run(small).summary()
    finally:
        release.set()
        big_thread.join(120)


def _big_run_in_thread(sc: sim.Scenario, ticket: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def go() -> None:
        try:
            with runner.watching(ticket):
                out.append(runner.run(sc))
        except BaseException as e:  # handed to the test
            out.append(e)

    thread = threading.Thread(target=go)
    thread.start()
    return thread, out


def test_4_a_big_run_reports_progress_and_gives_the_same_result(monkeypatch):
    monkeypatch.setattr(runner, "BIG_CELLS", 0)  # every run is a big one
    sc = sim.validate_scenario(small_data(paths=4096, weeks=20), "t")
    seen: list[tuple[int, int]] = []
    ticket = runner.Ticket(sc.run.paths)
    monkeypatch.setattr(ticket, "progress", lambda d, t: (seen.append((d, t)), None)[1])
    thread, out = _big_run_in_thread(sc, ticket)
    thread.join(120)
    assert out and isinstance(out[0], sim.Result), out
    assert out[0].summary() == sim.run(sc).summary()
    assert len(seen) == runner.BIG_CHUNKS / 2  # 16 chunks of 256 paths (the smallest chunk)
    assert [d for d, _ in seen] == sorted({d for d, _ in seen}) and seen[-1] == (4096, 4096)


def test_4_cancel_drops_a_big_runs_pending_chunks_and_frees_the_pool(monkeypatch):
    """Cancel mid-run: the run raises Cancelled, the chunks not yet started are dropped (not
    computed), and the big pool takes the next big run at once."""
    monkeypatch.setattr(runner, "BIG_CELLS", 0)
    sc = sim.validate_scenario(small_data(paths=32 * 512, weeks=52), "t")
    ticket = runner.Ticket(sc.run.paths)
    thread, out = _big_run_in_thread(sc, ticket)
    deadline = time.monotonic() + 120
    while ticket.done == 0 and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert 0 < ticket.done < sc.run.paths, "cancelled in the middle of the run"
    ticket.cancel()
    thread.join(120)
    assert out and isinstance(out[0], runner.Cancelled), out
    assert len(ticket._futures) == runner.BIG_CHUNKS
    dropped = sum(f.cancelled() for f in ticket._futures)
    assert dropped >= runner.BIG_CHUNKS // 2, f"only {dropped} of 32 chunks were dropped"
    small = sim.validate_scenario(small_data(paths=512, weeks=4), "t")
    after = runner.Ticket(small.run.paths)
    thread, out = _big_run_in_thread(small, after)
    thread.join(120)
    assert out and isinstance(out[0], sim.Result) and after.done == small.run.paths
    assert out[0].summary() == sim.run(small).summary()
    assert runner.broken() == []


def test_4_the_big_pool_yields_the_cpu_to_the_small_one(monkeypatch):
    monkeypatch.setattr(runner, "BIG_CELLS", 0)
    sc = sim.validate_scenario(small_data(paths=512, weeks=4), "t")
    assert runner.run(sc).summary() == sim.run(sc).summary()
    processes = runner.pool("big").executor()._processes.values()
    assert processes
    ours = os.nice(0)
    for p in processes:
        assert psutil.Process(p.pid).nice() == min(19, ours + runner.BIG_NICE)


def test_4_a_big_run_nobody_looks_at_stops(monkeypatch):
    """A closed tab stops polling its big run's ticket: the run stops by itself."""
    monkeypatch.setattr(runner, "BIG_CELLS", 0)
    monkeypatch.setattr(runner, "ABANDONED", 0.5)
    sc = sim.validate_scenario(small_data(paths=32 * 512, weeks=52), "t")
    ticket = runner.Ticket(sc.run.paths)
    ticket.seen()  # once, as the page does when it starts the run; never again
    thread, out = _big_run_in_thread(sc, ticket)
    thread.join(120)
    assert out and isinstance(out[0], runner.Cancelled), out
    assert ticket.done < sc.run.paths


# -- 5: single-arm scenarios: the same clear error in check, run and the dashboard ----------------


def _single_arm(tmp_path: Path) -> Path:
    data = small_data()
    data["arms"] = data["arms"][:1]
    return write(tmp_path, "one.toml", toml(data))


@pytest.mark.parametrize("command", ["check", "run"])
def test_5_single_arm_is_a_clear_error_in_the_cli(tmp_path, monkeypatch, capsys, command):
    path = _single_arm(tmp_path)
    args = [command, str(path)] + (SMALL if command == "run" else [])
    code, _, err = run_cli(tmp_path, monkeypatch, capsys, *args)
    assert code == 2 and "Traceback" not in err
    assert f"{path}: arms: give at least two rules to compare" in err


def test_5_single_arm_is_a_clear_error_on_the_dashboard(tmp_path):
    at = app_test(arms="kept")
    assert not at.exception
    assert "(`arms`): give at least two rules to compare" in page_errors(at)
    base, problems = session.uploaded_base("one.toml", _single_arm(tmp_path).read_bytes())
    assert base is None and problems[0][1:] == ("arms", problems[0][2])
    assert "at least two rules" in problems[0][2]


# -- 6: deep nesting is a clear error everywhere ---------------------------------------------------


DEEP_ARRAY = "[" * 3000 + "]" * 3000
DEEP_TABLE = "{a = " * 3000 + "1" + "}" * 3000


@pytest.mark.parametrize("value", [DEEP_ARRAY, DEEP_TABLE, "[" * 30 + "]" * 30])
def test_6_deep_nesting_in_a_file(tmp_path, monkeypatch, capsys, value):
    path = write(tmp_path, "deep.toml", REFERENCE.read_text() + f"\nextra = {value}\n")
    for args in (["check", str(path)], ["run", str(path), *SMALL]):
        code, _, err = run_cli(tmp_path, monkeypatch, capsys, *args)
        assert code == 2 and "Traceback" not in err and "Recursion" not in err
        assert f"{path}:" in err and "nested too deeply" in err


@pytest.mark.parametrize("value", [DEEP_ARRAY, DEEP_TABLE])
def test_6_deep_nesting_in_set(tmp_path, monkeypatch, capsys, value):
    args = ["sweep", str(REFERENCE), *SMALL, "--set", f"freelancer.capacity={value}"]
    code, _, err = run_cli(tmp_path, monkeypatch, capsys, *args)
    assert code == 2 and "Traceback" not in err
    assert "--set: freelancer.capacity: nested too deeply" in err


def test_6_deep_nesting_in_an_upload_and_a_url():
    text = REFERENCE.read_text() + f"\nextra = {DEEP_ARRAY}\n"
    base, problems = session.uploaded_base("deep.toml", text.encode())
    assert base is None and "nested too deeply" in problems[0][2]
    packed = controls._pack(text)
    base, _, problems = controls.decode_query({"scenario": packed})
    assert base.toml is None and "nested too deeply" in dict(problems)["scenario"]
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.query_params["scenario"] = packed
    at.query_params["run.paths"] = "300"
    at.run()
    assert not at.exception and "nested too deeply" in page_errors(at)


# -- 7: a sweep's grid size is computed before the grid is built ---------------------------------


def test_7_grid_size_is_checked_before_building(monkeypatch):
    def product(*a: Any) -> Any:
        raise AssertionError("the grid was built before its size was checked")

    monkeypatch.setattr(sw.itertools, "product", product)
    sc = sim.validate_scenario(small_data(), "t")
    grid = {
        "freelancer.proposals_per_week": list(range(1000)),
        "arms[1].delay_weeks": list(range(1000)),
        "market.competitors": list(range(1000)),
    }
    with pytest.raises(sim.ScenarioError) as e:
        sw.grid_points(sc, grid)
    assert "1,000 x 1,000 x 1,000 = 1,000,000,000 points; at most 10,000" in str(e.value)


def test_7_too_many_values_in_one_set_are_refused_before_parsing():
    with pytest.raises(sim.ScenarioError, match="at most 10,000 points"):
        sw.parse_values(",".join(["1"] * 20_000), "freelancer.capacity")


# -- 8: scenario files are as strict as --set ----------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "value", "dotted", "message"),
    [
        ("run", "paths", True, "run.paths", "expected an integer, got true"),
        ("run", "paths", "10000", "run.paths", 'expected an integer, got "10000"'),
        ("run", "weeks", 10.0, "run.weeks", "expected an integer, got 10.0"),
        (
            "freelancer",
            "hourly_rate",
            "20",
            "freelancer.hourly_rate",
            'expected a number, got "20"',
        ),
        ("freelancer", "capacity", 2.5, "freelancer.capacity", "expected an integer, got 2.5"),
        ("hiring", "b_jss", [0.0, float("nan"), 0.0, 0.0], "hiring.b_jss[1]", "must be a finite"),
        ("freelancer", "hourly_rate", float("inf"), "freelancer.hourly_rate", "must be a finite"),
        ("market", "contract_weeks", float("-inf"), "market.contract_weeks", "must be a finite"),
    ],
)
def test_8_files_are_strict(tmp_path, monkeypatch, capsys, section, key, value, dotted, message):
    data = small_data()
    data.setdefault(section, {})[key] = value
    path = write(tmp_path, "s.toml", toml(data))
    code, _, err = run_cli(tmp_path, monkeypatch, capsys, "check", str(path))
    assert code == 2 and "Traceback" not in err
    assert f"{path}: {dotted}: {message}" in err


def test_8_flagged_yes_is_not_true(tmp_path):
    data = small_data()
    data["history"][1]["flagged"] = "yes"
    with pytest.raises(sim.ScenarioError) as e:
        sim.loads_scenario(toml(data), "s.toml")
    assert e.value.problems == [
        ("s.toml", "history[1].flagged", 'expected true or false, got "yes"')
    ]


def _number_keys(x: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(x, dict):
        return [p for k, v in x.items() for p in _number_keys(v, (*path, k))]
    if isinstance(x, list):
        return [p for i, v in enumerate(x) for p in _number_keys(v, (*path, i))]
    return [path] if isinstance(x, int | float) and not isinstance(x, bool) else []


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_8_nan_and_infinity_are_refused_at_every_number_key(bad):
    data = tomllib.loads(sim.dumps_scenario(sim.validate_scenario(small_data(), "t")))
    keys = _number_keys(data)
    assert len(keys) > 60
    for path in keys:
        mutated = copy.deepcopy(data)
        node = mutated
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = bad
        with pytest.raises(sim.ScenarioError) as e:
            sim.loads_scenario(toml(mutated), "s.toml")
        dotted = sw.format_key(path)
        assert any(key == dotted and "finite" in msg for _, key, msg in e.value.problems), (
            dotted,
            e.value.problems,
        )


# -- 9: clean faults ------------------------------------------------------------------------------


def _popen(tmp_path: Path, *args: str, program: list[str] | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [*(program or [sys.executable, "-m", "app.cli"]), *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_staging(tmp_path: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not leftovers(tmp_path) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert leftovers(tmp_path), "the temporary folder appears beside --out"


def test_9_sigterm_is_handled_like_ctrl_c(tmp_path):
    big = ["run", str(REFERENCE), "--paths", "400000", "--weeks", "104", "--out", "big"]
    proc = _popen(tmp_path, *big)
    try:
        _wait_for_staging(tmp_path, proc)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert "terminated" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


SIGNAL_RUNS = 24 if os.environ.get("REPSIM_SOAK") else 3


def test_9_signals_at_random_moments_leave_all_or_nothing(tmp_path):
    """SIGINT, SIGTERM or SIGKILL at a random moment of a run (with --force over old results):
    DIR holds the old results or the new ones, complete, never a part; after the next run, no
    hidden folder is left."""
    import random

    assert REPSIM.exists(), "make test installs the repsim console script"
    rng = random.Random(15)
    outcomes: list[tuple[str, str]] = []
    old = tmp_path / "out"
    for i in range(SIGNAL_RUNS):
        old.mkdir(exist_ok=True)
        if not (old / "summary.json").exists():
            (old / "summary.json").write_text('{"old": true}')
        signum = rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
        delay = rng.uniform(0.3, 6.0)  # before 0.3 s: the interpreter's own start-up
        args = ["run", str(REFERENCE), "--paths", "10000", "--weeks", "52", "--formats", "json"]
        more = ["--out", "out", "--force", "--workers", str(1 + i % 2)]
        proc = _popen(tmp_path, *args, *more, program=[str(REPSIM)])
        time.sleep(delay)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
        assert "Traceback" not in err, err
        files = sorted(p.name for p in old.iterdir())
        summary = json.loads((old / "summary.json").read_text())
        outcomes.append(("old" if "old" in summary else "new", signum.name))
        if "old" not in summary:  # the new results: every file there
            assert "manifest.json" in files and "bands.csv" in files, (signum, delay, files)
        else:
            assert files == ["summary.json"], (signum, delay, files)
        if signum != signal.SIGKILL:
            assert leftovers(tmp_path) == [], (signum, delay)
        staging.clean_leftovers(old, report=io.StringIO())  # what the next run does
        assert leftovers(tmp_path) == []
    figures = Path(os.environ.get("REPSIM_FUZZ_FIGURES", "/tmp/repsim-fuzz"))
    figures.mkdir(parents=True, exist_ok=True)
    counts = {f"{kept} after {name}": outcomes.count((kept, name)) for kept, name in set(outcomes)}
    (figures / "signals.json").write_text(json.dumps({"runs": len(outcomes), **counts}) + "\n")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_9_leftovers_of_killed_runs_are_removed_next_time(tmp_path, monkeypatch, capsys):
    stale = tmp_path / f".out.{_dead_pid()}.abcd1234.tmp"
    stale.mkdir()
    (stale / "summary.json").write_text("{}")
    live = tmp_path / f".out.{os.getpid()}.zzzz9999.tmp"  # a run still going: left alone
    live.mkdir()
    other = tmp_path / f".out.5.{_dead_pid()}.abcd1234.tmp"  # a run into out.5: not ours
    other.mkdir()
    code, _, err = run_cli(
        tmp_path, monkeypatch, capsys, "run", str(REFERENCE), *SMALL, "--out", "out"
    )
    assert code == 0, err
    assert f"removed {stale.name}, left by an interrupted run" in err
    assert not stale.exists() and live.exists() and other.exists()
    assert (tmp_path / "out" / "summary.json").is_file()


def test_9_a_swap_cut_short_is_restored(tmp_path, capsys):
    old = tmp_path / f".out.{_dead_pid()}.abcd1234.old"  # killed between its two renames
    old.mkdir()
    (old / "summary.json").write_text('{"old": true}')
    assert staging.clean_leftovers(tmp_path / "out") == [old]
    assert "restored" in capsys.readouterr().err
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == {"old": True}
    assert not old.exists()


def test_9_force_keeps_the_old_results_in_place_until_the_new_are_complete(
    tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"old": true}')
    real_rename = os.rename
    moved_away = []

    def rename(src: Any, dst: Any, *a: Any, **k: Any) -> None:
        if Path(src).resolve() == out.resolve():
            moved_away.append(dst)
        real_rename(src, dst, *a, **k)

    monkeypatch.setattr(os, "rename", rename)
    args = ["run", str(REFERENCE), *SMALL, "--out", "out", "--force"]
    code, _, err = run_cli(tmp_path, monkeypatch, capsys, *args)
    assert code == 0, err
    assert not moved_away, "DIR was renamed away: a window with no results under DIR"
    assert "old" not in json.loads((out / "summary.json").read_text())
    assert leftovers(tmp_path) == []


def test_9_exchange_swaps_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not staging.exchange(a, b):
        pytest.skip("this file system cannot swap folders in one step")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_9_workers_die_with_their_parent(tmp_path):
    args = ["run", str(REFERENCE), "--paths", "400000", "--weeks", "104", "--workers", "2"]
    proc = _popen(tmp_path, *args, "--out", "big")
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            children = psutil.Process(proc.pid).children(recursive=True)
            if len(children) >= 2:
                break
            time.sleep(0.1)
        assert len(children) >= 2, "the run starts two workers"
        time.sleep(1.0)  # at work on their chunks
        proc.kill()
        proc.wait(10)
        _, alive = psutil.wait_procs(children, timeout=20)
        assert not alive, f"orphaned workers: {[p.pid for p in alive]}"
    finally:
        proc.kill()
        for child in children:
            if child.is_running():
                child.kill()


SERVER = """
import sys, time
import sim
from app import runner
sc = sim.Scenario.model_validate({"run": {"paths": 1024, "weeks": 4}})
runner.run(sc)
print("ready", flush=True)
time.sleep(600)
"""


def test_9_dashboard_workers_die_with_the_server(tmp_path):
    """The dashboard's pool (a forkserver and its workers) goes when the server is SIGKILLed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    family: list[psutil.Process] = []
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        family = psutil.Process(proc.pid).children(recursive=True)
        if runner is not None and runner.WORKERS < 2:
            pytest.skip("this machine runs the dashboard without worker processes")
        assert len(family) >= 3, "a forkserver and two workers"
        proc.kill()
        proc.wait(10)
        _, alive = psutil.wait_procs(family, timeout=30)
        assert not alive, f"outlived the server: {[p.pid for p in alive]}"
    finally:
        proc.kill()
        for p in family:
            with contextlib.suppress(psutil.Error):
                p.kill()


@pytest.mark.parametrize("delay", [0.3, 0.5, 0.8, 1.2])
def test_9_an_early_ctrl_c_prints_no_traceback(tmp_path, delay):
    assert REPSIM.exists(), "make test installs the repsim console script"
    proc = _popen(tmp_path, "check", str(REFERENCE), program=[str(REPSIM)])
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert proc.returncode in (0, 130, -signal.SIGINT), err


# -- 10: the smaller ones ----------------------------------------------------------------------


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


def test_10_check_refuses_a_device(tmp_path):
    proc = repsim("check", "/dev/zero", cwd=tmp_path, timeout=60, preexec_fn=_limit_memory)
    assert proc.returncode == 2, proc.stderr
    assert "/dev/zero: not a regular file" in proc.stderr


def test_10_check_refuses_a_fifo_without_hanging(tmp_path):
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    proc = repsim("check", str(fifo), cwd=tmp_path, timeout=30)
    assert proc.returncode == 2 and f"{fifo}: not a regular file" in proc.stderr


def test_10_check_refuses_an_oversized_file(tmp_path):
    path = write(tmp_path, "big.toml", REFERENCE.read_text() + "# " + "x" * 2**21 + "\n")
    with pytest.raises(sim.ScenarioError, match=r"over the 1\.0 MB limit"):
        sim.load_scenario(path)


START_BASE = (
    "import sys\nfrom app import session\n"
    "base, notices = session.start_base(sys.argv[1:])\nprint(base.preset, notices)"
)


@pytest.mark.parametrize("kind", ["device", "fifo", "oversized"])
def test_10_the_dashboards_command_line_file_is_read_with_a_cap(tmp_path, kind):
    """`streamlit run app/main.py -- FILE`: /dev/zero, a FIFO or a huge file is refused at once,
    naming the file, and the reference case is shown (before: read without a cap, or hung)."""
    path = tmp_path / "scenario.toml"
    if kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_text(REFERENCE.read_text() + "# " + "x" * 2**21 + "\n")
    proc = subprocess.run(
        [sys.executable, "-c", START_BASE, str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, preexec_fn=_limit_memory,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    expected = "not a regular file" if kind != "oversized" else "over the 1.0 MB limit"
    assert f"`{path}` could not be used ({path}: " in proc.stdout, proc.stdout
    assert expected in proc.stdout, proc.stdout
    assert proc.stdout.startswith(controls.DEFAULT_PRESET)


def test_10_empty_out_is_refused(tmp_path, monkeypatch, capsys):
    code, _, err = run_cli(
        tmp_path, monkeypatch, capsys, "run", str(REFERENCE), *SMALL, "--out", ""
    )
    assert code == 2 and "--out: is empty" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_10_a_too_long_out_is_invalid_input(tmp_path, monkeypatch, capsys, command):
    extra = ["--set", "freelancer.capacity=1,2"] if command == "sweep" else []
    args = [command, str(REFERENCE), *SMALL, *extra, "--out", "x" * 300]
    code, _, err = run_cli(tmp_path, monkeypatch, capsys, *args)
    assert code == 2 and "folder name too long" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_10_disk_full_names_the_folder(tmp_path, monkeypatch, capsys):
    def full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    args = ["run", str(REFERENCE), *SMALL, "--out", "results"]
    code, _, err = run_cli(tmp_path, monkeypatch, capsys, *args)
    assert code == 1
    assert "cannot write results/summary.json: No space left on device" in err
    assert list(tmp_path.iterdir()) == []


def test_10_a_swept_run_table_is_what_the_summary_says(tmp_path, monkeypatch, capsys):
    args = ["sweep", str(REFERENCE), "--formats", "json", "--set", "run={paths=300,weeks=10}"]
    code, out, err = run_cli(tmp_path, monkeypatch, capsys, *args)
    assert code == 0, err
    assert "1 points x 300 paths x 10 weeks" in out
    summary = json.loads(
        next((tmp_path / "second-job-retaliation-sweep").rglob("summary.json")).read_text()
    )
    assert (summary["paths"], summary["weeks"]) == (300, 10)


# -- 11: untrusted text is text --------------------------------------------------------------------


HOSTILE = (
    "See ![tracker](https://evil.example/pixel.png) and [my site](https://evil.example/), "
    "<img src=https://evil.example/x.png> www.evil.example :red[alarm] $x^2$"
)


def test_11_a_shared_description_is_plain_text():
    data = small_data()
    data["name"] = "Mine [click](https://evil.example/)"
    data["description"] = HOSTILE
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.query_params["scenario"] = controls._pack(toml(data))
    at.run()
    assert not at.exception
    shown = [m.value for m in at.markdown if "evil" in m.value]
    shown += [c.value for c in at.caption if "evil" in c.value]
    assert len(shown) >= 2, "the name and description are on the page"
    for text in shown:
        unescaped = sim_unescaped(text)
        assert "](" not in unescaped and "<img" not in unescaped and "://" not in unescaped
        assert "www." not in unescaped and ":red[" not in unescaped and "$x" not in unescaped


def sim_unescaped(text: str) -> str:
    """The text with every backslash-escaped character removed: what markdown may still read."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def test_11_every_dashboard_cache_is_bounded_in_bytes():
    """A cached view holds no per-path arrays: the largest the widgets can ask for (all nine
    rules over 520 weeks) is a few MB whatever the paths, its key (the scenario's TOML) is capped
    at 256 KB, and each cache holds a bounded number of them."""
    import pickle

    from app import long_runs

    widest = {"arms": list(controls.CATALOG), "run.weeks": 520, "run.paths": 256}
    sc = controls.build_scenario(sim.load_scenario(REFERENCE), widest)
    size = len(pickle.dumps(results.compute_view(sim.dumps_scenario(sc))))
    assert size < 8 * 2**20, f"{size / 2**20:.1f} MiB"
    assert session._cached_view._info.max_entries == 24 and long_runs.KEEP == 8
    assert controls.MAX_PACKED == session.MAX_UPLOAD == 256 * 1024


def test_11_keys_in_problems_cannot_inject_markdown():
    text = '"x](https://evil.example/) `y" = 1\n'
    base, problems = session.uploaded_base("k.toml", (text + REFERENCE.read_text()).encode())
    assert base is None
    shown = session.problems_markdown(problems)
    assert shown == '- `"x](https://evil.example/) y"`: unknown key'  # all inside one code span


def test_the_dashboard_pool_outlives_the_script_run_that_started_it():
    """Linux's PR_SET_PDEATHSIG follows the *thread* that started a process, and Streamlit runs
    each script run in a thread of its own: a forkserver started from a script run died with
    it, so every slider change paid for a new forkserver and warm workers (about 3 s)."""
    sc = sim.with_run(sim.load_scenario(REFERENCE), paths=1024, weeks=10)

    def in_a_thread_of_its_own(scenario: sim.Scenario) -> None:
        thread = threading.Thread(target=results.run_in_parallel, args=(scenario,))
        thread.start()
        thread.join()

    in_a_thread_of_its_own(sc)
    pool = runner.pool("small")
    assert pool is not None  # two cores: the dashboard runs on its pool
    before = {pid: p.is_alive() for pid, p in pool.executor()._processes.items()}
    time.sleep(0.5)  # a killed forkserver takes its workers with it within moments
    in_a_thread_of_its_own(sim.with_run(sc, seed=2))
    after = dict(pool.executor()._processes.items())
    assert before and all(before.values())
    assert set(after) == set(before) and all(p.is_alive() for p in after.values())
