"""Tests for sim.rules: masks of counted feedback, the Whitby filter and its level form."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.reputation import weighted_mean
from sim.rules import (
    RULES,
    exclude_flagged,
    flagged_client,
    keep,
    suspended_client,
    whitby_filter,
    whitby_filter_counts,
    window,
)

FAST = settings(max_examples=80, deadline=None)
REF_STARS = np.array([5.0, 3.4])
REF_FLAGGED = np.array([False, True])

levels = st.sampled_from([1.0, 2.0, 3.0, 3.4, 4.0, 4.5, 5.0])
histories = st.lists(levels, min_size=0, max_size=60)


def test_rule_names():
    assert set(RULES) == {
        "keep",
        "exclude_flagged",
        "flagged_client",
        "suspended_client",
        "whitby",
        "window",
    }
    assert RULES["whitby"] is whitby_filter


def test_reference_case_kept_and_excluded():
    kept = keep(REF_STARS)
    excluded = exclude_flagged(REF_FLAGGED, [0, 0])
    assert kept.tolist() == [True, True] and excluded.tolist() == [True, False]
    assert weighted_mean(REF_STARS, mask=kept) == pytest.approx(4.2)
    assert weighted_mean(REF_STARS, mask=excluded) == 5.0


def test_exclude_flagged_waits_for_the_support_queue():
    weeks = np.array([[0, 0], [0, 2], [0, 3], [0, np.nan]])
    got = exclude_flagged(REF_FLAGGED, weeks, delay_weeks=3)
    assert got.tolist() == [[True, True], [True, True], [True, False], [True, True]]


def test_flagged_client():
    mean = [2.5, 2.5, 3.0, np.nan, 1.0]
    count = [3, 2, 10, 0, 5]
    assert flagged_client(mean, count).tolist() == [False, True, True, True, False]
    assert flagged_client(mean, count, threshold=2.0).tolist() == [True, True, True, True, False]
    assert flagged_client(mean, count, min_ratings=2).tolist() == [False, False, True, True, False]


def test_suspended_client():
    got = suspended_client([True, False, True], [1, 5, 0], delay_weeks=1)
    assert got.tolist() == [False, True, True]
    assert suspended_client([True], [0]).tolist() == [False]


def test_window_last_n_and_last_weeks():
    ended = np.array([100, 60, 30, 10, 2])
    rated = np.array([True, True, False, True, True])
    assert window(ended, last_n=2).tolist() == [False, False, False, True, True]
    assert window(ended, last_n=3, mask=rated).tolist() == [False, True, False, True, True]
    assert window(ended, last_n=0).tolist() == [False] * 5
    assert window(ended, last_weeks=60).tolist() == [False, False, True, True, True]
    assert window(ended, last_weeks=61, mask=rated).tolist() == [False, True, False, True, True]
    batch = window(np.array([ended, ended]), last_n=1, mask=np.array([rated, ~rated]))
    assert batch.tolist() == [
        [False, False, False, False, True],
        [False, False, True, False, False],
    ]


# -- Whitby, Jøsang & Indulska 2004 ---------------------------------------------------------------


def test_small_histories_keep_everything():
    # one rating's Beta is too wide to be excluded: the reference case is untouched
    assert whitby_filter(REF_STARS).tolist() == [True, True]
    assert whitby_filter([5.0] * 10 + [1.0]).all()


def test_a_lone_outlier_among_many_is_dropped_by_hand():
    # 100 one-star ratings (r = 0, s = 1) and one 5-star (r = 1, s = 0):
    # E = (1 + 1) / (1 + 100 + 2) = 0.0194, below the 5-star's 1% quantile of Beta(2, 1),
    # which is sqrt(0.01) = 0.1: dropped. Then E = 1/102 = 0.0098 lies inside Beta(1, 2)'s
    # [1 - sqrt(0.99), 1 - sqrt(0.01)] = [0.005, 0.9]: the one-stars stay.
    assert stats.beta.ppf(0.01, 2, 1) == pytest.approx(0.1)
    stars = np.r_[np.ones(100), 5.0]
    got = whitby_filter(stars)
    assert got[:100].all() and not got[100]


def test_binary_mapping_by_hand():
    # b = 4: 40 positives and 1 negative: E = 41/43 = 0.953 above Beta(1, 2)'s 99% quantile 0.9
    stars = np.r_[np.full(40, 5.0), 2.0]
    got = whitby_filter(stars, binary_threshold=4)
    assert got[:40].all() and not got[40]
    # with 10 positives E = 11/13 = 0.846 < 0.9: kept
    assert whitby_filter(np.r_[np.full(10, 5.0), 2.0], binary_threshold=4).all()
    # the fractional mapping treats 2 stars as r = 0.25: E = 41.25 / 43 = 0.959, and
    # Beta(1.25, 1.75)'s 99% quantile is below that: dropped too
    assert stats.beta.ppf(0.99, 1.25, 1.75) < 41.25 / 43
    assert not whitby_filter(stars)[40]


def test_masked_ratings_never_count():
    stars = np.r_[np.ones(100), 5.0]
    mask = np.r_[np.zeros(100, bool), True]
    assert whitby_filter(stars, mask=mask).tolist() == mask.tolist()


@FAST
@given(h=histories, q=st.sampled_from([0.01, 0.05, 0.2]), b=st.sampled_from([None, 4.0]))
def test_whitby_is_idempotent(h, q, b):
    stars = np.array(h)
    kept = whitby_filter(stars, q=q, binary_threshold=b)
    assert np.array_equal(whitby_filter(stars, q=q, binary_threshold=b, mask=kept), kept)


@FAST
@given(
    counts=st.lists(st.integers(0, 40), min_size=7, max_size=7),
    q=st.sampled_from([0.01, 0.05, 0.2]),
    b=st.sampled_from([None, 4.0, 3.0]),
    seed=st.integers(0, 2**16),
)
def test_counts_form_equals_the_expanded_history(counts, q, b, seed):
    values = np.array([1.0, 2.0, 3.0, 3.4, 4.0, 4.5, 5.0])
    history = np.repeat(values, counts)
    np.random.default_rng(seed).shuffle(history)  # order does not matter
    kept = whitby_filter(history, q=q, binary_threshold=b)
    by_level = whitby_filter_counts(values, counts, q=q, binary_threshold=b)
    for v, c, k in zip(values, counts, by_level, strict=True):
        if c == 0:
            assert not k
        else:
            assert kept[history == v].all() == k and kept[history == v].any() == k


@FAST
@given(rows=st.lists(st.lists(levels, min_size=30, max_size=30), min_size=1, max_size=4))
def test_whitby_batch_equals_rows(rows):
    x = np.array(rows)
    x[0, :20] = 1.0  # make sure some rows do drop ratings
    batch = whitby_filter(x)
    for row, got in zip(x, batch, strict=True):
        assert np.array_equal(whitby_filter(row), got)
    values = np.array([1.0, 2.0, 3.0, 3.4, 4.0, 4.5, 5.0])
    counts = (x[..., None] == values).sum(axis=1)
    by_level = whitby_filter_counts(values, counts)
    for c, got in zip(counts, by_level, strict=True):
        assert np.array_equal(whitby_filter_counts(values, c), got)


@FAST
@given(
    flagged=st.lists(st.booleans(), min_size=4, max_size=4),
    weeks=st.lists(st.floats(0, 10), min_size=4, max_size=4),
    delay=st.floats(0, 10),
)
def test_mask_rules_batch_equal_rows(flagged, weeks, delay):
    f = np.array([flagged, flagged[::-1]])
    w = np.array([weeks, weeks[::-1]])
    for rule in (exclude_flagged, suspended_client):
        batch = rule(f, w, delay)
        for i in range(2):
            assert np.array_equal(batch[i], rule(f[i], w[i], delay))
    means = 1 + 4 * np.array([weeks, weeks[::-1]]) / 10
    batch = flagged_client(means, w, threshold=3.0, min_ratings=2)
    for i in range(2):
        assert np.array_equal(batch[i], flagged_client(means[i], w[i], 3.0, 2))
    ended = np.array([weeks, weeks[::-1]])
    for kw in ({"last_n": 2}, {"last_weeks": max(delay, 0.5)}):
        batch = window(ended, mask=f, **kw)
        for i in range(2):
            assert np.array_equal(batch[i], window(ended[i], mask=f[i], **kw))


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: keep(5.0), "stars: must have at least one axis"),
        (lambda: exclude_flagged([1, 0], [0, 0]), "flagged: must be boolean"),
        (
            lambda: exclude_flagged([True, False], [0, 1, 2]),
            r"weeks_since_report: shape \(3,\) does not broadcast with flagged shape \(2,\)",
        ),
        (lambda: exclude_flagged([True], [0], -1), r"delay_weeks: must be in \[0, inf\)"),
        (lambda: flagged_client([6.0], [3]), "client_mean: values must be between 1 and 5"),
        (lambda: flagged_client([2.0], [-1]), "client_count: must be non-negative"),
        (
            lambda: flagged_client([2.0], [3], min_ratings=1.5),
            "min_ratings: must be a whole number",
        ),
        (lambda: suspended_client([True], ["x"]), "weeks_since_suspension_known: must be numbers"),
        (lambda: whitby_filter([5, 6]), r"stars: values must be between 1 and 5 \(got 6\)"),
        (lambda: whitby_filter([5, np.nan]), "stars: contains NaN"),
        (lambda: whitby_filter([5, 4], q=0.5), r"q: must be in \[0, 0.5\)"),
        (lambda: whitby_filter([5, 4], mask=[True] * 3), r"mask: shape \(3,\)"),
        (lambda: whitby_filter([5, 4], binary_threshold=7), "binary_threshold: must be in"),
        (lambda: whitby_filter_counts([1, 5], [3, -1]), "counts: must be non-negative"),
        (lambda: whitby_filter_counts([1, 5], [3, 1, 2]), r"counts: shape \(3,\)"),
        (lambda: whitby_filter_counts([0, 5], [3, 1]), "values: values must be between 1 and 5"),
        (lambda: window([1, 2]), "last_n: give exactly one of last_n and last_weeks"),
        (lambda: window([1, 2], last_n=1, last_weeks=2), "last_n: give exactly one"),
        (lambda: window([1, 2], last_n=-1), "last_n: must be at least 0"),
        (lambda: window([1, 2], last_weeks=0), r"last_weeks: must be in \(0, inf"),
        (lambda: window([1, np.nan], last_weeks=5), "ended_weeks_ago: contains NaN"),
        (lambda: window([1, 2], last_n=1, mask=[True] * 3), r"mask: shape \(3,\)"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
