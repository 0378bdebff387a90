"""The next notch simulated ahead on idle CPU (app/prefetch.py), and shown by the page."""

from __future__ import annotations

import json
import os
import sys
from concurrent import futures

import pytest
import streamlit as st
from helpers import ROOT
from streamlit.testing.v1 import AppTest

import sim
from app import charts, prefetch, results, runner, session

MAIN = str(ROOT / "app" / "main.py")
SMALL = {"run.paths": "600", "run.weeks": "30"}

pytestmark = pytest.mark.skipif(runner.WORKERS < 2, reason="a one-core machine has no idle pool")


@pytest.fixture
def on(monkeypatch):
    """Simulating ahead on, as in a served dashboard (tests/conftest.py turns it off); what was
    simulated ahead by another test is forgotten."""
    monkeypatch.setenv("REPSIM_PREFETCH", "1")
    handed()
    prefetch._ahead.clear()
    yield
    handed()
    prefetch._ahead.clear()


def handed() -> None:
    """Until the runs asked for so far are with the idle pool."""
    prefetch._handing.submit(lambda: None).result(timeout=60)


def finished() -> None:
    """Until the runs asked for so far are done, as they are when a person stepping a slider
    has read the page (one not started yet is left to the page, which runs it sooner)."""
    handed()
    futures.wait(list(prefetch._ahead.values()), timeout=120)


def small_toml(**changes: float) -> str:
    data = sim.Scenario().model_dump()
    data["run"].update(paths=1536, weeks=40, **changes)
    return sim.dumps_scenario(sim.validate_scenario(data, "t"))


def fingerprint(view: results.View) -> tuple:
    """Every file and chart the page makes of a view, as bytes."""
    specs = json.dumps(
        {k: charts.json_spec(s) for k, s in view.specs.items()}, sort_keys=True, default=str
    )
    return (
        view.summary_json(),
        view.bands_csv(),
        view.headlines_csv(),
        view.scenario_toml(),
        specs,
        view.win_prob_now,
    )


def test_a_view_simulated_ahead_is_the_pages_own_to_the_byte(on):
    """Its run is one process's, the page's is split over the small pool: the same bytes."""
    for seed in (1, 2):
        toml = small_toml(seed=seed)
        prefetch.ahead([toml])
        handed()
        ahead = prefetch.take(toml)
        assert ahead is not None
        assert fingerprint(ahead) == fingerprint(results.compute_view(toml))
        assert prefetch.take(toml) is None  # taken once: the page's cache keeps it from there


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE is Linux's")
def test_the_idle_pool_runs_only_on_cpu_time_nothing_else_wants(on):
    toml = small_toml(seed=3)
    prefetch.ahead([toml])
    handed()
    assert prefetch.take(toml) is not None
    results.compute_view(toml)  # the page's own run, on the small pool
    idle = list(runner.pool("idle").executor()._processes)
    small = list(runner.pool("small").executor()._processes)
    assert idle and small  # processes are started as work comes
    assert all(os.sched_getscheduler(pid) == os.SCHED_IDLE for pid in idle)
    assert all(os.sched_getscheduler(pid) == os.SCHED_OTHER for pid in small)


def test_the_server_starts_every_idle_worker_ahead_of_the_first_notch(on):
    prefetch.start()
    handed()
    assert len(runner.pool("idle").executor()._processes) == runner.WORKERS


def test_off_when_told(monkeypatch):
    monkeypatch.setenv("REPSIM_PREFETCH", "0")
    count = prefetch.PREFETCHED["count"]
    toml = small_toml(seed=4)
    prefetch.ahead([toml])
    handed()
    assert prefetch.take(toml) is None and prefetch.PREFETCHED["count"] == count


def test_what_is_kept_ahead_is_bounded(on):
    tomls = [small_toml(seed=10 + i) for i in range(prefetch.KEEP + 3)]
    prefetch.ahead(tomls)
    handed()
    assert len(prefetch._ahead) <= prefetch.KEEP
    assert set(prefetch._ahead) <= set(tomls[-prefetch.KEEP :])  # the newest are kept


def test_only_small_runs_are_simulated_ahead():
    data = sim.Scenario().model_dump()
    assert prefetch.wanted(sim.validate_scenario(data, "t"))  # the default page
    data["run"]["paths"] = 40_000  # 2 rules x 40,000 x 104: 8.3 million rule-path-weeks
    assert not prefetch.wanted(sim.validate_scenario(data, "t"))


def test_unknown_settings_are_left_to_the_page():
    assert prefetch.take(small_toml(seed=99)) is None


def page() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=120)
    for key, value in SMALL.items():
        at.query_params[key] = value
    return at.run()


def slider(at: AppTest, key: str):
    if not at.sidebar:  # a change reruns the figures alone: AppTest then holds no sidebar
        at.run()
    return at.slider(key=session.W + key)


@pytest.mark.parametrize(
    ("key", "steps"),
    [
        ("freelancer.hours_per_week", (21.0, 22.0, 23.0, 22.0)),  # a float slider, step 1
        ("freelancer.five_star", (0.89, 0.88, 0.87)),  # step 0.01: 0.89 - 0.01 is 0.88
    ],
)
def test_stepping_a_slider_shows_the_next_notch_from_what_was_simulated_ahead(on, key, steps):
    """After each change, the notch one further in the same direction is simulated ahead, and
    the next change to it is shown from there (no run of the page's own). Settings this session
    has shown (where the slider came from) are not simulated again: turning back one notch is
    shown from the page's cache."""
    st.cache_data.clear()
    at = page()
    assert not at.exception
    slider(at, key).set_value(steps[0]).run()  # the first change: the page's own run
    for i, value in enumerate(steps[1:], start=1):
        finished()
        runs, taken = results.RUNS["count"], prefetch.PREFETCHED["taken"]
        started = prefetch.PREFETCHED["count"]
        slider(at, key).set_value(value).run()
        assert not at.exception
        handed()
        turned_back = i >= 2 and value == steps[i - 2]
        if turned_back:  # shown before: from the page's cache; the notch beyond, shown too
            assert (results.RUNS["count"], prefetch.PREFETCHED["taken"]) == (runs, taken)
            assert prefetch.PREFETCHED["count"] == started
        else:
            assert results.RUNS["count"] == runs, f"{key} = {value}: the page ran it itself"
            assert prefetch.PREFETCHED["taken"] == taken + 1
            assert prefetch.PREFETCHED["count"] == started + 1  # forward only: back was shown
    assert value_on_page(at, key) == pytest.approx(steps[-1])


def value_on_page(at: AppTest, key: str) -> float:
    """The control's value in the scenario the page offers for download."""
    at.switch_page("views/scenario.py").run()
    sc = sim.loads_scenario(at.code[0].value, "page")
    if key == "freelancer.five_star":
        return sc.freelancer.quality[4]
    return sc.freelancer.hours_per_week
