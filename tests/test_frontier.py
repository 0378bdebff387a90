"""The policy frontier (sim/frontier.py): its scenarios, and its runs on any executor."""

from __future__ import annotations

import pytest
from helpers import SCENARIOS

import sim
from sim.frontier import MAX_ARMS, SETTINGS, frontier_tasks


@pytest.fixture(scope="module")
def flagged() -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / "flagged-client-rule.toml")


def swept(tasks) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for t in tasks[1:]:
        for rule, parameter, value in t.points.values():
            out.setdefault(f"{rule}.{parameter}", []).append(value)
    return out


def test_every_rule_is_swept_over_its_settings_on_the_scenarios_seed(flagged):
    tasks = frontier_tasks(flagged)
    assert tasks[0].scenario is flagged and tasks[0].points is None
    got = swept(tasks)
    for key, values in SETTINGS.items():
        rule = "keep" if key.startswith("signals.") else key.split(".")[0]
        expected = [float(v) for v in values if key != "exclude_flagged.delay_weeks" or v < 104]
        assert got[f"{rule}.{key.split('.')[1]}"] == expected
    for t in tasks:
        # common random numbers: the same seed and population for every rule and setting
        # (only the arms, and the Bayesian prior weight of its own points, differ)
        same = {"arms", "signals"}
        assert t.scenario.model_dump(exclude=same) == flagged.model_dump(exclude=same)
        signals = t.scenario.signals.model_dump(exclude={"prior_weight"})
        assert signals == flagged.signals.model_dump(exclude={"prior_weight"})
        rules = [a.rule for a in t.scenario.arms]
        assert rules[0] == "keep" and t.scenario.arms[0].name == "kept"
        # policy_run adds the oracle and the victims' counterfactual: room is left for both
        assert len(rules) + 2 <= MAX_ARMS
        if t.points is not None:
            assert set(t.points) <= set(t.scenario.arm_names())


def test_a_rules_other_settings_are_the_scenarios_own(flagged):
    own = next(a for a in flagged.arms if a.rule == "flagged_client")
    task = next(
        t for t in frontier_tasks(flagged)[1:] if "flagged_client" in t.scenario.arm_names()[1]
    )
    for arm in task.scenario.arms[1:]:
        assert (arm.scope, arm.min_ratings, arm.flag_on) == (
            own.scope,
            own.min_ratings,
            own.flag_on,
        )
    assert [a.threshold for a in task.scenario.arms[1:]] == list(
        SETTINGS["flagged_client.threshold"]
    )


def test_the_prior_weight_is_a_scenario_per_value_with_a_bayesian_keep_arm(flagged):
    tasks = [t for t in frontier_tasks(flagged) if t.points and "bayesian" in next(iter(t.points))]
    assert [t.scenario.signals.prior_weight for t in tasks] == list(
        SETTINGS["signals.prior_weight"]
    )
    for t in tasks:
        keep, bayes = t.scenario.arms
        assert (keep.rule, keep.aggregator) == ("keep", None)
        assert (bayes.rule, bayes.aggregator) == ("keep", "bayesian")


def test_settings_replace_the_defaults_and_more_than_fit_make_several_scenarios(flagged):
    many = list(range(1, 21))
    tasks = frontier_tasks(
        flagged,
        settings={
            "window.last_n": many,
            "whitby.q": [],
            "flagged_client.threshold": [],
            "signals.prior_weight": [],
            "exclude_flagged.delay_weeks": [3, 1, 3],
        },
    )
    got = swept(tasks)
    assert got == {
        "window.last_n": [float(v) for v in many],
        "exclude_flagged.delay_weeks": [1.0, 3.0],
    }
    assert len(tasks) == 1 + 3 + 1  # 20 windows in scenarios of at most 9, one queue scenario


def test_bad_settings_name_the_key_and_the_problem(flagged):
    with pytest.raises(sim.ScenarioError) as e:
        frontier_tasks(flagged, settings={"whitby.p": [0.1], "window.last_n": [2.5, "x"]})
    text = "\n".join(e.value.lines())
    assert "whitby.p" in text and "not a swept parameter" in text
    assert "window.last_n" in text and "whole numbers" in text and "'x'" in text
    with pytest.raises(sim.ScenarioError) as e:
        frontier_tasks(flagged, settings={"whitby.q": [0.7], "flagged_client.threshold": [9]})
    # every problem at once, under the swept key (not the arm the frontier made of it)
    assert e.value.lines() == [
        "frontier: flagged_client.threshold: Input should be less than or equal to 5 (got 9)",
        "frontier: whitby.q: Input should be less than 0.5 (got 0.7)",
    ]
