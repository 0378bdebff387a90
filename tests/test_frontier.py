"""The policy frontier (sim/frontier.py): its scenarios, and its runs on any executor."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import ROOT, SCENARIOS

import sim
from sim.frontier import MAX_ARMS, SETTINGS, frontier, frontier_tasks
from sim.policy import policy_run
from sim.policy_measures import measures


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


# -- on the engine ------------------------------------------------------------------------------

POPULATION = ROOT / "tests" / "population-small.toml"
FEW = {  # a short frontier: two rules, the queue at the scenario's own setting among them
    "flagged_client.threshold": [],
    "whitby.q": [0.2],
    "window.last_n": [],
    "signals.prior_weight": [5],
    "exclude_flagged.delay_weeks": [0, 2],
}


def population(paths: int = 512, weeks: int = 20, **changes) -> sim.Scenario:
    data = sim.load_scenario(POPULATION).model_dump(mode="json")
    data["run"].update(paths=paths, weeks=weeks)
    data.update(changes)  # whole sections: arms, market, population
    return sim.validate_scenario(data, "test")


def test_the_frontier_is_the_scenarios_arms_then_each_setting_on_one_population():
    sc = population()
    rows = frontier(sc, settings=FEW)
    assert [(m.rule, m.arm, m.parameter, m.value) for m in rows] == [
        ("keep", "kept", None, None),
        ("exclude_flagged", "reported", None, None),
        ("oracle", "oracle", None, None),
        ("whitby", "whitby q 0.2", "q", 0.2),
        ("keep", "bayesian prior_weight 5", "prior_weight", 5.0),
        ("exclude_flagged", "exclude_flagged delay_weeks 0", "delay_weeks", 0.0),
        ("exclude_flagged", "exclude_flagged delay_weeks 2", "delay_weeks", 2.0),
    ]
    by_arm = {m.arm: m for m in rows}
    # common random numbers: the queue of 2 weeks in its own scenario is the scenario's own arm
    # (a queue of 2 weeks) to the last digit, intervals included
    same = replace(
        by_arm["exclude_flagged delay_weeks 2"], arm="reported", parameter=None, value=None
    )
    assert same == by_arm["reported"]
    # the corners' known answers
    kept, oracle = by_arm["kept"], by_arm["oracle"]
    assert kept.unfair_lows > 0 and kept.fair_lows > 0
    assert (kept.protection, kept.signal_lost) == (0.0, 0.0)
    assert (oracle.protection, oracle.signal_lost, oracle.poor_gain) == (1.0, 0.0, 0.0)
    # a queue lets more unfair ratings count at the horizon than none
    assert by_arm["exclude_flagged delay_weeks 0"].protection > by_arm["reported"].protection > 0


def test_dropping_every_rating_under_four_stars_protects_all_and_loses_all():
    sc = population(
        arms=[{"name": "kept", "rule": "keep"}, {"name": "drop4", "rule": "drop_below", "stars": 4}]
    )
    got = {m.arm: m for m in measures(policy_run(sc))}
    assert (got["drop4"].protection, got["drop4"].signal_lost) == (1.0, 1.0)
    assert got["drop4"].protection90 == got["drop4"].signal_lost90 == (1.0, 1.0)


def test_no_unfair_clients_means_no_protection_to_measure_not_zero():
    data = population().model_dump(mode="json")
    data["market"]["harsh_client_share"] = 0.0
    data["population"]["clients"]["coercive_share"] = 0.0
    sc = population(market=data["market"], population=data["population"])
    for m in frontier(sc, settings={k: [] for k in SETTINGS}):
        assert m.unfair_lows == 0
        assert (m.protection, m.protection90, m.protection_weeks) == (None, None, None)
        assert m.victims_harm is None and m.signal_lost is not None


def test_report_and_review_protects_the_share_reported_and_upheld():
    # at once (no queue), a rating stops counting when she reports it and support upholds it:
    # 0.8 x 0.6 of unfair lows and 0.1 x 0.05 of fair ones (tests/population-small.toml);
    # only ratings reported in the horizon's last week may still be waiting
    sc = population(
        paths=4096,
        weeks=30,
        arms=[{"name": "kept", "rule": "keep"}, {"name": "now", "rule": "exclude_flagged"}],
    )
    now = next(m for m in measures(policy_run(sc)) if m.arm == "now")
    lo, hi = now.protection90
    assert lo < 0.8 * 0.6 < hi and hi - lo < 0.1
    lo, hi = now.signal_lost90
    assert lo < 0.1 * 0.05 < hi
