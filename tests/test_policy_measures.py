"""The policy lab's measures (sim/policy_measures.py) on hand-made runs with known answers."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

import sim
from sim.headlines import Z90, three_figures
from sim.policy_measures import (
    BOOTSTRAP_SPAWN_KEY,
    clusters_of,
    measures,
    ratio_interval,
    spearman_interval,
    t_quantile,
)
from sim.policy_types import ArmOutcome, PolicyRun

BLOCK = 256


def outcome(n: int, **given: np.ndarray) -> ArmOutcome:
    """An arm's outcome on n paths: nothing happened, except what is given."""
    base = {
        "earnings": np.zeros(n),
        "jobs": np.zeros(n, np.int64),
        "stars": np.full(n, np.nan),
        "jss": np.full(n, np.nan),
        "unfair_lows": np.zeros(n, np.int64),
        "unfair_stopped": np.zeros(n, np.int64),
        "unfair_stop_weeks": np.zeros(n),
        "fair_lows": np.zeros(n, np.int64),
        "fair_stopped": np.zeros(n, np.int64),
    }
    base.update({k: np.asarray(v) for k, v in given.items()})
    return ArmOutcome(**base)


def make_run(
    n: int,
    arms: dict[str, ArmOutcome],
    quality: np.ndarray | None = None,
    poor: np.ndarray | None = None,
    seed: int = 7,
) -> PolicyRun:
    """A population run of n paths whose arms are given; kept, oracle and without_unfair are
    added (nothing happened under them) when not given."""
    sc = sim.with_run(sim.Scenario(), paths=n, weeks=10, seed=seed)
    outcomes = {name: arms.get(name, outcome(n)) for name in ("kept", "oracle", "without_unfair")}
    outcomes.update(arms)
    return PolicyRun(
        scenario=sc,
        reference="kept",
        oracle="oracle",
        without_unfair="without_unfair",
        quality=np.linspace(3.0, 5.0, n) if quality is None else quality,
        poor=np.zeros(n, bool) if poor is None else poor,
        kind=np.zeros(n, np.int64),
        outcomes=outcomes,
    )


def by_arm(run: PolicyRun) -> dict[str, object]:
    return {m.arm: m for m in measures(run)}


def test_four_unfair_lows_three_stopped_is_three_quarters():
    n = 2 * BLOCK
    lows, stopped, weeks = np.zeros(n, int), np.zeros(n, int), np.zeros(n)
    # block 0: two lows on one path, both stopped (after 2 and 4 weeks); block 1: two lows on two
    # paths, one stopped (after 3 weeks)
    lows[[5, 300, 301]] = [2, 1, 1]
    stopped[[5, 300]] = [2, 1]
    weeks[[5, 300]] = [6.0, 3.0]
    arm = outcome(n, unfair_lows=lows, unfair_stopped=stopped, unfair_stop_weeks=weeks)
    m = by_arm(make_run(n, {"rule": arm}))["rule"]
    assert m.protection == 0.75
    assert m.protection_weeks == 3.0  # (2 + 4 + 3) / 3
    assert m.unfair_lows == 4
    # by hand: cluster sums (2, 2) and (1, 2), R = 3/4, residuals +0.5 and -0.5,
    # variance 2/1 * (0.25 + 0.25) / 4^2 = 1/16; Student's t with 1 degree of freedom
    half = 6.313751514675041 * 0.25
    _, interval = ratio_interval(stopped, lows, np.arange(n) // BLOCK)
    assert interval == pytest.approx((0.75 - half, 0.75 + half), abs=1e-12)
    assert m.protection90 == (0.0, 1.0)  # a share's interval is clipped to what a share can be


def test_keep_protects_nothing_and_the_oracle_everything_with_exact_intervals():
    n = 4 * BLOCK
    rng = np.random.default_rng(1)
    lows = rng.integers(0, 3, n)
    fair = rng.integers(0, 2, n)
    kept = outcome(n, unfair_lows=lows, fair_lows=fair)
    oracle = outcome(
        n, unfair_lows=lows, unfair_stopped=lows, unfair_stop_weeks=2.0 * lows, fair_lows=fair
    )
    got = by_arm(make_run(n, {"kept": kept, "oracle": oracle}))
    assert (got["kept"].protection, got["kept"].protection90) == (0.0, (0.0, 0.0))
    assert (got["kept"].signal_lost, got["kept"].signal_lost90) == (0.0, (0.0, 0.0))
    assert got["kept"].protection_weeks is None  # none stopped: no time to stop
    assert (got["oracle"].protection, got["oracle"].protection90) == (1.0, (1.0, 1.0))
    assert got["oracle"].protection_weeks == 2.0
    assert got["oracle"].signal_lost == 0.0
    assert list(got) == ["kept", "oracle"]  # without_unfair is no rule: not measured
    assert [m.rule for m in got.values()] == ["keep", "oracle"]


def test_nothing_to_measure_is_none_not_zero_or_nan():
    n = BLOCK
    m = by_arm(make_run(n, {}))["kept"]
    for figure in (
        "protection",
        "protection_weeks",
        "signal_lost",
        "ranking_stars",
        "ranking_jss",
        "victims_harm",
        "poor_gain",
        "hired_quality",
    ):
        assert getattr(m, figure) is None, figure
        interval = getattr(m, figure + "90", None)
        assert interval is None, figure
    assert (m.unfair_lows, m.fair_lows) == (0, 0)


def test_victims_harm_on_a_hand_made_pair_of_arms():
    n = 2 * BLOCK
    lows = np.zeros(n, int)
    lows[[0, 1, 256, 257]] = 1  # four victims, two per block
    counterfactual = np.full(n, 1000.0)
    arm = np.full(n, 1000.0)
    arm[[0, 1, 256, 257]] = [900.0, 700.0, 1000.0, 600.0]  # they lose 100, 300, 0 and 400
    arm[10] = 0.0  # a loss off the victims does not count
    run = make_run(
        n,
        {
            "kept": outcome(n, unfair_lows=lows, earnings=arm),
            "without_unfair": outcome(n, earnings=counterfactual),
        },
    )
    m = by_arm(run)["kept"]
    assert m.victims_harm == 200.0
    # clusters (400 over 2) and (400 over 2): both at the mean, no spread between blocks
    assert m.victims_harm90 == (200.0, 200.0)


def test_victims_are_the_reference_arms_for_every_arm():
    n = 2 * BLOCK
    lows = np.zeros(n, int)
    lows[[3, 260]] = 1
    earnings = np.arange(n, dtype=float)
    run = make_run(
        n,
        {
            "kept": outcome(n, unfair_lows=lows),
            # another arm received no unfair low on these paths: its harm still reads them
            "rule": outcome(n, earnings=earnings),
            "without_unfair": outcome(n, earnings=earnings + 50.0),
        },
    )
    assert by_arm(run)["rule"].victims_harm == 50.0


def test_poor_gain_against_the_oracle_and_none_without_poor_workers():
    n = 2 * BLOCK
    poor = np.zeros(n, bool)
    poor[[1, 2, 300]] = True
    oracle = np.full(n, 500.0)
    arm = oracle.copy()
    arm[[1, 2, 300]] += [30.0, 60.0, 90.0]
    run = make_run(
        n, {"oracle": outcome(n, earnings=oracle), "rule": outcome(n, earnings=arm)}, poor=poor
    )
    got = by_arm(run)
    assert got["rule"].poor_gain == 60.0
    assert got["oracle"].poor_gain == 0.0
    # cluster sums (90 over 2) and (90 over 1): residuals 90 - 120 = -30 and 90 - 60 = +30,
    # variance 2 * 1800 / 9 = 400
    t = t_quantile(2)
    assert got["rule"].poor_gain90 == pytest.approx((60 - t * 20, 60 + t * 20))
    assert by_arm(replace(run, poor=np.zeros(n, bool)))["rule"].poor_gain is None


def test_hired_quality_is_weighted_by_jobs():
    n = BLOCK
    jobs = np.zeros(n, int)
    jobs[[0, 1]] = [1, 3]
    quality = np.full(n, 1.0)
    quality[[0, 1]] = [4.0, 5.0]
    m = by_arm(make_run(n, {"kept": outcome(n, jobs=jobs)}, quality=quality))["kept"]
    assert m.hired_quality == 4.75  # (4 + 3 x 5) / 4
    assert m.hired_quality90 is None  # one block: no spread between clusters to estimate


def test_spearman_of_a_monotone_display_is_one_and_of_a_reversed_one_minus_one():
    n = 16 * BLOCK
    quality = np.random.default_rng(3).uniform(1, 5, n)
    stars = np.log(quality)  # strictly increasing: the same order
    stars[::7] = np.nan  # nothing shown on some paths: omitted
    reverse = 100.0 - quality
    run = make_run(n, {"kept": outcome(n, stars=stars, jss=reverse)}, quality=quality)
    m = by_arm(run)["kept"]
    assert m.ranking_stars == pytest.approx(1.0, abs=1e-12)
    assert m.ranking_stars90 == pytest.approx((1.0, 1.0), abs=1e-12)
    assert m.ranking_jss == pytest.approx(-1.0, abs=1e-12)


def test_spearman_is_scipys_and_a_constant_display_is_none():
    n = 16 * BLOCK
    rng = np.random.default_rng(11)
    quality = rng.uniform(1, 5, n)
    stars = np.round(quality + rng.normal(0, 1, n), 1)  # ties included
    stars[rng.random(n) < 0.2] = np.nan
    jss = np.full(n, 90.0)
    m = by_arm(make_run(n, {"kept": outcome(n, stars=stars, jss=jss)}, quality=quality))["kept"]
    ok = ~np.isnan(stars)
    assert m.ranking_stars == stats.spearmanr(stars[ok], quality[ok]).statistic
    lo, hi = m.ranking_stars90
    assert lo < m.ranking_stars < hi
    assert (m.ranking_jss, m.ranking_jss90) == (None, None)


def test_spearman_interval_has_the_width_theory_gives_under_independence():
    # independent display and quality: rho's standard error is 1 / sqrt(n - 1), so the 90%
    # interval's half width is about 1.645 / sqrt(n); the block bootstrap must find that
    n = 64 * BLOCK
    rng = np.random.default_rng(5)
    shown, quality = rng.normal(size=n), rng.normal(size=n)
    clusters = np.arange(n) // BLOCK
    _, (lo, hi) = spearman_interval(shown, quality, clusters, np.random.default_rng(0))
    assert (hi - lo) / 2 == pytest.approx(Z90 / math.sqrt(n - 1), rel=0.15)
    assert lo < 0 < hi


def test_spearman_interval_widens_when_blocks_share_their_values():
    # each block's paths share one display and one quality: 16 independent units, not 4,096;
    # an interval that treated paths as independent would be sixteen times too narrow
    n = 16 * BLOCK
    rng = np.random.default_rng(9)
    shown = np.repeat(rng.normal(size=16), BLOCK) + rng.normal(0, 1e-3, n)
    quality = np.repeat(rng.normal(size=16), BLOCK) + rng.normal(0, 1e-3, n)
    clusters = np.arange(n) // BLOCK
    _, (lo, hi) = spearman_interval(shown, quality, clusters, np.random.default_rng(0))
    assert hi - lo > 10 * 2 * Z90 / math.sqrt(n)


def test_ratio_interval_of_a_mean_is_three_figures_cluster_robust_one():
    n = 32 * BLOCK
    rng = np.random.default_rng(2)
    d = rng.normal(10, 3, n) + np.repeat(rng.normal(0, 1, 32), BLOCK)
    clusters = np.arange(n) // BLOCK
    mean, (lo, hi) = ratio_interval(d, np.ones(n), clusters)
    ref = three_figures(d, clusters)
    assert mean == pytest.approx(ref["mean"], rel=1e-12)
    # the same variance; Student's t with 31 degrees of freedom instead of the normal's 1.645
    ref_half = (ref["ci90"][1] - ref["ci90"][0]) / 2
    assert (hi - lo) / 2 == pytest.approx(ref_half * stats.t.ppf(0.95, 31) / Z90, rel=1e-12)


def test_t_quantile_is_the_normals_for_many_clusters_and_wider_for_a_few():
    assert t_quantile(100_000) == pytest.approx(Z90, rel=1e-4)
    assert t_quantile(40) == pytest.approx(1.685, abs=1e-3)
    assert t_quantile(2) == pytest.approx(6.314, abs=1e-3)


def test_a_rank_correlation_on_few_blocks_has_no_interval():
    n = 9 * BLOCK
    rng = np.random.default_rng(12)
    x = rng.normal(size=n)
    rho, interval = spearman_interval(x, x + rng.normal(size=n), np.arange(n) // BLOCK, rng)
    assert rho is not None and interval is None


def test_measures_are_the_same_bytes_twice_and_seeded_by_the_scenario():
    n = 16 * BLOCK
    rng = np.random.default_rng(4)
    quality = rng.uniform(1, 5, n)
    arm = outcome(n, stars=quality + rng.normal(0, 1, n), jobs=rng.integers(0, 5, n))
    first = measures(make_run(n, {"kept": arm}, quality=quality))
    assert first == measures(make_run(n, {"kept": arm}, quality=quality))
    other = measures(make_run(n, {"kept": arm}, quality=quality, seed=8))
    assert other[0].ranking_stars == first[0].ranking_stars
    assert other[0].ranking_stars90 != first[0].ranking_stars90  # another seed, other resamples
    assert BOOTSTRAP_SPAWN_KEY[0] > 3  # not a stream the engine draws from


def test_clusters_are_blocks_or_design_points_with_uncertainty_on():
    n = 8 * BLOCK
    run = make_run(n, {})
    assert np.array_equal(clusters_of(run), np.arange(n) // BLOCK)
    sc = run.scenario
    on = sc.model_copy(
        update={"uncertainty": sc.uncertainty.model_copy(update={"on": True, "points": 4})}
    )
    assert np.array_equal(clusters_of(replace(run, scenario=on)), (np.arange(n) // BLOCK) % 4)
