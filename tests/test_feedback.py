"""Tests for sim.feedback: criteria scores, the stars/criteria check, star draws."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import feedback
from sim.feedback import (
    CRITERIA,
    DEFAULT_CRITERIA_WEIGHTS,
    check_stars_agree,
    contract_score,
    draw_stars,
    stars_from_uniform,
)

REFERENCE = {
    "skills": 4,
    "quality": 4,
    "availability": 1,
    "schedule": 4,
    "communication": 4,
    "cooperation": 3.4,
}
DEFAULT_QUALITY = (0.02, 0.02, 0.05, 0.06, 0.85)

probabilities = st.lists(st.floats(0, 1), min_size=5, max_size=5).filter(lambda p: sum(p) > 0.1)


def normalised(p):
    q = np.asarray(p, float)
    return q / q.sum()


# -- contract_score -------------------------------------------------------------------------------


def test_criteria_names_and_default_weights():
    assert CRITERIA == (
        "skills",
        "quality",
        "availability",
        "schedule",
        "communication",
        "cooperation",
    )
    assert dict(DEFAULT_CRITERIA_WEIGHTS) == dict.fromkeys(CRITERIA, 1.0)


def test_reference_case_scores_3_4():
    # 4 + 4 + 1 + 4 + 4 + 3.4 = 20.4; / 6 = 3.4 (MODEL.md)
    assert contract_score(REFERENCE) == pytest.approx(3.4, abs=1e-12)
    assert contract_score(REFERENCE, DEFAULT_CRITERIA_WEIGHTS) == pytest.approx(3.4, abs=1e-12)
    as_array = [REFERENCE[k] for k in CRITERIA]
    assert contract_score(as_array) == pytest.approx(3.4, abs=1e-12)
    assert isinstance(contract_score(REFERENCE), float)


def test_unequal_weights_by_hand():
    weights = dict.fromkeys(CRITERIA, 1.0) | {"availability": 3.0}
    # (4 + 4 + 3*1 + 4 + 4 + 3.4) / 8 = 22.4 / 8 = 2.8
    assert contract_score(REFERENCE, weights) == pytest.approx(2.8, abs=1e-12)
    # a zero weight drops the criterion
    weights = dict.fromkeys(CRITERIA, 1.0) | {"availability": 0.0}
    assert contract_score(REFERENCE, weights) == pytest.approx(19.4 / 5, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(st.floats(1, 5), min_size=6, max_size=6), min_size=1, max_size=5),
    weights=st.lists(st.floats(0, 10), min_size=6, max_size=6).filter(lambda w: sum(w) > 0.01),
)
def test_batched_scores_equal_per_row_and_lie_in_range(rows, weights):
    batch = contract_score(np.array(rows), np.array(weights))
    assert batch.shape == (len(rows),)
    for row, got in zip(rows, batch, strict=True):
        assert got == pytest.approx(contract_score(row, weights), rel=1e-12)
        assert min(row) - 1e-9 <= got <= max(row) + 1e-9


@pytest.mark.parametrize(
    ("criteria", "weights", "match"),
    [
        (REFERENCE | {"speed": 5}, None, r"criteria: unknown criteria \['speed'\]"),
        (
            {k: 4 for k in CRITERIA if k != "availability"},
            None,
            r"criteria: missing .*availability",
        ),
        (REFERENCE | {"skills": 6}, None, r"criteria: values must be between 1 and 5 \(got 6\)"),
        (REFERENCE | {"skills": float("nan")}, None, "criteria: contains NaN"),
        ([4, 4, 1, 4, 4], None, "criteria: last axis must have length 6"),
        (REFERENCE, dict.fromkeys(CRITERIA, 1.0) | {"skills": -1.0}, "weights: must be non-neg"),
        (REFERENCE, dict.fromkeys(CRITERIA, 0.0), "weights: must have a positive sum"),
        (REFERENCE, {"skills": 1.0}, "weights: missing criteria"),
        (REFERENCE, [1, 1, 1], "weights: last axis must have length 6"),
    ],
)
def test_contract_score_rejects_bad_input(criteria, weights, match):
    with pytest.raises(ValueError, match=match):
        contract_score(criteria, weights)


# -- check_stars_agree ----------------------------------------------------------------------------


def test_stars_and_criteria_agree_in_reference_case():
    check_stars_agree(3.4, REFERENCE)
    check_stars_agree(3.44, REFERENCE)  # within 0.05
    check_stars_agree(None, REFERENCE)
    check_stars_agree(3.4, None)


def test_disagreement_is_reported_with_both_numbers():
    criteria = REFERENCE | {"cooperation": 4.12}  # 21.12 / 6 = 3.52
    with pytest.raises(
        ValueError, match=r"^stars 3.4 and criteria score 3.52 differ by more than 0.05$"
    ):
        check_stars_agree(3.4, criteria)
    with pytest.raises(ValueError, match="stars: values must be between 1 and 5"):
        check_stars_agree(0.5, criteria)


# -- star draws -----------------------------------------------------------------------------------


def test_inverse_cdf_boundaries():
    # binary fractions, so the cumulative sums 0.25, 0.5, 0.75, 0.875 are exact
    q = [0.25, 0.25, 0.25, 0.125, 0.125]
    u = [0.0, 0.2499, 0.25, 0.4999, 0.5, 0.75, 0.8749, 0.875, 0.999999]
    assert stars_from_uniform(q, u).tolist() == [1, 1, 2, 2, 3, 4, 4, 5, 5]
    assert stars_from_uniform(q, 0.5).dtype == np.int8


def test_levels_with_zero_probability_are_never_drawn():
    q = [0.0, 0.5, 0.0, 0.5, 0.0]
    u = np.linspace(0, 1, 10_001)[:-1]
    assert set(stars_from_uniform(q, u).tolist()) == {2, 4}
    # near-1 uniforms stay on the last level with probability, despite rounding in the sums
    q = [0.1, 0.2, 0.3, 0.4, 0.0]
    assert stars_from_uniform(q, [1 - 1e-16, 0.99999999999]).tolist() == [4, 4]


@settings(max_examples=100, deadline=None)
@given(p=probabilities, u=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=20))
def test_stars_follow_the_cdf_and_rise_with_u(p, u):
    q = normalised(p)
    s = stars_from_uniform(q, u)
    cdf = np.concatenate([[0.0], np.cumsum(q)])
    for ui, si in zip(u, s, strict=True):
        assert q[si - 1] > 0
        assert cdf[si - 1] - 1e-12 <= ui < cdf[si] + 1e-12
    order = np.argsort(u)
    assert np.all(np.diff(s[order]) >= 0)


@settings(max_examples=100, deadline=None)
@given(p=probabilities, shift=st.floats(0, 1), u=st.floats(0, 1, exclude_max=True))
def test_better_quality_never_gives_fewer_stars_on_the_same_uniform(p, shift, u):
    q = normalised(p)
    better = q.copy()
    moved = shift * better[0]  # move mass from 1 star to 5 stars: first-order dominance
    better[0] -= moved
    better[4] += moved
    better /= better.sum()
    assert stars_from_uniform(better, u) >= stars_from_uniform(q, u)


def test_draws_match_the_quality_vector_and_are_reproducible():
    stars = draw_stars(DEFAULT_QUALITY, 200_000, 7)
    assert stars.dtype == np.int8 and stars.shape == (200_000,)
    shares = np.bincount(stars, minlength=6)[1:] / stars.size
    # binomial standard error at p = 0.85 and n = 2e5 is 0.0008; 0.005 is over 6 of them
    assert shares == pytest.approx(DEFAULT_QUALITY, abs=0.005)
    assert np.array_equal(draw_stars(DEFAULT_QUALITY, 50, 3), draw_stars(DEFAULT_QUALITY, 50, 3))
    gen = np.random.default_rng(3)
    expected = stars_from_uniform(DEFAULT_QUALITY, np.random.default_rng(3).random(50))
    assert np.array_equal(draw_stars(DEFAULT_QUALITY, 50, gen), expected)
    assert draw_stars(DEFAULT_QUALITY, (2, 3), None).shape == (2, 3)


def test_batched_quality_broadcasts_with_uniforms():
    q = np.array([[1.0, 0, 0, 0, 0], [0, 0, 0, 0, 1.0]])
    assert stars_from_uniform(q, [0.5, 0.5]).tolist() == [1, 5]


@pytest.mark.parametrize(
    ("quality", "match"),
    [
        ((0.02, 0.02, 0.05, 0.06, 0.80), r"quality: must sum to 1 \(got 0.95\)"),
        ((0.5, 0.5, 0.0, 0.0), r"quality: must have 5 entries"),
        ((-0.1, 0.3, 0.3, 0.3, 0.2), "quality: must be non-negative"),
        ((np.nan, 0.25, 0.25, 0.25, 0.25), "quality: contains NaN"),
    ],
)
def test_bad_quality_vector_is_refused(quality, match):
    with pytest.raises(ValueError, match=match):
        stars_from_uniform(quality, [0.5])
    with pytest.raises(ValueError, match=match):
        draw_stars(quality, 3, 0)


def test_bad_uniforms_size_and_rng_are_refused():
    with pytest.raises(ValueError, match=r"u: values must be in \[0, 1\) \(got 1\)"):
        stars_from_uniform(DEFAULT_QUALITY, [0.2, 1.0])
    with pytest.raises(ValueError, match="u: contains NaN"):
        stars_from_uniform(DEFAULT_QUALITY, [np.nan])
    with pytest.raises(ValueError, match="size:"):
        draw_stars(DEFAULT_QUALITY, -1, 0)
    with pytest.raises(ValueError, match="rng:"):
        draw_stars(DEFAULT_QUALITY, 3, "seed")


def test_tolerance_is_published():
    # the quality sum tolerance stated in the contract
    assert feedback._SUM_TOL == 1e-9
    stars_from_uniform((0.2, 0.2, 0.2, 0.2, 0.2 + 5e-10), [0.1])
