"""Every assumed or derived setting has a documented plausible range (sim.assumptions)."""

from __future__ import annotations

import re

import pytest
from helpers import REFERENCE, ROOT, reference_data, small
from streamlit.testing.v1 import AppTest

import sim
from sim.assumptions import (
    ASSUMPTIONS,
    around,
    by_key,
    markdown_table,
    outside_ranges,
    ranges,
)
from sim.design import make_design
from sim.scenario import Freelancer, Hiring, JSSSettings, Market, Signals

SECTIONS = {
    "freelancer": Freelancer,
    "hiring": Hiring,
    "market": Market,
    "signals": Signals,
    "jss": JSSSettings,
}
# tuples and tables documented in docs/model.md as a whole rather than drawn as one number
NOT_ONE_NUMBER = {"market.competitor_jss_bands", "signals.criteria_weights"}


def tagged_settings() -> set[str]:
    keys = set()
    for section, model in SECTIONS.items():
        for name, field in model.model_fields.items():
            if re.match(r"\[(A|D|L, ?A|L, ?D)\b", field.description or ""):
                keys.add(f"{section}.{name}")
    return keys


def test_every_assumed_or_derived_setting_has_a_range():
    missing = tagged_settings() - {a.key for a in ASSUMPTIONS} - NOT_ONE_NUMBER
    assert not missing


def test_ranges_are_ordered_hold_the_default_and_give_a_reason():
    sc = sim.Scenario()
    for a in ASSUMPTIONS:
        assert a.low <= a.high and a.reason and a.tag
        section, name = a.key.split(".")
        default = getattr(getattr(sc, section), name)
        if a.key == "hiring.b_jss":
            default = 1.0  # a multiplier of the scenario's own band terms
        elif a.key == "freelancer.quality":
            default = default[4]  # the five-star share
        assert a.low <= default <= a.high, a.key


def test_a_scenario_narrows_a_range_and_unknown_or_inverted_ranges_are_errors():
    sc = sim.validate_scenario({"uncertainty": {"ranges": {"hiring.b_top_rated": [0.5, 0.6]}}})
    assert ranges(sc)["hiring.b_top_rated"] == (0.5, 0.6)
    assert ranges(sc)["hiring.b_stars"] == (0.3, 0.9)
    bad = {"hiring.nope": [0, 1], "hiring.b_stars": [1, 0], "market.competitors": [5, 9]}
    bad["also.unknown"] = [2, 1]
    with pytest.raises(sim.ScenarioError) as e:
        sim.validate_scenario({"uncertainty": {"ranges": bad}}, "case.toml")
    found = {(key, message) for _, key, message in e.value.problems}
    assert {source for source, _, _ in e.value.problems} == {"case.toml"}
    # every bad entry by its own dotted key, as TOML writes it; the good one not at all
    assert found == {
        ('uncertainty.ranges."hiring.nope"', "not an assumption with a range (see docs/model.md)"),
        ('uncertainty.ranges."also.unknown"', "not an assumption with a range (see docs/model.md)"),
        ('uncertainty.ranges."also.unknown"', "low 2 is above high 1"),
        ('uncertainty.ranges."hiring.b_stars"', "low 1 is above high 0"),
    }


def _outsider(**uncertainty) -> sim.Scenario:
    """The reference case with capacity 5 and contracts of 12 weeks, both past their registry
    ranges (1-3 and 2-8), with assumption uncertainty on."""
    data = reference_data()
    data.setdefault("freelancer", {})["capacity"] = 5
    data.setdefault("market", {})["contract_weeks"] = 12
    data["uncertainty"] = {"on": True, **uncertainty}
    return small(data, paths=512, weeks=8)


def test_her_own_value_carries_the_range_the_run_draws_from():
    sc = _outsider()
    spans = ranges(sc)
    assert spans["freelancer.capacity"] == (2, 8)  # 1-3 around 2, scaled by 5 / 2, whole
    assert isinstance(spans["freelancer.capacity"][1], int)  # a whole-number setting
    assert spans["market.contract_weeks"] == (6.0, 24.0)  # 2-8 around 4, scaled by 12 / 4
    assert spans["hiring.b_stars"] == (0.3, 0.9)  # within its range: the registry's
    design = make_design(sc)
    assert design.value("freelancer.capacity").max() > 3  # her capacity can be drawn
    assert design.value("market.contract_weeks").max() > 8
    assert outside_ranges(sc) == {}
    u = sim.run(sc).summary()["uncertainty"]
    assert u["ranges"]["freelancer.capacity"] == [2, 8] and u["outside_ranges"] == {}


def test_a_share_moves_its_range_by_the_difference_and_the_default_keeps_the_registry_range():
    assert all(ranges(sim.Scenario())[a.key] == (a.low, a.high) for a in ASSUMPTIONS)
    five = by_key("freelancer.quality")
    assert around(five, 0.95) == (0.9, 1.0)  # 0.85-0.95 around 0.90, moved by +0.05, within 1
    assert around(five, 0.60) == (0.55, 0.65)
    assert around(by_key("market.hire_share"), 0.9)[1] < 1  # the setting's open bound
    assert around(by_key("hiring.b_jss"), 1.0) == (0.0, 2.0)  # a multiplier: never moves


def test_moving_her_value_moves_the_figures_with_uncertainty_on():
    """A dashboard control on a drawn assumption must still change what the run gives."""
    data = reference_data()
    data["uncertainty"] = {"on": True}
    means = []
    for share in (0.90, 0.86):
        data.setdefault("freelancer", {})["quality"] = [0.0, 0.0, 0.01, 0.99 - share, share]
        summary = sim.run(small(data, paths=512, weeks=26)).summary()
        means.append(summary["differences"]["excluded"]["earnings"]["mean"])
    assert means[0] != means[1]


def test_a_range_the_scenario_sets_is_kept_as_written_and_flagged_when_it_leaves_her_out():
    sc = _outsider(ranges={"freelancer.capacity": [1, 3]})
    assert ranges(sc)["freelancer.capacity"] == (1, 3)
    assert ranges(sc)["market.contract_weeks"] == (6.0, 24.0)  # not set: carried to her 12
    assert make_design(sc).value("freelancer.capacity").max() == 3
    flagged = {"freelancer.capacity": {"value": 5.0, "range": [1.0, 3.0]}}
    assert outside_ranges(sc) == flagged
    summary = sim.run(sc).summary()
    assert summary["uncertainty"]["outside_ranges"] == flagged
    from app.cli_text import describe_run

    assert (
        "Note: freelancer.capacity is 5 in the scenario but its [uncertainty] range 1 to 3 "
        "leaves it out" in describe_run(summary)
    )
    # a range that holds her value is not flagged
    assert outside_ranges(_outsider(ranges={"freelancer.capacity": [2, 5]})) == {}


START = '[//]: # "ranges: python -m sim.assumptions writes this table"'
END = '[//]: # "end of ranges"'


def test_docs_table_is_the_registry():
    """docs/model.md's table of ranges is the registry's (regenerate: python -m sim.assumptions)."""
    text = (ROOT / "docs" / "model.md").read_text()
    table = text.split(START + "\n\n", 1)[1].split("\n" + END, 1)[0]
    assert table == markdown_table()
    for a in ASSUMPTIONS:
        assert f"| `{a.key}` |" in table


def test_the_about_page_shows_the_ranges():
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.switch_page("views/about.py").run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert "| `hiring.b_jss` | 1 (x 0 / -0.3 / -0.6 / -1) | 0 | 2 |" in shown


def test_the_documented_uncertainty_example_is_a_valid_scenario():
    text = (ROOT / "docs" / "model.md").read_text()
    example = re.search(r"```toml\n(\[uncertainty\].*?)```", text, re.S)
    assert example is not None
    sc = sim.loads_scenario(REFERENCE.read_text() + "\n" + example[1], "docs/model.md")
    assert sc.uncertainty.on
    assert ranges(sc)["hiring.b_jss"] == (0.5, 1.5)
    assert ranges(sc)["freelancer.capacity"] == (2, 2)
