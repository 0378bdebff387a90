"""Tests for sim.reputation: closed forms against hand values, properties, bad input."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from sim import reputation as rep
from sim.reputation import (
    NO_BADGE,
    RISING_TALENT,
    TOP_RATED,
    badge,
    bayesian_average,
    beta_reputation,
    job_success_score,
    jss_band,
    jss_weight,
    median,
    ratings_needed,
    star_counts,
    star_lower_bound,
    weighted_mean,
    wilson_lower_bound,
)

FAST = settings(max_examples=60, deadline=None)

star = st.floats(1, 5)
whole_star = st.integers(1, 5).map(float)
histories = st.lists(star, min_size=1, max_size=10)
weight = st.floats(0.05, 20)


@st.composite
def weighted_histories(draw, min_size=1, max_size=10):
    xs = draw(st.lists(star, min_size=min_size, max_size=max_size))
    ws = draw(st.lists(weight, min_size=len(xs), max_size=len(xs)))
    return np.array(xs), np.array(ws)


# -- the reference case and published values ------------------------------------------------------

REF_STARS = np.array([5.0, 3.4])
REF_VALUES = np.array([1600.0, 1600.0])
REF_ENDED = np.array([6.0, 1.0])
EXCLUDED = np.array([True, False])


def test_odesk_dollar_weighted_example():
    # oDesk 2006: $1,000 at 5 stars and $200 at 1 star give (5000 + 200) / 1200 = 4.333...
    assert weighted_mean([5, 1], [1000, 200]) == pytest.approx(13 / 3, abs=1e-12)


def test_reference_case_stars_kept_and_excluded():
    assert weighted_mean(REF_STARS, REF_VALUES) == pytest.approx(4.2, abs=1e-12)
    assert weighted_mean(REF_STARS) == pytest.approx(4.2, abs=1e-12)
    assert weighted_mean(REF_STARS, REF_VALUES, EXCLUDED) == 5.0


def test_reference_case_jss_kept_and_excluded():
    assert job_success_score(REF_STARS, REF_VALUES, REF_ENDED) == 0.0
    assert job_success_score(REF_STARS, REF_VALUES, REF_ENDED, mask=EXCLUDED) is None


def test_reference_case_ratings_needed_6_14_30():
    # MODEL.md: (5 + 3.4 + 5n) / (2 + n) reaches 4.8 at n = 6, 4.9 at 14, 4.95 at 30
    assert ratings_needed(REF_STARS, 4.8) == 6
    assert ratings_needed(REF_STARS, 4.9) == 14
    assert ratings_needed(REF_STARS, 4.95) == 30
    assert ratings_needed(REF_STARS, [4.8, 4.9, 4.95]).tolist() == [6, 14, 30]


# -- weighted mean, median, Bayesian average ------------------------------------------------------


def test_no_counted_feedback_gives_nan():
    assert math.isnan(weighted_mean([4.0, 5.0], mask=[False, False]))
    assert math.isnan(median([4.0], mask=[False]))
    assert np.isnan(weighted_mean(np.zeros((3, 0)))).all()
    # uncounted entries may hold padding
    assert weighted_mean([5.0, np.nan, 9.0], mask=[True, False, False]) == 5.0


def test_median_by_hand():
    assert median([5, 1, 3]) == 3.0
    assert median([5, 1, 3, 4]) == 3.5
    assert median([5, 1, 3, 4], mask=[True, True, False, False]) == 3.0
    assert median([[1, 2, 5], [4, 4, 2]]).tolist() == [2.0, 4.0]


def test_bayesian_average_by_hand():
    # (v R + m C) / (v + m) = (2 * 4.2 + 3 * 4.5) / 5 = 4.38
    assert bayesian_average(REF_STARS, 4.5, 3) == pytest.approx(4.38, abs=1e-12)
    assert bayesian_average(REF_STARS, 4.5, 3, mask=[False, False]) == 4.5
    assert bayesian_average(REF_STARS, 4.5, 0) == pytest.approx(4.2, abs=1e-12)
    # v counts ratings, R is dollar weighted: R = (1000*5 + 200*1)/1200
    assert bayesian_average([5, 1], 3.0, 2, [1000, 200]) == pytest.approx(
        (2 * 13 / 3 + 2 * 3.0) / 4, abs=1e-12
    )


@FAST
@given(h=weighted_histories(), mask=st.lists(st.booleans(), min_size=10, max_size=10))
def test_weighted_mean_lies_within_the_counted_stars(h, mask):
    xs, ws = h
    m = np.array(mask[: len(xs)])
    assume(m.any())
    got = weighted_mean(xs, ws, m)
    assert xs[m].min() - 1e-9 <= got <= xs[m].max() + 1e-9


@FAST
@given(h=weighted_histories(min_size=2), i=st.integers(0, 9))
def test_excluding_a_rating_below_the_mean_never_lowers_it(h, i):
    xs, ws = h
    i %= len(xs)
    before = weighted_mean(xs, ws)
    assume(xs[i] < before)
    mask = np.ones(len(xs), bool)
    mask[i] = False
    assert weighted_mean(xs, ws, mask) >= before - 1e-12


@FAST
@given(h=weighted_histories(), prior=star, m=st.floats(0, 50))
def test_bayesian_average_lies_between_prior_and_sample_mean(h, prior, m):
    xs, ws = h
    got = bayesian_average(xs, prior, m, ws)
    sample = weighted_mean(xs, ws)
    assert min(prior, sample) - 1e-9 <= got <= max(prior, sample) + 1e-9


# -- Beta reputation ------------------------------------------------------------------------------


def test_beta_reputation_worked_values():
    # one 5-star: v = 1, r = 1, s = 0, E = 2/3
    assert beta_reputation([5]) == pytest.approx(2 / 3, abs=1e-15)
    # 5 then 1 with forgetting 0.5: r = 0.5 * 1, s = 1, E = 1.5 / 3.5
    assert beta_reputation([5, 1], forgetting=0.5) == pytest.approx(1.5 / 3.5, abs=1e-15)
    # the reference case, forgetting 1: 3.4 gives v = 0.2, r = 1 + 0.6, s = 0.4; E = 2.6 / 4
    assert beta_reputation(REF_STARS) == pytest.approx(2.6 / 4, abs=1e-12)
    # no evidence: the uniform prior's mean
    assert beta_reputation([5, 1], mask=[False, False]) == 0.5


def test_beta_reputation_discounts_by_counted_order_or_by_age():
    # masked ratings do not count towards k: 5, (skipped), 1 is the same as 5, 1
    assert beta_reputation([5, 3, 1], forgetting=0.5, mask=[True, False, True]) == pytest.approx(
        1.5 / 3.5
    )
    # by age in weeks: 5 stars 2 weeks old, 1 star 0 weeks old: r = 0.25, s = 1
    assert beta_reputation([5, 1], forgetting=0.5, ages=[2, 0]) == pytest.approx(1.25 / 3.25)
    # weights multiply the evidence: w = 2 on one 5-star: r = 2, E = 3/4
    assert beta_reputation([5], [2.0]) == pytest.approx(0.75)


@FAST
@given(h=weighted_histories(), i=st.integers(0, 9), bump=st.floats(1e-6, 4))
def test_beta_reputation_is_inside_0_1_and_rises_with_any_rating(h, i, bump):
    xs, ws = h
    i %= len(xs)
    assume(xs[i] + bump <= 5)
    before = beta_reputation(xs, ws)
    assert 0 < before < 1
    ys = xs.copy()
    ys[i] += bump
    assert beta_reputation(ys, ws) > before


# -- Wilson and Miller ----------------------------------------------------------------------------


def wilson_by_root(pos, n, z):
    """Independent: the lower root p of (phat - p)^2 = z^2 p (1 - p) / n (Wilson 1927)."""
    if n == 0:
        return 0.0
    phat = pos / n
    if phat == 0:
        return 0.0
    # the lower root lies in [0, phat): the quadratic is <= 0 just below phat
    g = lambda p: (phat - p) ** 2 * n - z * z * p * (1 - p)  # noqa: E731
    return optimize.brentq(g, 0.0, phat * (1 - 1e-9), xtol=1e-15)


def test_wilson_known_values():
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(0, 10) == pytest.approx(0.0, abs=1e-15)
    # a published worked table using Miller's method at 95%: 209 up / 50 down -> 0.7545,
    # 118 up / 25 down -> 0.7546 (the 2nd item ranks higher though it has fewer votes)
    assert round(wilson_lower_bound(209, 259), 4) == 0.7545
    assert round(wilson_lower_bound(118, 143), 4) == 0.7546
    for pos, n in [(209, 259), (118, 143), (1, 1), (2, 2), (100, 101), (3, 10)]:
        assert wilson_lower_bound(pos, n) == pytest.approx(wilson_by_root(pos, n, 1.96), abs=1e-10)
    # Miller's "wrong solution 2": 2 of 2 positive ranks below 100 of 101
    assert wilson_lower_bound(2, 2) < wilson_lower_bound(100, 101)


@FAST
@given(n=st.integers(0, 500), share=st.floats(0, 1), z=st.floats(0.5, 3))
def test_wilson_matches_its_definition_and_stays_below_the_share(n, share, z):
    pos = math.floor(share * n)
    got = wilson_lower_bound(pos, n, z)
    assert got == pytest.approx(wilson_by_root(pos, n, z), abs=1e-9)
    assert 0 <= got <= (pos / n if n else 0) + 1e-12


def test_wilson_is_vectorized():
    got = wilson_lower_bound([0, 209, 1], [0, 259, 1])
    assert got.shape == (3,)
    assert got[1] == wilson_lower_bound(209, 259)


def test_miller_star_bound_worked_example():
    # 25 one-star, 20 two, 75 three, 80 four, 60 five (the worked example in unutbu's Stack
    # Overflow answer implementing Miller's formula; that answer prints 3.3686975, which its own
    # code does not reproduce: the formula gives 3.3684307). Two independent computations:
    counts = [25, 20, 75, 80, 60]
    n, k = sum(counts), 5
    s = Fraction(sum((i + 1) * (c + 1) for i, c in enumerate(counts)), n + k)  # 925/265
    s2 = Fraction(sum((i + 1) ** 2 * (c + 1) for i, c in enumerate(counts)), n + k)  # 3615/265
    by_fractions = float(s) - 1.65 * math.sqrt(float((s2 - s * s) / (n + k + 1)))
    alpha = np.array(counts) + 1.0  # the Dirichlet posterior
    levels = np.arange(1, 6)
    by_scipy = levels @ stats.dirichlet.mean(alpha) - 1.65 * math.sqrt(
        levels @ stats.dirichlet.cov(alpha) @ levels
    )
    got = star_lower_bound(counts)
    assert got == pytest.approx(by_fractions, abs=1e-12)
    assert got == pytest.approx(by_scipy, abs=1e-12)
    assert got == pytest.approx(3.3684307, abs=1e-7)
    # Miller's point: ten 5-star ratings rank above that item, five 5-star ratings below it
    assert star_lower_bound([0, 0, 0, 0, 10]) > got > star_lower_bound([0, 0, 0, 0, 5])


def test_star_counts_round_fractional_stars_half_up():
    assert star_counts(REF_STARS).tolist() == [0, 0, 1, 0, 1]
    assert star_counts([4.5, 4.49, 1.2]).tolist() == [1, 0, 0, 1, 1]
    assert star_counts([1, 5, 5], [2, 1, 1]).tolist() == [2, 0, 0, 0, 2]
    assert star_counts([1, 5], mask=[False, True]).tolist() == [0, 0, 0, 0, 1]


# -- Job Success Score ----------------------------------------------------------------------------


def test_jss_weight_brackets():
    values = [0, 250, 250.01, 1000, 1000.01, 50_000]
    assert jss_weight(values).tolist() == [1, 1, 1.25, 1.25, 1.5, 1.5]


def test_jss_rounds_half_up():
    # success $2,000 (1.5), failure $100 (1), neutral 4.2 stars $2,000 (1.5):
    # 100 * (1.5 - 1) / 4 = 12.5 -> 13
    got = job_success_score([5, 1, 4.2], [2000, 100, 2000], [3, 2, 1])
    assert got == 13.0
    # successes 1.5 * 3 + 1.25 = 5.75 of a total 10 (neutrals 1.5 + 1.5 + 1.25): exactly 57.5,
    # although 100 * (5.75 / 10) is 57.49999999999999 in floating point -> 58
    stars = [5, 5, 5, 5, 4.2, 4.2, 4.2]
    values = [2000, 2000, 2000, 500, 2000, 2000, 500]
    assert job_success_score(stars, values, [1, 2, 3, 4, 5, 6, 7]) == 58.0


def test_jss_windows_trending_and_qualification():
    stars = [1, 1, 5, 5, 5]
    ended = [60, 60, 5, 10, 20]
    values = [100] * 5
    # 104 weeks: (3 - 2) / 5 = 20%; trending: 26 and 13 weeks both 100%
    assert job_success_score(stars, values, ended, windows=(104,)) == 100.0
    # with the 10-week success gone, 13 weeks holds one contract: trending does not qualify
    ended_late = [60, 60, 5, 20, 20]
    assert job_success_score(stars, values, ended_late, windows=(104,)) == 20.0
    # a window of w weeks holds 0 <= ended < w: a contract ended 26 weeks ago is outside 26
    assert job_success_score([5, 5], [100, 100], [26, 1], windows=(26,), trending=()) is None
    assert job_success_score([5, 5], [100, 100], [25.9, 1], windows=(26,), trending=()) == 100.0


def test_jss_needs_two_distinct_clients_and_ignores_contracts_without_feedback():
    assert job_success_score(REF_STARS, REF_VALUES, REF_ENDED, clients=["a", "a"]) is None
    assert job_success_score(REF_STARS, REF_VALUES, REF_ENDED, clients=["a", "b"]) == 0.0
    assert job_success_score(REF_STARS, REF_VALUES, REF_ENDED, clients=[7, 7]) is None
    # NaN stars: no feedback, not counted at all [P since Nov 2020]
    assert job_success_score([5, np.nan], [100, 100], [2, 1]) is None
    assert job_success_score([5, np.nan, 5], [100, 100, 100], [3, 2, 1]) == 100.0
    assert job_success_score([5, 4.2], [100, 100], [3, 1]) == 50.0  # neutral counts in the total


def test_jss_batch_gives_nan_where_no_window_qualifies():
    stars = np.array([[5.0, 3.4], [5.0, 3.4]])
    got = job_success_score(stars, REF_VALUES, REF_ENDED, mask=np.array([[True, True], EXCLUDED]))
    assert got[0] == 0.0 and np.isnan(got[1])


@st.composite
def jss_histories(draw):
    n = draw(st.integers(1, 8))
    stars = draw(st.lists(st.one_of(star, st.just(float("nan"))), min_size=n, max_size=n))
    values = draw(st.lists(st.floats(0, 5000), min_size=n, max_size=n))
    ended = draw(st.lists(st.floats(0, 120), min_size=n, max_size=n))
    clients = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return np.array(stars), np.array(values), np.array(ended), np.array(clients)


@FAST
@given(rows=st.lists(jss_histories(), min_size=1, max_size=4))
def test_jss_is_a_whole_percent_and_batches_equal_rows(rows):
    n = max(len(r[0]) for r in rows)

    def pad(a, fill):
        return np.concatenate([a, np.full(n - len(a), fill)])

    batch = [np.stack([pad(r[i], f) for r in rows]) for i, f in enumerate((np.nan, 0, 0, 0))]
    got = job_success_score(*batch)
    for r, g in zip(rows, got, strict=True):
        one = job_success_score(*r)
        if one is None:
            assert np.isnan(g)
        else:
            assert g == one and 0 <= one <= 100 and one == int(one)


# -- badges and JSS bands -------------------------------------------------------------------------


def test_badges():
    assert RISING_TALENT == 1 and TOP_RATED == 2 and NO_BADGE == 0
    assert badge(0, 0, 1, False) == RISING_TALENT
    assert badge(13, 1000, 14, True) == TOP_RATED
    assert badge(12, 1000, 14, True) == NO_BADGE  # 13 of the last 16 weeks at 90+
    assert badge(16, 999, 14, True) == NO_BADGE  # $1,000 in 52 weeks
    assert badge(16, 5000, 13, True) == NO_BADGE  # first contract over 13 weeks ago
    got = badge([0, 13, 12], 2000, [20, 20, 20], np.array([False, True, True]))
    assert got.tolist() == [RISING_TALENT, TOP_RATED, NO_BADGE]
    assert got.dtype == np.int8


def test_jss_bands():
    assert jss_band([100, 90, 89, 80, 79, 75, 74, 0, np.nan]).tolist() == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        3,
        4,
    ]
    assert jss_band(None) == 4
    assert jss_band(np.array([None, 95.0], dtype=object)).tolist() == [4, 0]


# -- ratings needed -------------------------------------------------------------------------------


def test_ratings_needed_edges():
    assert ratings_needed(REF_STARS, 4.2) == 0  # already there
    assert ratings_needed(REF_STARS, 5.01) is None  # above new_star: unreachable
    assert ratings_needed(REF_STARS, 4.0, new_star=1.0) == 0
    assert ratings_needed([], 4.8) == 1  # a first 5-star rating
    got = ratings_needed(np.array([[5, 3.4], [5, 5]]), [5.01, 4.8])
    assert np.isinf(got[0]) and got[1] == 0
    # dollar weights: one $5,000 5-star outweighs the 3.4 on $1,600
    assert ratings_needed(REF_STARS, 4.6, REF_VALUES, new_weight=5000) == 1
    # JSS: the reference's 0% becomes 90%+ only after many successes; over 100 is unreachable
    params = {"values": REF_VALUES, "ended_weeks_ago": REF_ENDED}
    n = ratings_needed(REF_STARS, 90, aggregator="jss", **params)
    assert (
        job_success_score(
            np.r_[REF_STARS, [5.0] * n],
            np.r_[REF_VALUES, [1000.0] * n],
            np.r_[REF_ENDED, [0.0] * n],
        )
        >= 90
    )
    assert ratings_needed(REF_STARS, 101, aggregator="jss", **params) is None
    # excluded: one more contract from another client makes a JSS of 100
    assert ratings_needed(REF_STARS, 90, aggregator="jss", mask=EXCLUDED, **params) == 1


def signal_along(aggregator, stars, weights, new_star, new_weight, n0, params):
    """Independent evaluation through the public aggregators: the signal with m = 0..n0 extra
    ratings, as one batch of masked histories (row m counts the first m new ratings)."""
    k = len(stars)
    hist = np.r_[stars, np.full(n0, new_star)]
    w = np.r_[weights, np.full(n0, new_weight)]
    rows = np.arange(n0 + 1)[:, None]
    mask = np.c_[np.ones((n0 + 1, k), bool), np.arange(n0)[None, :] < rows]
    if aggregator == "mean":
        return weighted_mean(hist, w, mask)
    if aggregator == "median":
        return median(hist, mask)
    if aggregator == "bayesian":
        return bayesian_average(hist, params["prior_mean"], params["prior_weight"], w, mask)
    if aggregator == "beta":
        ages = params.get("ages")
        if ages is not None:
            ages = np.r_[ages, np.zeros(n0)]
        return beta_reputation(hist, w, params.get("forgetting", 1.0), mask, ages)
    if aggregator == "wilson":
        pos = ((hist >= params.get("positive_at", 4.0)) * w * mask).sum(-1)
        return wilson_lower_bound(pos, (w * mask).sum(-1), params.get("z", 1.96))
    if aggregator == "star_lower_bound":
        return star_lower_bound(star_counts(hist, w, mask), params.get("z", 1.65))
    assert aggregator == "jss"
    values = np.r_[params["values"], np.full(n0, params.get("new_value", 1000.0))]
    ended = np.r_[params["ended_weeks_ago"], np.zeros(n0)]
    return job_success_score(hist, values, ended, mask=mask)


@st.composite
def needed_cases(draw, aggregator):
    k = draw(st.integers(0 if aggregator != "jss" else 1, 6))
    stars = np.array(draw(st.lists(star, min_size=k, max_size=k)))
    weights = np.array(draw(st.lists(weight, min_size=k, max_size=k)))
    new_star = draw(st.one_of(whole_star, star))
    new_weight = draw(weight)
    params = {}
    if aggregator == "bayesian":
        params = {"prior_mean": draw(star), "prior_weight": draw(st.floats(0, 10))}
    elif aggregator == "beta":
        params = {"forgetting": draw(st.sampled_from([1.0, 0.9, 0.5]))}
        if draw(st.booleans()):
            params["ages"] = np.array(draw(st.lists(st.floats(0, 30), min_size=k, max_size=k)))
    elif aggregator == "wilson":
        params = {"positive_at": draw(st.sampled_from([4.0, 4.5])), "z": draw(st.floats(1, 2.5))}
    elif aggregator == "star_lower_bound":
        params = {"z": draw(st.sampled_from([1.65, 1.96, 1.0]))}
    elif aggregator == "jss":
        params = {
            "values": np.array(draw(st.lists(st.floats(0, 3000), min_size=k, max_size=k))),
            "ended_weeks_ago": np.array(draw(st.lists(st.floats(0, 110), min_size=k, max_size=k))),
            "new_value": draw(st.sampled_from([100.0, 1000.0, 2000.0])),
        }
    n0 = draw(st.integers(0, 120))
    return stars, weights, new_star, new_weight, params, n0


@pytest.mark.parametrize("aggregator", rep.AGGREGATORS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_ratings_needed_is_the_fewest(aggregator, data):
    stars, weights, new_star, new_weight, params, n0 = data.draw(needed_cases(aggregator))
    along = np.asarray(
        signal_along(aggregator, stars, weights, new_star, new_weight, n0, params), float
    )
    target = along[n0]
    assume(np.isfinite(target))
    n = ratings_needed(stars, target, weights, new_star, new_weight, aggregator, **params)
    assert n is not None and 0 <= n <= n0  # n0 reaches the target by construction
    reached = along >= target - 1e-9
    assert reached[n]
    assert not reached[:n].any()  # minimal: no smaller count reaches it


def test_ratings_needed_when_the_signal_rises_then_falls():
    # one 5-star on $1,000 under a prior of 1 star (weight 10), adding 4-star ratings of $1:
    # the Bayesian average climbs towards 5 while the prior fades, peaks near 4.65 at 235 more,
    # then sinks towards 4. 4.5 is first reached at 82 and lost after 847; 4.8 never.
    params = {"prior_mean": 1.0, "prior_weight": 10.0}
    along = signal_along("bayesian", np.array([5.0]), np.array([1000.0]), 4.0, 1.0, 900, params)
    n = ratings_needed([5.0], 4.5, [1000.0], 4.0, 1.0, "bayesian", **params)
    assert n == 82 == np.argmax(along >= 4.5)
    assert along[-1] < 4.5
    assert ratings_needed([5.0], 4.8, [1000.0], 4.0, 1.0, "bayesian", **params) is None


@pytest.mark.parametrize("aggregator", ["mean", "bayesian", "beta", "star_lower_bound"])
def test_ratings_needed_large_counts_by_search(aggregator):
    params = {
        "bayesian": {"prior_mean": 3.0, "prior_weight": 50},
        "beta": {"forgetting": 1.0},
        "star_lower_bound": {"z": 1.65},
    }.get(aggregator, {})
    stars = np.array([1.0] * 40 + [5.0] * 10)
    target = {"beta": 0.97}.get(aggregator, 4.9)
    n = ratings_needed(stars, target, aggregator=aggregator, **params)
    along = signal_along(aggregator, stars, np.ones(50), 5.0, 1.0, n, params)
    assert along[n] >= target - 1e-9 > along[n - 1]


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(st.lists(star, min_size=3, max_size=3), min_size=1, max_size=4),
    targets=st.lists(st.floats(3, 5), min_size=4, max_size=4),
)
def test_ratings_needed_batch_equals_rows(rows, targets):
    x = np.array(rows)
    t = np.array(targets[: len(rows)])
    values = np.full(x.shape, 800.0)
    ended = np.tile([30.0, 8.0, 1.0], (len(rows), 1))
    cases = [
        ("mean", 1.0, {}),
        ("median", 1.0, {}),
        ("bayesian", 1.0, {"prior_mean": 4.0, "prior_weight": 2.0}),
        ("beta", 0.2, {"forgetting": 0.9}),
        ("wilson", 0.2, {}),
        ("star_lower_bound", 1.0, {}),
        ("jss", 20.0, {"values": values, "ended_weeks_ago": ended}),
    ]
    for agg, scale, params in cases:
        batch = ratings_needed(x, t * scale, aggregator=agg, **params)
        for i, got in enumerate(batch):
            row_params = {k: v[i] for k, v in params.items() if k in ("values", "ended_weeks_ago")}
            one = ratings_needed(x[i], t[i] * scale, aggregator=agg, **(params | row_params))
            assert (np.isinf(got) and one is None) or got == one


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(weighted_histories(3, 3), min_size=1, max_size=4),
    masks=st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_aggregators_batch_equals_rows(rows, masks):
    x = np.stack([r[0] for r in rows])
    w = np.stack([r[1] for r in rows])
    m = np.array(masks[: x.size]).reshape(x.shape)
    checks = [
        (weighted_mean(x, w, m), lambda i: weighted_mean(x[i], w[i], m[i])),
        (median(x, m), lambda i: median(x[i], m[i])),
        (bayesian_average(x, 4.5, 3, w, m), lambda i: bayesian_average(x[i], 4.5, 3, w[i], m[i])),
        (beta_reputation(x, w, 0.7, m), lambda i: beta_reputation(x[i], w[i], 0.7, m[i])),
        (
            star_lower_bound(star_counts(x, w, m)),
            lambda i: star_lower_bound(star_counts(x[i], w[i], m[i])),
        ),
    ]
    for batch, one in checks:
        assert batch.shape == (len(rows),)
        for i in range(len(rows)):
            assert batch[i] == pytest.approx(one(i), rel=1e-12, nan_ok=True)


def test_a_shared_history_broadcasts_against_a_batch_of_masks():
    masks = np.array([[True, True], [True, False]])
    assert weighted_mean(REF_STARS, REF_VALUES, masks).tolist() == pytest.approx([4.2, 5.0])


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: weighted_mean([5, 6]), r"stars: values must be between 1 and 5 \(got 6\)"),
        (lambda: weighted_mean([5, 0.5]), r"stars: values must be between 1 and 5 \(got 0.5\)"),
        (lambda: weighted_mean([5, np.nan]), "stars: contains NaN"),
        (lambda: weighted_mean([5, 4], [1, -1]), r"weights: must be non-negative \(got -1\)"),
        (lambda: weighted_mean([5, 4], [1, np.nan]), "weights: contains NaN"),
        (
            lambda: weighted_mean([5, 4, 3], mask=[True] * 4),
            r"mask: shape \(4,\) does not broadcast with stars shape \(3,\)",
        ),
        (lambda: weighted_mean([5, 4, 3], [1, 2]), r"weights: shape \(2,\) does not broadcast"),
        (lambda: weighted_mean([5, 4], mask=[1, 0]), "mask: must be boolean"),
        (lambda: weighted_mean(5.0), "stars: must have at least one axis"),
        (lambda: weighted_mean(["a"]), "stars: must be numbers"),
        (lambda: median([5, 7]), "stars: values must be between 1 and 5"),
        (lambda: bayesian_average([5], 6, 1), "prior_mean: values must be between 1 and 5"),
        (lambda: bayesian_average([5], 4, -1), "prior_weight: must be non-negative"),
        (lambda: beta_reputation([5], forgetting=0), r"forgetting: must be in \(0, 1\]"),
        (lambda: beta_reputation([5], forgetting=1.5), r"forgetting: must be in \(0, 1\]"),
        (lambda: beta_reputation([5, 4], ages=[1, -1]), "ages: must be non-negative"),
        (lambda: wilson_lower_bound(3, 2), "positive: must not exceed total"),
        (lambda: wilson_lower_bound(-1, 2), "positive: must be non-negative"),
        (lambda: wilson_lower_bound([1, 2], [3, 4, 5]), "positive: shape"),
        (lambda: star_lower_bound([1, 2, 3]), "counts: last axis must have length 5"),
        (lambda: star_lower_bound([1, 2, 3, 4, -5]), "counts: must be non-negative"),
        (lambda: jss_weight([-1]), "values: must be non-negative"),
        (
            lambda: job_success_score([5, 9], [1, 1], [1, 2]),
            "stars: values must be between 1 and 5",
        ),
        (lambda: job_success_score([5, 4], [1, 1], [1, np.nan]), "ended_weeks_ago: contains NaN"),
        (lambda: job_success_score([5, 4], [1, 1], [1, 2], clients=["a"] * 3), "clients: shape"),
        (lambda: job_success_score([5], [1], [1], fail_below=4.8), "fail_below: must not exceed"),
        (
            lambda: job_success_score([5], [1], [1], min_clients=0),
            "min_clients: must be at least 1",
        ),
        (
            lambda: job_success_score([5], [1], [1], windows=(), trending=()),
            "windows: give at least",
        ),
        (lambda: badge(17, 0, 0, True), "jss_weeks_at_90: values must be between 0 and 16"),
        (lambda: badge(1, 0, 0, 1), "has_jss: must be boolean"),
        (lambda: jss_band(101), "jss: values must be between 0 and 100"),
        (lambda: ratings_needed(REF_STARS, 4.8, aggregator="mode"), "aggregator: unknown 'mode'"),
        (lambda: ratings_needed(REF_STARS, 4.8, aggregator="bayesian"), r"params: .*needs"),
        (lambda: ratings_needed(REF_STARS, 4.8, forgetting=0.5), r"params: \['forgetting'\] not"),
        (lambda: ratings_needed(REF_STARS, np.nan), "target: contains NaN"),
        (lambda: ratings_needed(REF_STARS, 4.8, new_star=6), r"new_star: must be in \[1, 5\]"),
        (lambda: ratings_needed(REF_STARS, 4.8, new_weight=0), r"new_weight: must be in \(0"),
        (lambda: ratings_needed(np.full((2, 2), 5.0), [4.8, 4.9, 5]), r"target: shape \(3,\)"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
