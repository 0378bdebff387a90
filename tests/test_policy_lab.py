"""The Policy lab's settings, address and words (app/policy_lab.py), and its presets."""

from __future__ import annotations

import dataclasses
import math

import pytest
from test_frontier_chart import frontier_rows, measures

import sim
from app import controls, policy_lab
from app.frontier_chart import NO_UNFAIR
from app.policy_lab import POOR_SHARE, PRESETS, QUEUE, RULES, LabSettings

SC = sim.Scenario()


# -- words, on hand-made measures ---------------------------------------------------------


def test_lead_sentence_names_the_best_cheap_rule_and_the_most_protective_from_the_figures():
    rows = frontier_rows()
    text = policy_lab.lead_sentence(rows, SC)
    assert text.startswith("On 10,000 freelancers over 104 weeks, clients left 1,234 unfair low")
    # under 5% signal lost, the 0-week queue protects most (60%); the flagged-client rule at
    # threshold 4 protects most of all (70%, at 30% of the fair ones)
    assert "the best protection is excluded (0-week queue): it hides 60%" in text
    assert "The most protective, flagged-client rule (threshold 4), hides 70%" in text
    assert "and 30% of the fair ones" in text


def test_lead_sentence_follows_the_figures():
    rows = [
        measures("keep", "kept", 0.0, 0.0),
        measures("oracle", "oracle", 1.0, 0.0),
        measures("whitby", "w", 0.2, 0.3, "q", 0.05),
    ]
    text = policy_lab.lead_sentence(rows, SC)
    assert "No rule hides any unfair low ratings while losing under 5%" in text
    assert "whitby filter (q 0.05), hides 20% of the unfair low ratings and 30%" in text


def test_with_no_unfair_ratings_the_lead_sentence_says_so():
    rows = [measures("keep", "kept", None, 0.0), measures("oracle", "oracle", None, 0.0)]
    text = policy_lab.lead_sentence(rows, SC)
    assert NO_UNFAIR in text and "nothing to protect" in text
    assert "0%" not in text


def test_the_measures_table_has_every_interval_and_no_unfair_ratings_in_words():
    rows = [*frontier_rows(), measures("keep", "no victims", None, 0.1)]
    table = policy_lab.measures_table(rows)
    assert len(table) == len(rows)
    for name in ("protection", "signal lost", "ranking by stars", "ranking by JSS",
                 "victims' harm", "poor workers' gain", "hired quality"):  # fmt: skip
        assert any(c.startswith(name) and c.endswith("90%") for c in table.columns), name
    last = table.iloc[-1]
    assert last["protection"] == NO_UNFAIR and last["protection 90%"] == ""
    row = table[table["setting"] == "threshold 3.5"].iloc[0]
    assert row["protection"] == "50.0%" and row["protection 90%"] == "46.0% to 54.0%"
    assert row["rule"] == "flagged-client rule"


def test_frontier_settings_leave_out_the_rules_not_chosen():
    every = policy_lab.frontier_settings(tuple(RULES))
    assert every == {key: policy_lab.PAGE_SWEEPS[key] for key in RULES.values()}
    left = policy_lab.frontier_settings(("whitby filter",))
    assert left["whitby.q"] == policy_lab.PAGE_SWEEPS["whitby.q"]
    assert all(v == () for k, v in left.items() if k != "whitby.q")
    with pytest.raises(sim.ScenarioError, match="unknown rule"):
        policy_lab.frontier_settings(("nope",))


# -- presets, settings and the address ------------------------------------------------------


def test_the_policy_presets_load_with_a_population_and_a_description():
    assert set(PRESETS) == {
        "policy-standing-rules",
        "policy-report-review-two-weeks",
        "policy-statistical-filters",
    }
    assert policy_lab.DEFAULT_PRESET in PRESETS
    for stem, path in PRESETS.items():
        sc = sim.load_scenario(path)
        assert sc.population is not None, stem
        assert len(sc.description.split()) > 40, stem  # says what it shows
        assert sc.run.paths <= 4096 and sc.run.weeks == 104, stem  # the page runs in seconds
        assert sc.arms[0].rule == "keep", stem
        assert sim.loads_scenario(sim.dumps_scenario(sc), stem) == sc
    # the Compare page's presets are the freelancer's questions, not these
    assert not set(PRESETS) & set(controls.PRESETS)


def test_the_knobs_set_the_scenario_and_the_poor_share_keeps_shares_summing_to_one():
    base = sim.load_scenario(PRESETS["policy-standing-rules"])
    sc = policy_lab.build_scenario(
        base,
        {
            "population.clients.coercive_share": 0.05,
            "population.reports.upheld_fair": 0.2,
            POOR_SHARE: 0.3,
            QUEUE: 6,
        },
    )
    assert sc.population.clients.coercive_share == 0.05
    assert sc.population.reports.upheld_fair == 0.2
    shares = {t.name: t.share for t in sc.population.types}
    assert shares["poor"] == pytest.approx(0.3) and math.fsum(shares.values()) == 1.0
    queue = [a for a in sc.arms if a.rule == "exclude_flagged"]
    assert [(a.name, a.delay_weeks) for a in queue] == [("excluded after 6 weeks", 6)]
    assert policy_lab.defaults(sc)[POOR_SHARE] == pytest.approx(0.3)
    # nothing moved: the preset itself, to the byte
    assert policy_lab.build_scenario(base, {}).sha256() == base.sha256()


def test_a_bad_value_is_named_by_its_key():
    base = sim.load_scenario(PRESETS["policy-statistical-filters"])
    with pytest.raises(sim.ScenarioError) as e:
        policy_lab.build_scenario(base, {"population.reports.unfair": 3.0, QUEUE: 2})
    problems = {key: message for _, key, message in e.value.problems}
    assert "out of range" in problems["population.reports.unfair"]
    assert "no report-and-review rule" in problems[QUEUE]


def test_the_address_round_trips_and_names_what_it_cannot_use():
    settings = LabSettings(
        "policy-report-review-two-weeks",
        (("population.clients.retaliation_probability", 0.9), (QUEUE, 8)),
        ("excluded", "whitby filter"),
    )
    params = policy_lab.encode_query(settings)
    assert params == {
        "policy": "policy-report-review-two-weeks",
        "population.clients.retaliation_probability": "0.9",
        QUEUE: "8",
        "rules": "excluded,whitby filter",
    }
    again, problems = policy_lab.decode_query(params)
    assert again == settings and problems == []
    assert policy_lab.encode_query(LabSettings()) == {"policy": policy_lab.DEFAULT_PRESET}
    bad, problems = policy_lab.decode_query(
        {
            "policy": "nope",
            "population.reports.fair": "lots",
            QUEUE: "2.5",
            "rules": "whitby filter,astrology",
            "run.paths": "500",  # the Compare page's: not this page's business
        }
    )
    named = dict(problems)
    assert "unknown preset" in named["policy"]
    assert "not a number" in named["population.reports.fair"]
    assert "whole number" in named[QUEUE]
    assert "astrology" in named["rules"]
    assert set(named) == {"policy", "population.reports.fair", QUEUE, "rules"}
    assert bad.preset == policy_lab.DEFAULT_PRESET and bad.rules == ("whitby filter",)


def test_a_frontier_over_the_dashboard_budget_is_refused_before_it_runs(monkeypatch):
    sc = sim.load_scenario(PRESETS[policy_lab.DEFAULT_PRESET])
    assert policy_lab.budget_problems(sc, tuple(RULES)) == []
    monkeypatch.setattr(policy_lab.runner, "BUDGET_CELLS", sc.run.paths * sc.run.weeks * 10)
    (problem,) = policy_lab.budget_problems(sc, tuple(RULES))
    assert problem[1] == "run.paths" and "repsim policy" in problem[2]


def test_a_rule_in_words():
    excluded = measures("exclude_flagged", "excluded after 2 weeks", 0.489, 0.0046)
    assert policy_lab.rule_words(excluded) == (
        "hides 49% of the unfair low ratings (90%: 45% to 53%) and 0.5% of the fair ones. "
        "Victims of an unfair low rating earn $812 less by the horizon than without it. "
        "Clients hire freelancers of 4.61 stars on average."
    )
    exact = dataclasses.replace(measures("oracle", "oracle", 1.0, 0.0), protection90=(1.0, 1.0))
    oracle = policy_lab.rule_words(exact)
    assert oracle.startswith("hides 100% of the unfair low ratings and 0% of the fair ones.")
    nothing = policy_lab.rule_words(measures("keep", "kept", None, 0.0))
    assert nothing.startswith(f"{NO_UNFAIR} to hide and 0% of the fair ones.")
