"""The benchmark models agree with the engine, and the comparison writes the issue's JSON."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import ROOT, reference_data

import sim

sys.path.insert(0, str(ROOT / "benchmarks"))
import compare
from bench_inputs import WEEKLY

# numba is fast enough for as many paths as the engine: its agreement test is then sharp enough
# to see a model that misses a part of the engine's (e.g. the harsh clients, issue 11)
PATHS = {"numba": 4096, "mesa": 800}
ENGINE_PATHS = 4096
# what clients see at the horizon: the models report them as weekly bands only, so their mean is
# checked with the engine's per-path variance (the same under agreement)
SIGNALS = ("stars", "win_prob")


@pytest.fixture(scope="module")
def engine_stats() -> dict[str, Any]:
    sc = sim.load_scenario(compare.REFERENCE)
    res = sim.run(sc, paths=ENGINE_PATHS)
    stats = compare.sample_stats({a: res.final[a] for a in res.arms})
    for a in res.arms:
        for metric in SIGNALS:
            stats[a][metric] = compare.moments(res.final[a][metric])
    return stats


@pytest.mark.parametrize("model", ["numba", "mesa"])
def test_model_agrees_with_engine_within_sampling_error(model, engine_stats):
    if os.environ.get("REPSIM_REQUIRE_BENCH") == "1":  # .ci/run: mesa and numba must be there
        __import__(compare.NEEDS[model])
    else:
        pytest.importorskip(compare.NEEDS[model])
    module = __import__(f"{model}_model")
    sc = sim.load_scenario(compare.REFERENCE)
    out = module.run(sc, PATHS[model], seed=7)
    stats = compare.sample_stats(out)
    # the same work as sim.run: every week's distribution of every figure it reports
    for arm, figures in out.items():
        assert set(figures["bands"]) == set(WEEKLY)
        for metric, bands in figures["bands"].items():
            assert bands.shape == (sc.run.weeks, 6), (model, arm, metric)
        for metric in ("jobs", "earnings"):  # the last week's mean is the horizon's mean
            last = figures["bands"][metric][-1, 5]
            assert last == pytest.approx(figures[metric].mean(), rel=1e-9), (model, metric)
    assert stats.keys() == engine_stats.keys() == {"kept", "excluded"}
    for arm, figures in stats.items():
        assert set(figures) >= {"jobs", "earnings"}
        for metric in SIGNALS:
            theirs = engine_stats[arm][metric]
            figures[metric] = [out[arm]["bands"][metric][-1, 5], theirs[1], PATHS[model]]
        for fig, ours in figures.items():
            z = compare.z_score(ours, engine_stats[arm][fig])
            assert abs(z) < compare.Z_MAX, (model, arm, fig, ours[0], engine_stats[arm][fig][0])
    # the rule matters: excluding the retaliatory rating wins clearly more work
    assert stats["excluded"]["jobs_difference"][0] > 3.0


# week 0 is the same on every path (nothing won yet): each model's win probability must be the
# engine's, to the 1e-4 numba records it in. The defaults test the experience term (five-star-
# equivalent reviews); a bonus for the top JSS band tests the band clients judge when no JSS is
# shown (excluded: one 5-star feedback implies 100) and a Rising Talent bonus the badge.
WEEK0_HIRING = [{}, {"b_jss": [0.5, -0.3, -0.6, -1.0], "b_rising_talent": 0.2}]


@pytest.mark.parametrize("hiring", WEEK0_HIRING, ids=["defaults", "top-band-bonus"])
@pytest.mark.parametrize("model", ["numba", "mesa"])
def test_model_week_zero_win_probability_is_the_engines(model, hiring):
    if os.environ.get("REPSIM_REQUIRE_BENCH") == "1":
        __import__(compare.NEEDS[model])
    else:
        pytest.importorskip(compare.NEEDS[model])
    module = __import__(f"{model}_model")
    data = reference_data()
    data["run"] = {**data["run"], "weeks": 3}
    data["hiring"] = hiring
    sc = sim.Scenario.model_validate(data)
    res = sim.run(sc, paths=16)
    out = module.run(sc, 16, seed=7)
    for arm in res.arms:
        engine = res.bands(arm, "win_prob")["mean"][0]
        ours = out[arm]["bands"]["win_prob"][0]
        assert ours == pytest.approx(np.full(6, engine), abs=0.51e-4), (model, arm)


def test_models_refuse_settings_they_do_not_implement():
    from bench_inputs import model_inputs, unsupported

    data = reference_data()
    data["arms"].append({"name": "whitby", "rule": "whitby"})
    data["signals"] = {"aggregator": "median"}
    data["arms"][1]["scope"] = "jss"  # exclude_flagged from the JSS only
    sc = sim.Scenario.model_validate(data)
    assert len(unsupported(sc)) == 5  # one rule, one scope, three arms' aggregator
    with pytest.raises(NotImplementedError, match="whitby"):
        model_inputs(sc)
    with pytest.raises(NotImplementedError, match="arm excluded: scope jss"):
        model_inputs(sc)


def test_compare_quick_writes_the_issue_schema(tmp_path: Path, monkeypatch):
    # the --quick code path end to end (child processes included) at smaller sizes
    sizes = {"engine": (512, 1), "numba": (512, 1), "mesa": (64, 1), "python": (8, 1)}
    monkeypatch.setitem(compare.SIZES, "quick", sizes | {"oracle": (4, 1)})
    out, md = tmp_path / "bench.json", tmp_path / "bench.md"
    compare.main(["--quick", "--json", str(out), "--write", str(md)])
    r = json.loads(out.read_text())
    assert r["engine"]["path_weeks_per_s"] > 0
    assert set(r["vs"]) == {"mesa", "python", "numba", "numba2"}
    assert set(r["memory"]) >= {"engine", "python", "oracle"}
    for model, ratio in r["vs"].items():
        installed = compare.missing(model) is None
        assert (isinstance(ratio, float) and ratio > 0) if installed else ratio is None
        if installed and model != "numba2":
            assert r["memory"][model]["peak_mib"] > 0
        if installed:  # side by side: a ratio per round, the median inside their range
            t = r["timing"]["models"][model]
            assert len(t["seconds"]) == r["timing"]["rounds"]
            assert t["ratio_min"] <= t["ratio"] <= t["ratio_max"]
    assert r["runs"]["oracle"]["identical_paths"] == 4  # the scalar reference, path by path
    assert r["agreement"]["checks"] and all("z" in c for c in r["agreement"]["checks"])
    assert "| repsim engine" in md.read_text()


# the competent baselines are the first loops made fast, not new models: on the same random
# numbers they give the first loops' results to the bit
def _require(model: str) -> None:
    if os.environ.get("REPSIM_REQUIRE_BENCH") == "1":
        __import__(compare.NEEDS[model])
    else:
        pytest.importorskip(compare.NEEDS[model])


@pytest.mark.parametrize("threads", [1, 2])
def test_competent_numba_loop_is_the_first_loop_to_the_bit(threads):
    _require("numba")
    import numba_model
    from bench_inputs import model_inputs

    m = model_inputs(sim.load_scenario(compare.REFERENCE))
    fast = numba_model.simulate_blocks(m, 600, 11, threads)
    first = numba_model.simulate_blocks(m, 600, 11, threads, kernel=numba_model.simulate_rescan)
    assert np.array_equal(fast[0], first[0]) and np.array_equal(fast[1], first[1])
    assert all(np.array_equal(a, b) for a, b in zip(fast[2], first[2], strict=True))
    assert fast[2][0].sum() == 600 * m.weeks * len(m.arms)  # every path-week counted once


def test_plain_python_loop_is_the_numba_loop_on_its_random_numbers():
    _require("numba")
    import numba_model
    import python_model
    from bench_inputs import model_inputs

    m = model_inputs(sim.load_scenario(compare.REFERENCE))
    ours = python_model.simulate(m, 40, np.random.default_rng(5).random)
    theirs = numba_model.simulate(40, np.random.default_rng(5), *numba_model.pack(m))
    assert np.array_equal(np.array(ours[0]), theirs[0])
    assert np.array_equal(np.array(ours[1]), theirs[1])
    assert all(np.array_equal(np.array(a), b) for a, b in zip(ours[2], theirs[2], strict=True))


def test_expert_mesa_model_is_the_idiomatic_one_to_the_bit():
    _require("mesa")
    import mesa_model

    sc = sim.load_scenario(compare.REFERENCE)
    expert = mesa_model.run(sc, 60, seed=4)
    idiomatic = mesa_model.run_idiomatic(sc, 60, seed=4)
    for arm, figures in idiomatic.items():
        for metric in ("jobs", "earnings"):
            assert np.array_equal(expert[arm][metric], figures[metric]), (arm, metric)
        for metric in ("win_prob", "jobs", "active"):  # means: the same values per week
            mine, theirs = expert[arm]["bands"][metric][:, 5], figures["bands"][metric][:, 5]
            assert np.allclose(mine, theirs, rtol=1e-12, atol=0), (arm, metric)
