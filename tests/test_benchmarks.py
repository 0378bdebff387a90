"""The benchmark models agree with the engine, and the comparison writes the issue's JSON."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, reference_data

import sim

sys.path.insert(0, str(ROOT / "benchmarks"))
import compare
from bench_inputs import WEEKLY

PATHS = 400


@pytest.fixture(scope="module")
def engine_stats() -> dict[str, Any]:
    sc = sim.load_scenario(compare.REFERENCE)
    res = sim.run(sc, paths=4096)
    return compare.sample_stats({a: res.final[a] for a in res.arms})


@pytest.mark.parametrize("model", ["numba", "mesa"])
def test_model_agrees_with_engine_within_sampling_error(model, engine_stats):
    if os.environ.get("REPSIM_REQUIRE_BENCH") == "1":  # .ci/run: mesa and numba must be there
        __import__(compare.NEEDS[model])
    else:
        pytest.importorskip(compare.NEEDS[model])
    module = __import__(f"{model}_model")
    sc = sim.load_scenario(compare.REFERENCE)
    out = module.run(sc, PATHS, seed=7)
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
        for fig, ours in figures.items():
            z = compare.z_score(ours, engine_stats[arm][fig])
            assert abs(z) < compare.Z_MAX, (model, arm, fig, ours[0], engine_stats[arm][fig][0])
    # the rule matters: excluding the retaliatory rating wins clearly more work
    assert stats["excluded"]["jobs_difference"][0] > 3.0


def test_models_refuse_settings_they_do_not_implement():
    from bench_inputs import model_inputs, unsupported

    data = reference_data()
    data["arms"].append({"name": "whitby", "rule": "whitby"})
    data["signals"] = {"aggregator": "median"}
    sc = sim.Scenario.model_validate(data)
    assert len(unsupported(sc)) == 4  # one rule, three arms' aggregator
    with pytest.raises(NotImplementedError, match="whitby"):
        model_inputs(sc)


def test_compare_quick_writes_the_issue_schema(tmp_path: Path, monkeypatch):
    # the --quick code path end to end (child processes included) at smaller sizes
    sizes = {"engine": (512, 1), "numba": (512, 1), "mesa": (64, 1), "python": (4, 1)}
    monkeypatch.setitem(compare.SIZES, "quick", sizes)
    out, md = tmp_path / "bench.json", tmp_path / "bench.md"
    compare.main(["--quick", "--json", str(out), "--write", str(md)])
    r = json.loads(out.read_text())
    assert r["engine"]["path_weeks_per_s"] > 0
    assert set(r["vs"]) == {"mesa", "python", "numba"}
    assert set(r["memory"]) >= {"engine", "python"}
    for model, ratio in r["vs"].items():
        installed = compare.missing(model) is None
        assert (isinstance(ratio, float) and ratio > 0) if installed else ratio is None
        if installed:
            assert r["memory"][model]["peak_mib"] > 0
    assert r["runs"]["python"]["identical_paths"] == 4  # the scalar reference, path by path
    assert r["agreement"]["checks"] and all("z" in c for c in r["agreement"]["checks"])
    assert "| repsim engine" in md.read_text()
