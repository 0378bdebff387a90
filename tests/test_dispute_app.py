"""The Dispute page's simulation on the worker pools, and its inputs in the address bar."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import small

import sim
from app import dispute_view, runner
from sim import dispute


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
