"""The Policy lab's settings, address and words (app/policy_lab.py), and its presets."""

from __future__ import annotations

import pytest
from test_frontier_chart import frontier_rows, measures

import sim
from app import policy_lab
from app.frontier_chart import NO_UNFAIR
from app.policy_lab import RULES

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
    assert policy_lab.frontier_settings(tuple(RULES)) == {}
    left = policy_lab.frontier_settings(("whitby filter",))
    assert set(left) == set(RULES.values()) - {"whitby.q"}
    assert all(v == () for v in left.values())
    with pytest.raises(sim.ScenarioError, match="unknown rule"):
        policy_lab.frontier_settings(("nope",))
