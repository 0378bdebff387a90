"""The engine's promises: common random numbers, determinism, chunking, and the reference case."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import reference_data, small
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import sim
from sim import engine


def test_identical_arms_give_exactly_zero_difference():
    data = reference_data()
    data["arms"] = [
        {"name": "kept", "rule": "keep"},
        {"name": "kept again", "rule": "keep"},
        {"name": "never due", "rule": "exclude_flagged", "delay_weeks": 500},
    ]
    sc = small(data, paths=700, weeks=52)
    res = sim.run(sc)
    for arm in ("kept again", "never due"):
        for metric in ("jobs", "earnings", "stars", "win_prob", "active"):
            d = res.paired(arm, metric)
            assert np.array_equal(d[~np.isnan(d)], np.zeros(np.sum(~np.isnan(d))))
        assert res.difference(arm, "earnings")["mean"] == 0.0
    traj = engine.trajectories(sc)
    for metric, a in traj["kept"].items():
        np.testing.assert_array_equal(a, traj["kept again"][metric], err_msg=metric)


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float32, (10, 6), elements=st.floats(0, 1, width=32, exclude_max=True)),
    arrays(np.float64, 6, elements=st.floats(0, 1)),
    arrays(np.float64, 6, elements=st.floats(0, 1)),
)
def test_slot_wins_are_monotone_in_win_probability(u, q1, q2):
    hi, lo = np.maximum(q1, q2), np.minimum(q1, q2)
    won_hi, won_lo = engine.slot_wins(u, hi), engine.slot_wins(u, lo)
    assert not np.any(won_lo & ~won_hi)  # the higher q wins every slot the lower q wins


@settings(max_examples=300, deadline=None)
@given(
    arrays(np.float32, 50, elements=st.floats(0, 1, width=32, exclude_max=True)),
    arrays(np.float64, 50, elements=st.floats(0, 1)),
)
def test_float32_threshold_gives_exactly_the_float64_comparison(u, q):
    """The engine compares float32 uniforms with float32_ceiling(q): the same wins as u < q in
    float64, including uniforms and probabilities one float32 step apart."""
    near = np.nextafter(q.astype(np.float32), (q < 0.5).astype(np.float32))  # one step inward
    for probs in (q, near.astype(np.float64), u.astype(np.float64)):
        np.testing.assert_array_equal(u < engine.float32_ceiling(probs), u < probs)
        shifted = np.nextafter(u, np.float32(1))  # the float32 just above each uniform
        np.testing.assert_array_equal(
            shifted < engine.float32_ceiling(probs), shifted.astype(np.float64) < probs
        )


@settings(max_examples=200, deadline=None)
@given(arrays(np.int64, st.integers(1, 60), elements=st.integers(0, 6)))
def test_arrival_rounds_keep_each_paths_order_and_never_repeat_a_path(idx):
    rounds = engine.arrival_rounds(idx)
    flat = np.concatenate(rounds)
    assert sorted(flat.tolist()) == list(range(idx.size))  # every arrival exactly once
    for r in rounds:
        assert np.unique(idx[r]).size == r.size  # a path at most once per round
    round_of = {int(pos): k for k, r in enumerate(rounds) for pos in r}
    for path in np.unique(idx):
        positions = np.flatnonzero(idx == path)  # in arrival order
        assert [round_of[int(p)] for p in positions] == list(range(positions.size))


def test_stacked_arms_give_what_each_arm_gives_alone():
    """keep and exclude_flagged arms share one kernel, a row per (arm, path): each arm's paths
    must be those it has when run alone."""
    data = reference_data()
    data["arms"] = [
        {"name": "kept", "rule": "keep"},
        {"name": "excluded", "rule": "exclude_flagged", "delay_weeks": 3},
        {"name": "harsh", "rule": "flagged_client"},
    ]
    together = small(data, paths=300, weeks=40)
    assert [[a.name for a in g] for g in engine.kernel_groups(together)] == [
        ["kept", "excluded"],
        ["harsh"],
    ]
    stacked = engine.trajectories(together)
    for arm in together.arms:
        alone = engine.trajectories(together.model_copy(update={"arms": (arm,)}))
        for metric, values in alone[arm.name].items():
            np.testing.assert_array_equal(values, stacked[arm.name][metric], err_msg=metric)


def test_shared_proposals_are_monotone_end_to_end():
    """Where both arms send proposals on the same path and week, every slot the arm with the lower
    win probability wins is won by the other too (the engine's recorded wins, and slot by slot)."""
    sc = small(paths=600, weeks=60)
    tr = engine.trajectories(sc)
    u = engine.Draws(engine.make_plan(sc), 0, sc.run.paths).proposal_u  # (weeks, slots, paths)
    k, e = tr["kept"], tr["excluded"]
    both = (k["wins"] >= 0) & (e["wins"] >= 0)
    assert both.sum() > 1000
    for hi, lo in ((e, k), (k, e)):
        pairs = both & (hi["win_prob"] >= lo["win_prob"])
        assert np.all(hi["wins"][pairs] >= lo["wins"][pairs])
        t, p = np.nonzero(pairs)
        slots = u[t, :, p].T  # (slots, path-weeks)
        won_hi = engine.slot_wins(slots, hi["win_prob"][t, p])
        won_lo = engine.slot_wins(slots, lo["win_prob"][t, p])
        assert not np.any(won_lo & ~won_hi)
        np.testing.assert_array_equal(won_hi.sum(axis=0), hi["wins"][t, p])  # these very uniforms


def test_same_seed_same_results_other_seed_different():
    sc = small(paths=400, weeks=30)
    a, b = sim.run(sc).summary(), sim.run(sc).summary()
    assert a == b
    c = sim.run(sc, seed=sc.run.seed + 1).summary()
    assert c["differences"] != a["differences"]


def test_results_do_not_depend_on_chunk_size():
    data = reference_data()
    data["arms"].append({"name": "window", "rule": "window", "last_n": 4})
    one = small(data, paths=1000, weeks=30, chunk_paths=256)
    many = small(data, paths=1000, weeks=30, chunk_paths=8192)
    ra, rb = sim.run(one), sim.run(many)
    sa, sb = ra.summary(), rb.summary()
    sa.pop("scenario_sha256"), sb.pop("scenario_sha256")
    assert sa == sb
    for arm in ra.arms:
        for m in ("stars", "jss", "win_prob", "earnings", "top_rated"):
            for key, band in ra.bands(arm, m).items():
                np.testing.assert_array_equal(band, rb.bands(arm, m)[key], err_msg=f"{arm} {m}")


def test_bands_are_inverted_cdf_quantiles_of_the_paths():
    sc = small(paths=500, weeks=20)
    res, tr = sim.run(sc), engine.trajectories(sc)
    for arm in res.arms:
        for metric in ("stars", "jss", "jobs", "earnings", "active"):
            x = tr[arm][metric]
            b = res.bands(arm, metric)
            for t in (0, 7, 19):
                col = x[t][~np.isnan(x[t])]
                if col.size == 0:
                    assert np.isnan(b["q50"][t])
                    continue
                for q, key in ((0.05, "q05"), (0.5, "q50"), (0.95, "q95")):
                    want = np.quantile(col, q, method="inverted_cdf")
                    assert b[key][t] == pytest.approx(want, abs=1e-9), (arm, metric, t, key)
                assert b["mean"][t] == pytest.approx(col.mean(), rel=1e-12, abs=1e-9)


def test_reference_case_week_zero():
    res = sim.run(small(paths=300, weeks=10))
    assert res.bands("kept", "stars")["q50"][0] == pytest.approx(4.2)
    assert res.bands("excluded", "stars")["q50"][0] == pytest.approx(5.0)
    assert res.bands("kept", "jss")["q50"][0] == 0.0
    assert np.isnan(res.bands("excluded", "jss")["q50"][0])  # no JSS yet
    assert res.bands("excluded", "rising_talent")["mean"][0] == 1.0
    assert res.bands("kept", "rising_talent")["mean"][0] == 0.0


def test_excluding_the_rating_wins_more_work_with_an_interval_above_zero():
    res = sim.run(small(paths=3000, weeks=104))
    for metric in ("jobs", "earnings"):
        d = res.difference("excluded", metric)
        assert d["ci90"][0] > 0, metric
    rec = res.recovery_summary("excluded")
    assert 0 < rec["share_not_recovered"] < 1


def test_harsher_feedback_costs_more():
    def cost(score: float) -> float:
        data = reference_data()
        data["history"][1].pop("criteria")
        data["history"][1]["stars"] = score
        return sim.run(small(data, paths=3000, weeks=52)).difference("excluded", "earnings")["mean"]

    assert cost(2.0) > cost(3.4) > cost(4.4) >= 0


def test_support_queue_delay_costs_between_none_and_immediate():
    data = reference_data()
    data["arms"] = [
        {"name": "kept", "rule": "keep"},
        {"name": "late", "rule": "exclude_flagged", "delay_weeks": 6},
        {"name": "at once", "rule": "exclude_flagged", "delay_weeks": 0},
    ]
    res = sim.run(small(data, paths=3000, weeks=52))
    late = res.difference("late", "earnings")["mean"]
    now = res.difference("at once", "earnings")["mean"]
    assert 0 < late < now


def test_active_never_exceeds_capacity_and_jobs_never_fall():
    data = reference_data()
    data["freelancer"]["capacity"] = 3
    tr = engine.trajectories(small(data, paths=300, weeks=60))
    for arm in tr.values():
        assert arm["active"].max() <= 3
        assert np.all(np.diff(arm["jobs"], axis=0) >= 0)
        assert np.all(np.diff(arm["earnings"], axis=0) >= 0)


def test_summary_has_the_design_schema(reference):
    s = sim.run(reference, paths=300, weeks=20).summary()
    assert s["reference"] == "kept" and s["paths"] == 300 and s["weeks"] == 20
    assert set(s["arms"]["kept"]["final"]) >= {"stars", "jss", "win_prob", "active", "jobs"}
    d = s["differences"]["excluded"]
    assert set(d) == {"jobs", "earnings", "weeks_to_recover"}
    assert set(d["jobs"]) == {"mean", "ci90", "p05", "p95", "futures90", "assumptions90"}
    assert set(d["weeks_to_recover"]) == {
        "median",
        "share_not_recovered",
        "assumptions90",
        "first",
    }
    assert set(d["weeks_to_recover"]["first"]) == {"median", "share_not_recovered", "assumptions90"}
    assert s["ratings_needed"]["kept"]["mean"] == {"4.8": 6.0, "4.9": 14.0, "4.95": 30.0}


def test_run_overrides_are_validated(reference):
    with pytest.raises(sim.ScenarioError, match=r"run\.paths"):
        sim.run(reference, paths=0)


def test_weeks_to_recover_counts_from_the_first_shortfall():
    from sim.recovery import weeks_to_recover

    ref = np.array([[1.0, 1.0, 1.0], [1.0, 0.5, 0.5], [1.0, 0.5, 0.5], [1.0, 1.0, 0.5]])
    arm = np.ones_like(ref)
    # path 0 never short: 0; path 1 short from week 1, back at week 3; path 2 never back: -1
    np.testing.assert_array_equal(weeks_to_recover(ref, arm)[0], [0, 3, -1])


def test_lasting_recovery_waits_for_the_last_shortfall():
    """Finding 5 of issue 11: a path back for a week and short again has not recovered."""
    from sim.recovery import weeks_to_recover

    # weeks down, paths across: never short; short, back, short, back for good; back at week 2
    # then short in the last week (never lasting); short only in week 0 (a late rule)
    ref = np.array(
        [
            [1.0, 0.5, 1.0, 0.5],
            [1.0, 1.0, 0.5, 1.0],
            [1.0, 0.5, 1.0, 1.0],
            [1.0, 1.0, 1.0, 1.0],
            [1.0, 1.0, 0.5, 1.0],
        ]
    )
    first, lasting = weeks_to_recover(ref, np.ones_like(ref))
    np.testing.assert_array_equal(first, [0, 1, 2, 1])
    np.testing.assert_array_equal(lasting, [0, 3, -1, 1])
    assert np.all((lasting == -1) | (first == -1) | (lasting >= first))


def test_lasting_recovery_is_never_sooner_than_the_first(reference):
    res = sim.run(reference, paths=1000, weeks=104)
    first = res.weeks_to_recover("excluded", lasting=False)
    lasting = res.weeks_to_recover("excluded")
    assert np.all(lasting[first == -1] == -1)
    both = (first >= 0) & (lasting >= 0)
    assert np.all(lasting[both] >= first[both])
    rec = res.recovery_summary("excluded")
    assert rec["share_not_recovered"] >= rec["first"]["share_not_recovered"]


def test_a_late_exclusion_still_shows_a_recovery_time():
    data = reference_data()
    data["arms"] = [
        {"name": "kept", "rule": "keep"},
        {"name": "late", "rule": "exclude_flagged", "delay_weeks": 6},
    ]
    rec = sim.run(small(data, paths=2000, weeks=104)).recovery_summary("late")
    assert rec["median"] is None or rec["median"] > 6
    assert rec["share_not_recovered"] > 0


def test_chunks_on_a_process_pool_give_the_serial_result_exactly():
    from concurrent.futures import ProcessPoolExecutor

    sc = small(paths=1200, weeks=30)
    serial = sim.run(sc)
    with ProcessPoolExecutor(2) as pool:
        parallel = sim.run(sc, executor=pool, chunk_paths=512)
    assert parallel.summary() == serial.summary()
    for arm in serial.arms:
        for m in ("stars", "jss", "win_prob", "earnings", "rising_talent"):
            for key, band in serial.bands(arm, m).items():
                np.testing.assert_array_equal(band, parallel.bands(arm, m)[key])
        for lasting in (True, False):
            np.testing.assert_array_equal(
                serial.weeks_to_recover(arm, lasting), parallel.weeks_to_recover(arm, lasting)
            )
        np.testing.assert_array_equal(serial.paired(arm, "stars"), parallel.paired(arm, "stars"))


def test_chunk_paths_override_must_be_a_multiple_of_the_block():
    with pytest.raises(ValueError, match="chunk_paths: must be a positive multiple of 256"):
        sim.run(small(paths=300, weeks=5), chunk_paths=300)


def test_a_lower_bound_below_one_star_is_shown_as_one_star_not_as_none():
    data = reference_data()
    data["signals"] = {"aggregator": "star_lower_bound", "z": 5.0}
    res = sim.run(small(data, paths=300, weeks=10))
    for arm in res.arms:
        assert res.bands(arm, "stars")["q50"][0] == 1.0


ARM_STRATEGY = st.one_of(
    st.builds(lambda: {"rule": "keep"}),
    st.builds(lambda d: {"rule": "exclude_flagged", "delay_weeks": d}, st.integers(0, 20)),
    st.builds(
        lambda t, m: {"rule": "flagged_client", "threshold": t, "min_ratings": m},
        st.floats(1, 5),
        st.integers(1, 10),
    ),
    st.builds(
        lambda p, d: {"rule": "suspended_client", "probability": p, "delay_weeks": d},
        st.floats(0, 1),
        st.integers(0, 30),
    ),
    st.builds(lambda q: {"rule": "whitby", "q": q}, st.floats(0.001, 0.4)),
    st.builds(lambda n: {"rule": "window", "last_n": n}, st.integers(1, 20)),
    st.builds(lambda w: {"rule": "window", "last_weeks": w}, st.integers(1, 30)),
)


@settings(max_examples=40, deadline=None)
@given(
    arm=ARM_STRATEGY,
    aggregator=st.sampled_from(
        ["mean", "median", "bayesian", "beta", "wilson", "star_lower_bound"]
    ),
    capacity=st.integers(1, 10),
    proposals=st.integers(0, 100),
    delay=st.integers(0, 4),
    windows=st.lists(st.integers(1, 30), min_size=1, max_size=3),
    weeks=st.integers(1, 40),
    suspension=st.floats(0, 1),
)
def test_any_valid_scenario_runs_and_keeps_its_invariants(
    arm, aggregator, capacity, proposals, delay, windows, weeks, suspension
):
    data = reference_data()
    data["freelancer"].update(capacity=capacity, proposals_per_week=proposals)
    data["signals"] = {"aggregator": aggregator, "feedback_delay_weeks": delay}
    data["jss"] = {"windows": windows, "trending": windows[:1]}
    data["market"] = {"field_size": 64, "client_suspension_rate": suspension}
    data["arms"] = [
        {"name": "kept", "rule": "keep"},
        {"name": "arm", **arm},
        {"name": "same", **arm},
    ]
    sc = small(data, paths=256, weeks=weeks)
    tr = engine.trajectories(sc)
    for a in tr.values():
        assert a["active"].max() <= capacity
        assert np.all(np.diff(a["jobs"], axis=0) >= 0)
        stars = a["stars"][~np.isnan(a["stars"])]
        assert np.all((stars >= 1) & (stars <= 5))
    for metric, values in tr["arm"].items():  # identical rules: identical futures
        np.testing.assert_array_equal(values, tr["same"][metric], err_msg=metric)


def test_week_zero_draws_one_week_of_random_numbers_and_gives_the_full_horizons_week_zero(
    monkeypatch,
):
    data = reference_data()
    data["hiring"] = {"known_win_rate": 0.05}  # the intercept is solved from week 0's utility
    sc = sim.Scenario.model_validate(data)
    full = engine.make_plan(sc)
    # the week-0 utility as the full horizon's kernel computes it
    kernel = engine.ArmKernel(
        full, [sc.arms[0]], engine.Draws(full, 0, 1), engine.cached_market(sc)
    )
    kernel.start_week(0)
    kernel.signals(0)
    assert engine.today_utility(full, engine.cached_market(sc)) == float(kernel.v[0])
    weeks_drawn = []
    draws = engine.Draws

    def spy(plan, first, n):
        weeks_drawn.append(plan.weeks)
        return draws(plan, first, n)

    monkeypatch.setattr(engine, "Draws", spy)
    today = engine.signals_today(sc)
    assert weeks_drawn and set(weeks_drawn) == {1}  # not sc.run.weeks of uniforms per arm
    one_week = sc.model_copy(update={"run": sc.run.model_copy(update={"weeks": 1})})
    again = engine.signals_today(one_week)
    for a, b in zip(today, again, strict=True):
        mine = np.array([a.stars, a.jss, a.badge, a.utility, a.win_prob])
        theirs = np.array([b.stars, b.jss, b.badge, b.utility, b.win_prob])
        assert np.array_equal(mine, theirs, equal_nan=True)
