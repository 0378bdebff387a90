"""Chunks' accumulators sent between processes: they arrive sparse and merge to the same counts."""

from __future__ import annotations

import pickle

import numpy as np

import sim
from sim.metrics import Accumulator


def _parts(sc: sim.Scenario) -> list[Accumulator]:
    return [sim.simulate_paths(sc, 0, 512), sim.simulate_paths(sc, 512, sc.run.paths - 512)]


def _merged(sc: sim.Scenario, parts: list[Accumulator]) -> Accumulator:
    acc = Accumulator(sc, sim.engine.make_plan(sc).net)
    for part in parts:
        acc.merge(part)
    return acc


def test_a_sent_chunk_merges_as_the_chunk_itself(reference) -> None:
    sc = sim.with_run(reference, paths=700, weeks=30)
    parts = _parts(sc)
    sent = [pickle.loads(pickle.dumps(p)) for p in parts]
    assert "_sparse" in sent[0].hist["kept"]["win_prob"].__dict__  # not densified on arrival
    here, there = _merged(sc, parts), _merged(sc, sent)
    for arm in sc.arm_names():
        for m, h in here.hist[arm].items():
            other = there.hist[arm][m]
            for field in ("counts", "total", "valid"):
                assert np.array_equal(getattr(h, field), getattr(other, field)), (arm, m, field)
    # a sent histogram read directly gives its counts, dense, once
    h = sent[1].hist["excluded"]["stars"]
    assert np.array_equal(h.counts, parts[1].hist["excluded"]["stars"].counts)
    assert "_sparse" not in h.__dict__
    again = pickle.loads(pickle.dumps(h))  # sent on again after it was read
    assert np.array_equal(again.counts, h.counts) and again.scale == h.scale
