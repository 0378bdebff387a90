"""The vectorized engine against the scalar reference of docs/simulation.md, path by path."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest
from reference_engine import (
    INT_METRICS,
    METRICS,
    RISING_TALENT,
    TOP_RATED,
    decode_duration,
    decode_ratings_given,
    decode_stars,
    simulate_reference,
)

from sim.scenario import Scenario

FLAGGED_CRITERIA = dict(
    skills=4, quality=4, availability=1, schedule=4, communication=4, cooperation=3.4
)
FIRST = dict(client="first-client", stars=5.0, value=1600.0, ended_weeks_ago=6)
FLAGGED = dict(
    client="off-platform-pusher",
    criteria=FLAGGED_CRITERIA,
    value=1600.0,
    ended_weeks_ago=1,
    flagged=True,
)
REFERENCE_HISTORY = [FIRST, FLAGGED]
KEPT = dict(name="kept", rule="keep")
EXCLUDED = dict(name="excluded", rule="exclude_flagged")
LONG_HISTORY = [
    dict(client=f"client-{i}", stars=s, value=v, ended_weeks_ago=a)
    for i, (s, v, a) in enumerate(
        [
            (5.0, 800.0, 40),
            (5.0, 300.0, 30),
            (4.0, 1200.0, 22),
            (5.0, 200.0, 15),
            (5.0, 900.0, 9),
            (1.0, 500.0, 5),
            (5.0, 1600.0, 3),
        ]
    )
] + [FLAGGED]


def scenario(
    *,
    paths: int = 60,
    weeks: int = 40,
    seed: int = 11,
    history: list[dict[str, Any]] | None = None,
    arms: list[dict[str, Any]] | None = None,
    **sections: dict[str, Any],
) -> Scenario:
    """A small scenario: the reference case unless told otherwise."""
    data: dict[str, Any] = {
        "name": "reference check",
        "run": dict(paths=paths, weeks=weeks, seed=seed),
        "history": REFERENCE_HISTORY if history is None else history,
        "arms": [KEPT, EXCLUDED] if arms is None else arms,
        "market": {"field_size": 512, **sections.pop("market", {})},
        **sections,
    }
    return Scenario.model_validate(data)


SCENARIOS: dict[str, dict[str, Any]] = {
    "reference": dict(paths=120, weeks=60),
    "reference_busy": dict(paths=80, weeks=80, seed=3, hiring=dict(known_win_rate=0.25)),
    "exclude_delay_6": dict(
        arms=[KEPT, dict(name="late", rule="exclude_flagged", delay_weeks=6)],
        hiring=dict(known_win_rate=0.1),
    ),
    "flagged_client": dict(
        history=[
            FIRST,
            {**FLAGGED, "client_ratings_given": 5, "client_mean_received": 2.6},
        ],
        arms=[
            KEPT,
            dict(name="flagged", rule="flagged_client"),
            dict(name="flagged_all", rule="flagged_client", scope="all", only_against=False),
            dict(name="flagged_given", rule="flagged_client", flag_on="given", threshold=4.0),
        ],
        market=dict(harsh_client_share=0.3),
        hiring=dict(known_win_rate=0.1),
        weeks=60,
    ),
    "flagged_client_gives_well_receives_poorly": dict(
        history=[
            FIRST,
            {
                **FLAGGED,
                "client_ratings_given": 5,
                "client_mean_received": 2.6,
                "client_mean_given": 4.9,
            },
        ],
        arms=[
            KEPT,
            dict(name="received", rule="flagged_client"),
            dict(name="given", rule="flagged_client", flag_on="given"),
        ],
        market=dict(harsh_client_share=0.2, harsh_client_shift=1),
        hiring=dict(known_win_rate=0.1),
        weeks=40,
    ),
    "excluded_from_the_jss_only": dict(
        arms=[
            KEPT,
            EXCLUDED,
            dict(name="jss_only", rule="exclude_flagged", scope="jss"),
            dict(name="jss_only_late", rule="exclude_flagged", scope="jss", delay_weeks=5),
        ],
        hiring=dict(known_win_rate=0.1),
    ),
    "no_harsh_clients": dict(market=dict(harsh_client_share=0.0), hiring=dict(known_win_rate=0.1)),
    "suspended_client": dict(
        arms=[
            KEPT,
            dict(name="suspended", rule="suspended_client", probability=0.5, delay_weeks=3),
            dict(name="suspended_now", rule="suspended_client", probability=0.5),
            dict(
                name="suspended_all",
                rule="suspended_client",
                probability=0.5,
                delay_weeks=3,
                scope="all",
                only_against=False,
            ),
            dict(name="suspended_all_now", rule="suspended_client", scope="all"),
        ],
        market=dict(client_suspension_rate=0.2),
        hiring=dict(known_win_rate=0.1),
        weeks=60,
    ),
    "suspended_history_entry": dict(
        history=[{**FIRST, "client_suspended": True}, FLAGGED],
        arms=[KEPT, dict(name="suspended", rule="suspended_client", probability=0.0)],
    ),
    "whitby": dict(
        history=LONG_HISTORY,
        arms=[
            KEPT,
            dict(name="whitby_01", rule="whitby", q=0.01),
            dict(name="whitby_20", rule="whitby", q=0.2),
            dict(name="whitby_binary", rule="whitby", q=0.2, binary_threshold=4),
        ],
        hiring=dict(known_win_rate=0.1),
    ),
    "window": dict(
        history=LONG_HISTORY,
        arms=[
            KEPT,
            dict(name="last_3", rule="window", last_n=3),
            dict(name="last_8_weeks", rule="window", last_weeks=8),
        ],
        hiring=dict(known_win_rate=0.1),
        weeks=50,
    ),
    "mean_by_count": dict(signals=dict(weighting="count"), hiring=dict(known_win_rate=0.1)),
    "median": dict(signals=dict(aggregator="median"), hiring=dict(known_win_rate=0.1)),
    "bayesian": dict(
        signals=dict(aggregator="bayesian", prior_mean=4.2, prior_weight=3.0),
        hiring=dict(known_win_rate=0.1),
    ),
    "beta": dict(
        signals=dict(aggregator="beta", forgetting=0.9, weighting="count"),
        hiring=dict(known_win_rate=0.1),
    ),
    "beta_ignores_value_weighting": dict(signals=dict(aggregator="beta", forgetting=0.9)),
    "wilson": dict(signals=dict(aggregator="wilson"), hiring=dict(known_win_rate=0.1)),
    "star_lower_bound": dict(
        signals=dict(aggregator="star_lower_bound"), hiring=dict(known_win_rate=0.1)
    ),
    "arm_aggregators": dict(
        arms=[
            KEPT,
            dict(name="kept_median", rule="keep", aggregator="median"),
            dict(name="excluded_wilson", rule="exclude_flagged", aggregator="wilson"),
            dict(name="excluded_bound", rule="exclude_flagged", aggregator="star_lower_bound"),
        ],
        hiring=dict(known_win_rate=0.1),
    ),
    "shown_stars": dict(signals=dict(shown="stars")),
    "shown_jss": dict(signals=dict(shown="jss"), hiring=dict(known_win_rate=0.1)),
    "known_win_rate": dict(hiring=dict(known_win_rate=0.1)),
    "capacity_1": dict(freelancer=dict(capacity=1), hiring=dict(known_win_rate=0.2)),
    "capacity_3": dict(freelancer=dict(capacity=3), hiring=dict(known_win_rate=0.2)),
    "feedback_delay_0": dict(signals=dict(feedback_delay_weeks=0), hiring=dict(known_win_rate=0.1)),
    "feedback_delay_4": dict(signals=dict(feedback_delay_weeks=4), hiring=dict(known_win_rate=0.1)),
    "jss_every_week": dict(jss=dict(update_weeks=1), hiring=dict(known_win_rate=0.1)),
    "repeated_client": dict(
        history=[
            FIRST,
            {**FIRST, "stars": 4.8, "value": 300.0, "ended_weeks_ago": 4},
            FLAGGED,
        ],
        hiring=dict(known_win_rate=0.1),
    ),
    "repeated_flagged_client": dict(
        history=[
            {**FLAGGED, "flagged": False, "stars": 4.0, "criteria": None, "ended_weeks_ago": 10},
            FIRST,
            FLAGGED,
        ],
        arms=[
            KEPT,
            EXCLUDED,
            dict(name="suspended", rule="suspended_client", probability=0.5),
        ],
    ),
    "no_feedback_entry": dict(
        history=[
            dict(client="silent-client", value=2500.0, ended_weeks_ago=20),
            FIRST,
            FLAGGED,
        ],
        hiring=dict(known_win_rate=0.1),
    ),
    "empty_history": dict(history=[], hiring=dict(known_win_rate=0.1)),
    "no_proposals": dict(freelancer=dict(proposals_per_week=0), weeks=30, paths=20),
    "two_blocks": dict(paths=300, weeks=25, hiring=dict(known_win_rate=0.15)),
    "edge_market": dict(
        arms=[KEPT, dict(name="harsh", rule="flagged_client", min_ratings=1)],
        freelancer=dict(hourly_rate=25.0, proposals_per_week=3),
        market=dict(contract_weeks=1.0, client_ratings_given_mean=0.0, harsh_client_share=1.0),
        signals=dict(feedback_rate=1.0),
        hiring=dict(b_stars_half_at_reviews=3.0, known_win_rate=0.3),
    ),
    "jss_windows_shorter_than_feedback_delay": dict(
        jss=dict(windows=(2,), trending=(1,), min_clients=1, min_contracts=1, update_weeks=1),
        signals=dict(feedback_delay_weeks=4, feedback_rate=1.0),
        hiring=dict(known_win_rate=0.3),
        freelancer=dict(capacity=3),
        market=dict(contract_weeks=1.0),
    ),
    "suspension_after_the_longest_window": dict(
        paths=30,
        weeks=260,
        arms=[KEPT, dict(name="s", rule="suspended_client", probability=0.5, delay_weeks=110)],
        market=dict(client_suspension_rate=0.5),
        hiring=dict(known_win_rate=0.15),
    ),
    "last_n_with_slow_feedback": dict(
        paths=30,
        weeks=400,
        arms=[KEPT, dict(name="w", rule="window", last_n=2)],
        hiring=dict(known_win_rate=0.004),
        freelancer=dict(capacity=1),
    ),
    "window_shorter_than_delay": dict(
        arms=[KEPT, dict(name="last_2_weeks", rule="window", last_weeks=2)],
        signals=dict(feedback_delay_weeks=4),
        hiring=dict(known_win_rate=0.2),
    ),
    "perfect_quality": dict(
        history=LONG_HISTORY,
        arms=[KEPT, dict(name="whitby_20", rule="whitby", q=0.2), EXCLUDED],
        freelancer=dict(quality=(0.0, 0.0, 0.0, 0.0, 1.0)),
        signals=dict(aggregator="beta", forgetting=0.8, weighting="count"),
        hiring=dict(known_win_rate=0.2),
    ),
    "largest_counts": dict(  # the bounds the engine's small integer types rely on
        paths=4,
        weeks=1040,
        freelancer=dict(capacity=10, proposals_per_week=100),
        market=dict(contract_weeks=2.0),
    ),
    "poor_quality": dict(
        freelancer=dict(quality=(0.3, 0.3, 0.2, 0.1, 0.1), capacity=3),
        jss=dict(min_clients=1, windows=(52, 8), trending=(4,), success_at=4.0, fail_below=3.0),
        hiring=dict(known_win_rate=0.2),
    ),
}


@cache
def reference(name: str) -> dict[str, dict[str, np.ndarray]]:
    return simulate_reference(scenario(**SCENARIOS[name]))


# -- the reference on its own ----------------------------------------------------------------------


def test_reference_case_week_zero():
    out = reference("reference")
    kept, excluded = out["kept"], out["excluded"]
    assert np.all(kept["stars"][0] == 4.2)
    assert np.all(excluded["stars"][0] == 5.0)
    assert np.all(kept["jss"][0] == 0.0)
    assert np.all(np.isnan(excluded["jss"][0]))
    assert np.all(kept["badge"][0] == 0)
    assert np.all(excluded["badge"][0] == RISING_TALENT)
    assert np.all(kept["win_prob"][0] < excluded["win_prob"][0])


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_reference_invariants(name: str):
    sc = scenario(**SCENARIOS[name])
    out = reference(name)
    assert set(out) == set(sc.arm_names())
    for arm, metrics in out.items():
        assert set(metrics) == set(METRICS), arm
        for m in METRICS:
            assert metrics[m].shape == (sc.run.weeks, sc.run.paths), (arm, m)
        assert np.all(np.diff(metrics["jobs"], axis=0) >= 0), arm
        assert np.all(np.diff(metrics["earnings"], axis=0) >= 0), arm
        assert np.all((metrics["active"] >= 0) & (metrics["active"] <= sc.freelancer.capacity))
        assert np.all((metrics["win_prob"] >= 0) & (metrics["win_prob"] <= 1)), arm
        assert np.all(
            metrics["jobs"] <= sc.freelancer.capacity * (1 + np.arange(sc.run.weeks))[:, None]
        )
        stars = metrics["stars"]
        shown = stars[~np.isnan(stars)]
        assert np.all((shown >= 1) & (shown <= 5)), arm
        assert np.allclose(shown, np.round(shown, 2), rtol=0, atol=1e-12), arm
        jss = metrics["jss"][~np.isnan(metrics["jss"])]
        assert np.all((jss >= 0) & (jss <= 100) & (jss == np.floor(jss))), arm
        no_jss = np.isnan(metrics["jss"])
        assert np.all((metrics["badge"] == RISING_TALENT) == no_jss), arm
        # earnings are net pay for every active contract-week so far
        net = sc.freelancer.weekly_gross * (1 - sc.freelancer.service_fee)
        np.testing.assert_allclose(
            metrics["earnings"], np.cumsum(metrics["active"], axis=0) * net, rtol=1e-12
        )


def test_identical_arms_give_identical_paths():
    arms = [
        KEPT,
        dict(name="kept_again", rule="keep"),
        dict(name="never", rule="exclude_flagged", delay_weeks=1000),
        dict(name="everything", rule="window", last_n=10_000),
    ]
    out = simulate_reference(scenario(arms=arms, hiring=dict(known_win_rate=0.2)))
    for arm in ("kept_again", "never", "everything"):
        for m in METRICS:
            np.testing.assert_array_equal(out[arm][m], out["kept"][m], err_msg=f"{arm} {m}")


def test_late_exclusion_matches_keep_until_it_happens():
    out = reference("exclude_delay_6")
    for m in METRICS:
        np.testing.assert_array_equal(out["late"][m][:6], out["kept"][m][:6], err_msg=m)
    assert np.all(out["late"]["stars"][6] != out["kept"]["stars"][6])


def test_top_rated_is_reached():
    out = reference("reference_busy")
    assert np.any(out["excluded"]["badge"] == TOP_RATED)
    assert np.any(out["kept"]["jobs"][-1] > 5)


def test_known_win_rate_sets_first_arm_week_zero():
    out = reference("known_win_rate")
    np.testing.assert_allclose(out["kept"]["win_prob"][0], 0.1, atol=1e-6)


def test_whitby_filter_bites_at_week_zero():
    out = reference("whitby")
    assert np.all(out["whitby_01"]["stars"][0] == out["kept"]["stars"][0])
    assert np.all(out["whitby_20"]["stars"][0] > out["kept"]["stars"][0])


def test_full_blocks_do_not_depend_on_how_many_paths_are_run():
    """A block of 256 paths has its own generator: block 0 is the same with or without block 1."""
    sc = scenario(paths=300, weeks=10, arms=[KEPT], hiring=dict(known_win_rate=0.3))
    many = simulate_reference(sc)["kept"]
    one_block = simulate_reference(sc, paths=256)["kept"]
    for m in METRICS:
        np.testing.assert_array_equal(one_block[m], many[m][:, :256], err_msg=m)
    assert not np.array_equal(many["jobs"][:, 256:], many["jobs"][:, :44])


def test_beta_counts_each_rating_once_whatever_the_weighting():
    by_value = reference("beta_ignores_value_weighting")
    by_count = reference("beta")  # same scenario but weighting "count" and a known win rate
    np.testing.assert_array_equal(by_value["kept"]["stars"][0], by_count["kept"]["stars"][0])
    # stars (5, 3.4) aged (6, 1) weeks, forgetting 0.9: r = 0.9**6 + 0.9 * 0.6, s = 0.9 * 0.4
    r, s = 0.9**6 + 0.9 * 0.6, 0.9 * 0.4
    assert np.all(by_value["kept"]["stars"][0] == round(1 + 4 * (r + 1) / (r + s + 2), 2))


def test_coupling_is_monotone_at_week_zero():
    """Same state, same proposal uniforms: the arm with the higher win probability wins more."""
    out = reference("reference")
    kept, excluded = out["kept"], out["excluded"]
    assert np.all(excluded["win_prob"][0] > kept["win_prob"][0])
    assert np.all(excluded["jobs"][0] >= kept["jobs"][0])
    assert np.any(excluded["jobs"][0] > kept["jobs"][0])


@pytest.mark.parametrize(
    ("u", "stars"), [(0.0, 1), (0.0199, 1), (0.02, 2), (0.1, 4), (0.15, 5), (0.99999, 5)]
)
def test_decode_stars(u: float, stars: int):
    assert decode_stars(u, [0.02, 0.04, 0.09, 0.15, 1.0]) == stars


def test_decode_geometric_draws():
    assert decode_duration(0.0, 4.0) == 1
    assert decode_duration(0.9, 1.0) == 1
    assert decode_duration(0.25, 4.0) == 2  # log(0.75) / log(0.75) is exactly 1
    assert decode_ratings_given(0.5, 0.0) == 0
    u = (np.arange(20_000) + 0.5) / 20_000
    assert abs(np.mean([decode_duration(x, 4.0) for x in u]) - 4.0) < 0.01
    assert abs(np.mean([decode_ratings_given(x, 5.0) for x in u]) - 5.0) < 0.01


# -- the engine against the reference --------------------------------------------------------------


def test_engine_takes_paths_like_the_reference():
    from sim.engine import trajectories

    sc = scenario(**SCENARIOS["known_win_rate"])
    ref, eng = simulate_reference(sc, paths=7), trajectories(sc, paths=7)
    for m in METRICS:
        np.testing.assert_allclose(eng["excluded"][m], ref["excluded"][m], rtol=0, atol=1e-9)


def first_disagreement(ref: np.ndarray, eng: np.ndarray, exact: bool) -> str:
    """Where and how the two first differ (week, path, values)."""
    if exact:
        bad = ref != eng
    else:
        bad = (np.isnan(ref) != np.isnan(eng)) | (np.abs(ref - eng) > 1e-9)
    week, path = np.argwhere(bad)[0]
    return (
        f"{int(bad.sum())} of {bad.size} differ; first at week {week}, path {path}: "
        f"reference {ref[week, path]!r}, engine {eng[week, path]!r}"
    )


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_engine_matches_reference(name: str):
    from sim.engine import trajectories

    sc = scenario(**SCENARIOS[name])
    ref = reference(name)
    eng = trajectories(sc)
    assert list(eng) == list(ref)
    problems = []
    for arm in ref:
        for m in METRICS:
            r, e = ref[arm][m], np.asarray(eng[arm][m])
            if e.shape != r.shape:
                problems.append(f"{arm}.{m}: shape {e.shape}, expected {r.shape}")
                continue
            exact = m in INT_METRICS
            same = (
                np.array_equal(r, e)
                if exact
                else np.allclose(r, e.astype(float), rtol=0, atol=1e-9, equal_nan=True)
                and np.array_equal(np.isnan(r), np.isnan(e.astype(float)))
            )
            if not same:
                problems.append(f"{arm}.{m}: {first_disagreement(r, e.astype(r.dtype), exact)}")
    assert not problems, "\n".join(problems)
