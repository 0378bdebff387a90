"""The Dispute page's simulation on the worker pools, and its inputs in the address bar."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import ROOT, small
from streamlit.testing.v1 import AppTest

import sim
from app import dispute_query, dispute_view, runner
from sim import dispute

MAIN = str(ROOT / "app" / "main.py")
SMALL = {"run.paths": "300", "run.weeks": "30"}


def _engine_here(*args, **kwargs):
    raise AssertionError("the dispute simulation ran in the server's process")


@pytest.mark.parametrize("pool", ["small", "big"])
@pytest.mark.parametrize("uncertain", [True, False])
def test_dispute_runs_on_the_pool_and_equals_the_in_process_run(
    monkeypatch, pool: str, uncertain: bool
) -> None:
    """The page's dispute simulation runs on the worker processes (the engine is never called in
    this process) and gives, to the bit, what `simulate_avoided` gives here; a run over
    BIG_CELLS goes to the big pool, as the Compare page's does."""
    if runner.pool("small") is None:
        pytest.skip(f"no worker pool on this machine ({runner.WORKERS} worker): nothing to test")
    sc = small(paths=1300, weeks=30, chunk_paths=512)  # several chunks, the last one short
    sc = sc.model_copy(update={"uncertainty": sc.uncertainty.model_copy(update={"on": uncertain})})
    wait = 3
    expected = dispute.simulate_avoided(sc, wait)
    assert (expected.points is not None) is uncertain
    if pool == "big":
        monkeypatch.setattr(runner, "BIG_CELLS", 0)
    monkeypatch.setattr(dispute, "simulate_arms", _engine_here)
    dispute_view._avoided.clear()
    got = dispute_view._avoided(sim.dumps_scenario(sc), wait)
    dispute_view._avoided.clear()
    assert (got.wait_weeks, got.horizons, got.paths, got.seed) == (
        expected.wait_weeks,
        expected.horizons,
        expected.paths,
        expected.seed,
    )
    assert got.values.dtype == expected.values.dtype and got.values.shape == expected.values.shape
    assert got.values.tobytes() == expected.values.tobytes()
    assert np.abs(got.values).sum() > 0  # the removal recovers something: a real comparison
    if uncertain:
        assert got.points.tobytes() == expected.points.tobytes()
    else:
        assert got.points is None


def test_address_values_are_checked_and_named() -> None:
    values, problems = dispute_query.decode(
        {
            "dispute.chance_upheld": "1.5",
            "dispute.wait_weeks": "2.5",
            "dispute.hours": "<b>x</b>",
            "run.paths": "300",
        }
    )
    assert values == {}
    named = dict(problems)
    assert set(named) == {"dispute.chance_upheld", "dispute.wait_weeks", "dispute.hours"}
    assert (
        "out of range" in named["dispute.chance_upheld"]
        and "0 to 1" in named["dispute.chance_upheld"]
    )
    assert "whole number" in named["dispute.wait_weeks"]
    assert "not a number" in named["dispute.hours"]
    inputs = {"chance": 35, "wait": 0, "hours": 12.5}
    assert dispute_query.decode(dispute_query.encode(inputs)) == (inputs, [])
    assert dispute_query.encode(dispute_query.DEFAULTS) == {}


def _dispute_page(**params: str) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=90)
    for key, value in {**SMALL, **params}.items():
        at.query_params[key] = value
    at.switch_page("views/dispute.py")
    return at.run()


def test_the_address_sets_the_dispute_inputs_and_follows_them() -> None:
    at = _dispute_page(
        **{"dispute.chance_upheld": "0.7", "dispute.wait_weeks": "4", "dispute.hours": "6.5"}
    )
    assert not at.exception
    assert at.slider(key="dispute-chance").value == 70
    assert at.number_input(key="dispute-wait").value == 4
    assert at.number_input(key="dispute-hours").value == 6.5
    text = " ".join(m.value for m in at.markdown)
    assert "a 70% chance that it is **removed after 4 weeks**" in text and "6.5 h at" in text
    at.number_input(key="dispute-hours").set_value(3.0).run()  # back to the default: dropped
    params = dict(at.query_params)
    assert "dispute.hours" not in params
    assert params["dispute.chance_upheld"] == "0.7" and params["dispute.wait_weeks"] == "4"
    assert params["run.paths"] == "300"  # the scenario's settings are kept beside them


def test_a_bad_address_value_is_named_and_the_rest_kept() -> None:
    at = _dispute_page(
        **{"dispute.wait_weeks": "99", "dispute.hours": "*bold* [x](http://e.com)"},
        **{"dispute.chance_upheld": "0.25"},
    )
    assert not at.exception
    notes = " ".join(w.value for w in at.warning)
    assert "`dispute.wait_weeks`" in notes and "0 to 52" in notes
    assert "`dispute.hours`" in notes and "](" not in notes  # the address's text, as text
    assert at.number_input(key="dispute-wait").value == dispute.WAIT_WEEKS
    assert at.number_input(key="dispute-hours").value == dispute.HOURS
    assert at.slider(key="dispute-chance").value == 25  # the good one is kept
    assert "run.paths" in at.query_params and "dispute.wait_weeks" not in at.query_params
