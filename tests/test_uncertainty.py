"""Assumption uncertainty inside the run: the design, common random numbers across arms, the
three figures per headline, and the files and controls that show them."""

from __future__ import annotations

import csv
import io
import json
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
from helpers import REFERENCE, reference_data, repsim, small
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from app import controls, files, results
from sim import design, engine
from sim.assumptions import default_value, ranges, varied
from sim.draws import BLOCK
from sim.market import _sigmoid


def uncertain(data: dict | None = None, paths: int = 768, weeks: int = 40, **unc) -> sim.Scenario:
    data = reference_data() if data is None else data
    data["uncertainty"] = {"on": True, **unc}
    return small(data, paths=paths, weeks=weeks)


def zero_width(sc: sim.Scenario) -> dict[str, tuple[float, float]]:
    """Every varied assumption's range narrowed to the scenario's own value."""
    return {a.key: (default_value(sc, a.key),) * 2 for a in varied()}


def test_the_engine_varies_exactly_the_flagged_assumptions():
    assert {a.key for a in varied()} == set(design.APPLIED)
    d = design.make_design(uncertain())
    assert d.keys == tuple(a.key for a in varied()) and d.points == 32


def test_the_design_fills_every_range():
    sc = uncertain()
    d = design.make_design(sc)
    bounds = ranges(sc)
    for key in d.keys:
        low, high = bounds[key]
        values = d.value(key)
        assert values.min() >= low and values.max() <= high, key
        if key in ("freelancer.capacity", "freelancer.proposals_per_week", "market.competitors"):
            assert np.array_equal(values, np.floor(values)), key
        if key == "freelancer.capacity":
            assert set(values) == {1, 2, 3}
        else:  # 32 Sobol points: every eighth of the range holds a point
            cells = np.floor((values - low) / (high - low) * 8).clip(0, 7)
            assert len(set(cells)) == 8, key
    # the five-star share moves the others in proportion; the quality still sums to one
    five = d.value("freelancer.quality")
    edges = d.star_edges
    assert np.allclose(1.0 - edges[:, 3], five)


@pytest.mark.parametrize("chunk", [256, 512])
def test_a_path_takes_its_blocks_design_point_in_every_arm(chunk):
    data = reference_data()
    data["arms"] = [
        {"name": "kept", "rule": "keep"},
        {"name": "excluded", "rule": "exclude_flagged"},
        {"name": "window", "rule": "window", "last_n": 1000},  # a kernel of its own
    ]
    sc = uncertain(data, paths=1000)
    plan = engine.make_plan(sc)
    market = engine.market_for(plan)
    k = plan.design.points
    for first, n in engine.iter_chunks(sc.run.paths, chunk):
        draws = engine.chunk_draws(plan, first, n)
        expected = ((first + np.arange(n)) // BLOCK) % k
        np.testing.assert_array_equal(draws.point, expected)
        kernels = [engine.ArmKernel(plan, arms, draws, market) for arms in engine.kernel_groups(sc)]
        assert len(kernels) == 2  # kept and excluded stacked, the window alone
        for kernel in kernels:
            for a in range(len(kernel.arms)):
                rows = slice(a * n, (a + 1) * n)
                np.testing.assert_array_equal(kernel.point[rows], expected)
                np.testing.assert_array_equal(kernel.cap[rows], plan.design.capacity[expected])
                for name, c in kernel.row_coef.items():
                    np.testing.assert_array_equal(c[rows], plan.design.coef[name][expected])


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32), points=st.sampled_from([2, 4, 32]))
def test_identical_arms_give_exactly_zero_with_uncertainty_on(seed, points):
    data = reference_data()
    data["run"] = {"seed": seed}
    data["arms"] = [
        {"name": "kept", "rule": "keep"},
        {"name": "kept again", "rule": "keep"},
        {"name": "never due", "rule": "exclude_flagged", "delay_weeks": 500},
        {"name": "all in the window", "rule": "window", "last_n": 1000},
    ]
    sc = uncertain(data, paths=600, weeks=30, points=points)
    res = sim.run(sc)
    for arm in res.arms[1:]:
        for metric in ("jobs", "earnings", "stars", "jss", "win_prob", "active"):
            d = res.paired(arm, metric)
            assert np.array_equal(d[~np.isnan(d)], np.zeros(np.sum(~np.isnan(d)))), (arm, metric)
        assert res.difference(arm, "earnings")["mean"] == 0.0
        assert np.array_equal(res.weeks_to_recover(arm), np.zeros(sc.run.paths))


def test_the_draw_changes_the_futures_from_block_to_block():
    """Not a no-op: blocks at different design points differ, and differ from the fixed run."""
    sc = uncertain(paths=1024, weeks=30)
    on = engine.trajectories(sc)["kept"]
    off = engine.trajectories(sc.model_copy(update={"uncertainty": sim.Scenario().uncertainty}))
    jobs = on["jobs"][-1]
    block_means = jobs.reshape(4, BLOCK).mean(axis=1)
    assert len(set(block_means)) == 4
    assert not np.array_equal(on["win_prob"], off["kept"]["win_prob"])


def test_a_range_of_width_zero_reproduces_the_fixed_run_bit_for_bit():
    fixed = small(paths=600, weeks=52)
    data = fixed.model_dump()
    data["uncertainty"] = {"on": True, "ranges": zero_width(fixed)}
    drawn = sim.Scenario.model_validate(data)
    a, b = engine.trajectories(fixed), engine.trajectories(drawn)
    for arm in a:
        for metric in a[arm]:
            np.testing.assert_array_equal(a[arm][metric], b[arm][metric], err_msg=metric)
    ra, rb = sim.run(fixed), sim.run(drawn)
    sa, sb = ra.summary(), rb.summary()
    assert sa["arms"] == sb["arms"] and sa["market"] == sb["market"]
    for arm in ra.arms[1:]:
        for metric in ("jobs", "earnings", "win_prob"):
            np.testing.assert_array_equal(ra.paired(arm, metric), rb.paired(arm, metric))
        for key in ("mean", "p05", "p95"):  # the interval and futures range are per design point
            assert (
                sa["differences"][arm]["earnings"][key] == sb["differences"][arm]["earnings"][key]
            )
        rec_a, rec_b = (s["differences"][arm]["weeks_to_recover"] for s in (sa, sb))
        for rec in (rec_a, rec_b, rec_a["first"], rec_b["first"]):
            rec.pop("assumptions90")  # per design point, like the interval
        assert rec_a == rec_b


def test_same_seed_same_bytes_and_another_seed_another_design():
    sc = uncertain(paths=600, weeks=30)
    one, two = sim.run(sc).summary(), sim.run(sc).summary()
    assert files.summary_json(one) == files.summary_json(two)
    other = sim.with_run(sc, seed=sc.run.seed + 1)
    assert not np.array_equal(design.make_design(sc).values, design.make_design(other).values)


def test_the_design_does_not_depend_on_chunks_or_executors():
    sc = uncertain(paths=1100, weeks=30)  # five blocks, the last one short
    base = sim.run(sc)
    runs = [sim.run(sc, chunk_paths=256), sim.run(sc, chunk_paths=768)]
    with ThreadPoolExecutor(2) as pool:
        runs.append(sim.run(sc, executor=pool, chunk_paths=512))
    with ProcessPoolExecutor(2) as pool:  # the design markets travel to the workers
        runs.append(sim.run(sc, executor=pool, chunk_paths=256))
    for res in runs:
        assert res.summary() == base.summary()
        for arm in base.arms:
            np.testing.assert_array_equal(res.paired(arm, "earnings"), base.paired(arm, "earnings"))
            np.testing.assert_array_equal(res.weeks_to_recover(arm), base.weeks_to_recover(arm))


def test_a_paths_futures_do_not_depend_on_how_many_paths_are_run():
    """A block's design point and its market are the same in a short run and a long one."""
    short, long = uncertain(paths=512, weeks=30), uncertain(paths=1280, weeks=30)
    a, b = engine.trajectories(short), engine.trajectories(long)
    for metric in ("jobs", "win_prob", "stars"):
        np.testing.assert_array_equal(a["excluded"][metric], b["excluded"][metric][:, :512])


@pytest.mark.parametrize(
    ("key", "span", "words"),
    [
        ("freelancer.capacity", [1, 50], "at most 10"),
        ("market.hire_share", [0, 0.5], "above 0"),
        ("market.contract_weeks", [0.5, 3], "at least 1"),
        ("freelancer.quality", [0.5, 1.2], "at most 1"),
    ],
)
def test_a_range_the_setting_cannot_take_is_refused_by_its_dotted_key(key, span, words):
    data = reference_data()
    data["uncertainty"] = {"on": True, "ranges": {key: span}}
    with pytest.raises(sim.ScenarioError) as e:
        sim.validate_scenario(data, "case.toml")
    [(source, where, message)] = e.value.problems
    assert (source, where) == ("case.toml", "uncertainty.ranges")
    assert key in message and words in message


def test_the_design_markets_tabulate_q_closely():
    rng = np.random.default_rng(5)
    log_den = np.stack([rng.normal(2.0, 1.5, 700), rng.normal(-1.0, 0.5, 700)])
    g0, g1, q = design._tabulate(log_den)
    for k in range(2):
        grid = np.linspace(g0[k], g1[k], q.shape[1])
        exact = np.mean(_sigmoid(grid[:, None] - log_den[k][None, :]), axis=1)
        assert np.max(np.abs(q[k] - exact)) < 2e-5
        assert np.all(np.diff(q[k]) >= 0)


def test_a_known_win_rate_holds_at_every_design_point():
    data = reference_data()
    data["hiring"] = {"known_win_rate": 0.08}
    sc = uncertain(data)
    plan = engine.make_plan(sc)
    markets = engine.market_for(plan)
    fixed = engine.make_plan(sc, uncertain=False)
    v_today = design.design_today_utility(fixed, plan)
    k = np.arange(-(-sc.run.paths // BLOCK))  # the points this run's blocks take
    np.testing.assert_allclose(markets.win_prob(v_today[k], k), 0.08, rtol=1e-3)
    assert len(set(markets.intercepts[k])) == k.size  # each point solves its own intercept


def test_the_reference_case_holds_three_nested_figures():
    sc = sim.load_scenario(REFERENCE)
    on = sc.model_copy(update={"uncertainty": sc.uncertainty.model_copy(update={"on": True})})
    summary = sim.run(on).summary()
    assert summary["uncertainty"]["on"] and summary["uncertainty"]["points"] == 32
    for metric in ("earnings", "jobs"):
        f = summary["differences"]["excluded"][metric]
        mc = f["ci90"][1] - f["ci90"][0]
        futures = f["futures90"][1] - f["futures90"][0]
        wide = f["assumptions90"][1] - f["assumptions90"][0]
        assert 0 < mc < futures < wide, (metric, mc, futures, wide)
        assert f["assumptions90"] == [f["p05"], f["p95"]]
    fixed = sim.run(sc).summary()["differences"]["excluded"]["earnings"]
    assert fixed["assumptions90"] is None and fixed["futures90"] == [fixed["p05"], fixed["p95"]]
    text = results.lead_sentence(summary, "excluded")
    assert "in 9 of 10 futures" in text and "plausible range of our assumptions" in text


def test_three_figures_from_hand_made_paths():
    points = np.repeat([0, 1], 100)
    d = np.concatenate([np.arange(100.0), np.arange(100.0) + 1000.0])
    f = sim.headlines.three_figures(d, points)
    assert f["futures90"] == [504.0, 594.0]  # each point's own 5-95%, averaged
    assert f["assumptions90"] == [f["p05"], f["p95"]] == [9.0, 1089.0]
    assert f["ci90"][1] - f["ci90"][0] == pytest.approx(2 * 1.6448536269514722 * 500.0)  # clusters


def test_rounded_to_what_the_figures_support():
    assert results.supported(15225.048, 163.8) == 15200
    assert results.supported(13353.3, 1985.7) == 13000
    assert results.two_figures(34200.0) == 34000 and results.two_figures(1440.0) == 1400
    assert results.two_figures(-367.0) == -370


def test_the_dashboard_draws_the_assumptions_unless_told_not_to():
    sc = sim.load_scenario(REFERENCE)
    assert not sc.uncertainty.on  # off in scenario files
    assert controls.build_scenario(sc, {}).uncertainty.on
    assert controls.build_scenario(sc, {"run.paths": 500}).uncertainty.on
    assert not controls.build_scenario(sc, {"uncertainty": "off"}).uncertainty.on
    assert controls.defaults(sc)["uncertainty"] == "on"


def test_points_must_be_a_power_of_two():
    data = reference_data()
    data["uncertainty"] = {"on": True, "points": 24}
    with pytest.raises(sim.ScenarioError) as e:
        sim.validate_scenario(data, "case.toml")
    assert any(
        key == "uncertainty.points" and "power of two" in msg for _, key, msg in e.value.problems
    )


def test_repsim_run_uncertainty_writes_the_three_figures(tmp_path):
    out = tmp_path / "out"
    args = ("run", str(REFERENCE), "--paths", "512", "--weeks", "20", "--formats", "json")
    done = repsim(*args, "--uncertainty", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "over futures and assumptions:" in done.stdout
    rows = list(csv.DictReader(io.StringIO((out / "headlines.csv").read_text())))
    assert [r["metric"] for r in rows] == ["jobs", "earnings"]
    assert all(r["assumptions90_low"] != "" for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["uncertainty"]["on"] is True
    assert "on = true" in (out / "scenario.toml").read_text()
    fixed = repsim(*args, "--out", str(tmp_path / "fixed"), cwd=tmp_path)
    assert "not drawn (run with --uncertainty)" in fixed.stdout
    rows = list(csv.DictReader(io.StringIO((tmp_path / "fixed" / "headlines.csv").read_text())))
    assert all(r["assumptions90_low"] == "" for r in rows)


def test_recovery_figures_give_each_design_points_median_and_share_range() -> None:
    """The recovery's range over the assumptions is the 5-95% range of each design point's own
    median week and share not back, worked by hand; None with fixed assumptions."""
    from sim.headlines import recovery_figures

    # 20 points of 10 paths: point k recovers in week k on 6 paths, never (-1) on 4
    w = np.concatenate([np.array([k] * 6 + [-1] * 4) for k in range(20)])
    points = np.repeat(np.arange(20), 10)
    fixed = recovery_figures(w, None)
    assert fixed["assumptions90"] is None
    assert fixed["share_not_recovered"] == 0.4
    drawn = recovery_figures(w, points)
    # each point's median (inverted cdf over 10 paths: the 5th smallest) is week k; the 5-95%
    # range over 20 points (inverted cdf): the 1st and the 19th smallest
    assert drawn["assumptions90"]["median"] == [0.0, 18.0]
    assert drawn["assumptions90"]["share_not_recovered"] == [0.4, 0.4]
    # a point whose futures mostly never recover has no median: its end reads None
    w[points == 19] = -1
    w[points == 18] = -1
    assert recovery_figures(w, points)["assumptions90"]["median"] == [0.0, None]
