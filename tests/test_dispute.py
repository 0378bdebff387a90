"""The dispute helper against closed forms, and the platform's facts."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import reference_data, small

import sim
from sim import dispute, platform_facts


@pytest.fixture(scope="module")
def reference():
    sc = small(paths=512, weeks=52)
    return sc, sim.run(sc)


def test_chance_one_no_wait_no_time_is_the_kept_vs_excluded_difference(reference):
    """Upheld for certain, removed at once, free: the value of reporting is, path by path, the
    kept-vs-excluded earnings difference of the run on common random numbers."""
    sc, res = reference
    assert [a.rule for a in sc.arms] == ["keep", "exclude_flagged"]
    assert sc.arms[1].delay_weeks == 0
    avoided = dispute.simulate_avoided(sc, 0)
    assert avoided.horizons == (13, 26, 52)
    np.testing.assert_array_equal(avoided.values[-1], res.paired("excluded", "earnings"))
    (v13, v26, v52) = dispute.value_of_reporting(
        avoided, dispute.DisputeInputs(chance_upheld=1.0, wait_weeks=0, hours=0.0), sc
    )
    d = res.difference("excluded", "earnings")  # unrounded (the summary keeps 10 digits)
    assert v52.value == pytest.approx(d["mean"], rel=1e-12)
    assert v52.value_range == pytest.approx((d["p05"], d["p95"]), rel=1e-12)
    assert v52.value_ci90 == pytest.approx(tuple(d["ci90"]), rel=1e-12)
    assert 0 < v13.value < v26.value < v52.value  # the cost builds up over the weeks


def test_each_horizon_is_that_week_of_the_run(reference):
    """Per horizon, the mean cost avoided is the difference of the two arms' mean cumulative
    earnings in that week of the run's bands (a horizon of H weeks: week index H - 1)."""
    sc, _ = reference
    avoided = dispute.simulate_avoided(sc, 2)
    res = sim.run(dispute.dispute_scenario(sc, 2))
    assert res.arms == ("stays", "removed after 2 weeks")
    stays, removed = (res.bands(a, "earnings")["mean"] for a in res.arms)
    for i, h in enumerate(avoided.horizons):
        assert avoided.values[i].mean() == pytest.approx(removed[h - 1] - stays[h - 1], rel=1e-9)


@pytest.mark.parametrize("case", ["reference", "uncertain"])
def test_chance_zero_is_minus_her_time(case, request):
    """Never upheld: every figure is minus her time, over assumptions too where they are drawn."""
    sc, _ = request.getfixturevalue(case)
    avoided = dispute.simulate_avoided(sc, 2)
    inputs = dispute.DisputeInputs(chance_upheld=0.0, wait_weeks=2, hours=4.0, hourly_rate=35.0)
    wide = None if case == "reference" else (-140.0, -140.0)  # None: assumptions fixed
    for v in dispute.value_of_reporting(avoided, inputs, sc):
        assert v.time_cost == 140.0
        assert v.value == -140.0
        assert v.value_range == (-140.0, -140.0)
        assert v.value_ci90 == (-140.0, -140.0)
        assert v.value_assumption_range == wide


@pytest.fixture(scope="module")
def uncertain():
    """The reference case with assumption uncertainty on (8 blocks of paths, 8 design points)."""
    data = reference_data()
    data["uncertainty"] = {"on": True, "points": 8}
    sc = small(data, paths=2048, weeks=52)
    return sc, sim.run(sc)


def test_with_uncertainty_chance_one_no_wait_no_time_is_the_difference_path_by_path(uncertain):
    """Each path keeps its assumption draw in both cases: upheld for certain, removed at once and
    free, the value of reporting is the run's kept-vs-excluded difference path by path, and its
    three figures (mean and interval, futures, futures and assumptions) are the summary's."""
    sc, res = uncertain
    avoided = dispute.simulate_avoided(sc, 0)
    np.testing.assert_array_equal(avoided.values[-1], res.paired("excluded", "earnings"))
    np.testing.assert_array_equal(avoided.points, res.design_points())
    v = dispute.value_of_reporting(
        avoided, dispute.DisputeInputs(chance_upheld=1.0, wait_weeks=0, hours=0.0), sc
    )[-1]
    d = res.difference("excluded", "earnings")
    assert d["assumptions90"] is not None
    assert v.value == pytest.approx(d["mean"], rel=1e-12)
    assert v.value_ci90 == pytest.approx(tuple(d["ci90"]), rel=1e-12)
    assert v.value_range == pytest.approx(tuple(d["futures90"]), rel=1e-12)
    assert v.value_assumption_range == pytest.approx(tuple(d["assumptions90"]), rel=1e-12)
    lo, hi = v.value_assumption_range
    assert lo < v.value_range[0] < v.value_range[1] < hi  # wider over assumptions too


def test_a_later_removal_avoids_less(reference):
    sc, _ = reference
    now = dispute.simulate_avoided(sc, 0).values[-1].mean()
    later = dispute.simulate_avoided(sc, 8).values[-1].mean()
    assert 0 < later < now


def test_value_is_linear_in_the_chance(reference):
    sc, _ = reference
    avoided = dispute.simulate_avoided(sc, 2)
    half, full = (
        dispute.value_of_reporting(avoided, dispute.DisputeInputs(p, 2, 3.0), sc)[-1]
        for p in (0.5, 1.0)
    )
    time = 3.0 * sc.freelancer.hourly_rate
    assert half.value + time == pytest.approx((full.value + time) / 2, rel=1e-12)


def test_labels_defaults_and_the_platform_facts():
    assert dispute.removed_label(0) == "removed at once"
    assert dispute.removed_label(1) == "removed after 1 week"
    assert dispute.removed_label(2) == "removed after 2 weeks"
    assert platform_facts.wait_weeks(7) == 2  # 7 business days: 1.4 weeks, rounded up
    assert platform_facts.wait_weeks(5) == 1
    assert platform_facts.wait_weeks(0) == 0
    assert dispute.WAIT_WEEKS == 2
    assert platform_facts.conversion_fee(20.0) == pytest.approx(4992.0)  # MODEL.md's figure
    assert platform_facts.conversion_fee(20.0, 0.135) == pytest.approx(5616.0)
    for fact in platform_facts.FACTS:
        line = fact.source_line()
        assert "source:" in line and "date checked:" in line
        assert fact.url is None and "not linked" in line  # no URL is invented
    with pytest.raises(ValueError, match="hourly_rate"):
        platform_facts.conversion_fee(0.0)


def test_bad_inputs_and_a_history_without_disputed_feedback_are_named():
    bad = dispute.DisputeInputs(chance_upheld=1.5, wait_weeks=-1, hours=float("nan"))
    keys = [k for k, _ in bad.problems()]
    assert keys == ["chance_upheld", "wait_weeks", "hours"]
    with pytest.raises(ValueError, match="chance_upheld: must be between 0 and 1"):
        bad.checked()
    data = reference_data()
    for h in data["history"]:
        h["flagged"] = False
    with pytest.raises(ValueError, match="no disputed feedback"):
        dispute.simulate_avoided(small(data, paths=256, weeks=4), 2)
    with pytest.raises(ValueError, match="horizons"):
        dispute.simulate_avoided(small(paths=256, weeks=4), 2, horizons=(5,))
