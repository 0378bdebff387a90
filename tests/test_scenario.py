"""Scenario files: defaults, round trips, and every problem reported by its dotted key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from helpers import SCENARIOS, reference_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.scenario import ScenarioError, dumps_scenario, loads_scenario, validate_scenario

PRESETS = sorted(SCENARIOS.glob("*.toml"))


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as e:
        validate_scenario(data, "s.toml")
    return [(key, msg) for _, key, msg in e.value.problems]


def test_presets_exist_and_load():
    names = {p.stem for p in PRESETS}
    assert {
        "second-job-retaliation",
        "established-freelancer",
        "support-queue-six-weeks",
        "flagged-client-rule",
        "statistical-filters",
        "sceptical-buyers",
    } <= names
    for path in PRESETS:
        sc = sim.load_scenario(path)
        assert sc.description.strip(), f"{path.name} needs a description a user understands"


def test_established_preset_has_forty_five_star_contracts():
    sc = sim.load_scenario(SCENARIOS / "established-freelancer.toml")
    stars = sc.history_stars()
    assert (stars == 5.0).sum() == 40
    assert abs(stars[-1] - 3.4) < 1e-12 and sc.history[-1].flagged


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_round_trip_is_exact(path: Path, tmp_path: Path):
    sc = sim.load_scenario(path)
    out = sim.save_scenario(sc, tmp_path / "again.toml")
    again = sim.load_scenario(out)
    assert again == sc
    assert dumps_scenario(again) == dumps_scenario(sc)
    assert again.sha256() == sc.sha256()


def test_save_refuses_to_overwrite(tmp_path: Path, reference):
    target = tmp_path / "s.toml"
    target.write_text("precious")
    with pytest.raises(FileExistsError, match="exists"):
        sim.save_scenario(reference, target)
    assert target.read_text() == "precious"
    sim.save_scenario(reference, target, overwrite=True)
    assert sim.load_scenario(target) == reference


def test_defaults_are_model_md():
    sc = sim.Scenario()
    assert sc.freelancer.quality == (0.003, 0.003, 0.009, 0.085, 0.90)
    assert sc.hiring.b_rising_talent == 0.0 and sc.hiring.b_top_rated == 0.69
    assert sc.freelancer.service_fee == 0.10
    assert sc.signals.feedback_rate == 0.82
    assert sc.hiring.b_stars == 0.57 and sc.hiring.b_reviews == 0.136
    assert sc.hiring.b_jss == (0.0, -0.3, -0.6, -1.0)
    assert sc.jss.success_at == 4.5 and sc.jss.fail_below == 4.0
    assert sc.market.competitors == 25 and sc.market.contract_weeks == 4.0
    assert sc.arm_names() == ("kept", "excluded")


def test_reference_contract_score_from_criteria(reference):
    stars = reference.history_stars()
    assert stars[0] == 5.0
    assert abs(stars[1] - 3.4) < 1e-12  # 20.4 / 6 under equal weights


def test_out_of_range_stars_names_the_key():
    data = reference_data()
    data["history"][1]["stars"] = 6
    data["history"][1].pop("criteria")
    [(key, msg)] = problems(data)
    assert key == "history[1].stars"
    assert "less than or equal to 5" in msg


def test_every_problem_at_once():
    data = reference_data()
    data["run"]["paths"] = 0
    data["freelancer"]["hourly_rate"] = -3
    data["history"][0]["colour"] = "red"
    data["arms"][1]["rule"] = "forgive"
    found = dict(problems(data))
    assert set(found) == {
        "run.paths",
        "freelancer.hourly_rate",
        "history[0].colour",
        "arms[1].rule",
    }
    assert found["history[0].colour"] == "unknown key"
    assert "unknown rule 'forgive'" in found["arms[1].rule"]


def test_rule_parameter_of_another_rule_is_unknown():
    data = reference_data()
    data["arms"][0]["threshold"] = 3.0  # a harsh_rater parameter on a keep arm
    assert problems(data) == [("arms[0].threshold", "unknown key")]


def test_rule_parameter_out_of_range_keeps_its_path():
    data = reference_data()
    data["arms"][1]["delay_weeks"] = -1
    [(key, _)] = problems(data)
    assert key == "arms[1].delay_weeks"


def test_stars_and_criteria_must_agree():
    data = reference_data()
    data["history"][1]["stars"] = 4.0
    [(_, msg)] = problems(data)
    assert "differ" in msg and "history[1]" in msg


def test_quality_must_sum_to_one():
    data = reference_data()
    data["freelancer"]["quality"] = [0.2, 0.2, 0.2, 0.2, 0.3]
    [(key, msg)] = problems(data)
    assert key == "freelancer.quality" and "sum to 1" in msg


def test_window_needs_exactly_one_limit():
    data = reference_data()
    data["arms"].append({"name": "window", "rule": "window", "last_n": 3, "last_weeks": 8})
    [(key, msg)] = problems(data)
    assert key == "arms[2]" and "exactly one" in msg


def test_duplicate_arm_names():
    data = reference_data()
    data["arms"][1]["name"] = "kept"
    [(_, msg)] = problems(data)
    assert "unique" in msg and "kept" in msg


def test_flagged_contract_needs_feedback():
    data = reference_data()
    data["history"][1].pop("criteria")
    [(key, msg)] = problems(data)
    assert key == "history[1]" and "flagged" in msg


def test_run_too_large_for_memory_is_refused_before_allocating():
    data = reference_data()
    data["run"].update(paths=10_000_000, weeks=1040)
    data["arms"] = [{"name": f"a{i}", "rule": "keep"} for i in range(12)]
    [(_, msg)] = problems(data)
    assert "GiB" in msg and "budget" in msg


def test_malformed_toml_names_the_file():
    with pytest.raises(ScenarioError) as e:
        loads_scenario("name = ", "broken.toml")
    assert e.value.lines()[0].startswith("broken.toml: not valid TOML")


def test_missing_file_is_a_scenario_error(tmp_path: Path):
    with pytest.raises(ScenarioError, match="cannot read"):
        sim.load_scenario(tmp_path / "nope.toml")


# -- any mutation of a valid scenario: a ScenarioError with dotted keys, never another exception --

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(-3, 9), max_size=6),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _leaves(x: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(x, dict):
        out = [path] if path else []
        for k, v in x.items():
            out += _leaves(v, (*path, k))
        return out
    if isinstance(x, list):
        out = [path]
        for i, v in enumerate(x):
            out += _leaves(v, (*path, i))
        return out
    return [path]


def _set(data: Any, path: tuple, value: Any) -> None:
    for p in path[:-1]:
        data = data[p]
    data[path[-1]] = value


BASE = reference_data()
LEAVES = _leaves(BASE)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(LEAVES), JUNK), min_size=1, max_size=3),
    st.lists(st.tuples(st.sampled_from(LEAVES), st.text(min_size=1, max_size=6)), max_size=1),
)
def test_mutated_scenarios_fail_cleanly(mutations, extra_keys):
    data = copy.deepcopy(BASE)
    for path, value in mutations:
        try:
            _set(data, path, value)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation replaced the parent
    for path, key in extra_keys:
        try:
            parent = data
            for p in path:
                parent = parent[p]
            if isinstance(parent, dict):
                parent[key] = 1
        except (KeyError, IndexError, TypeError):
            pass
    try:
        sc = validate_scenario(data, "m.toml")
    except ScenarioError as e:
        assert e.problems
        for source, _key, message in e.problems:
            assert source == "m.toml" and message
            assert "Traceback" not in message
        return
    assert isinstance(sc, sim.Scenario)  # a mutation may be valid; it must then round-trip
    assert loads_scenario(dumps_scenario(sc)) == sc
    # ... and run: every valid scenario simulates (kept small so the property stays fast)
    small_run = sc.model_dump()
    small_run["run"].update(paths=256, weeks=min(sc.run.weeks, 6))
    small_run["market"]["field_size"] = min(sc.market.field_size, 64)
    res = sim.run(validate_scenario(small_run, "m.toml"))
    assert res.summary()["paths"] == 256


def test_messages_a_person_can_act_on():
    data = reference_data()
    data["freelancer"]["hourly_rate"] = float("nan")
    data["freelancer"]["quality"] = [0.5, 0.5]
    data["arms"] = [{"name": "a", "rule": "forgive"}]
    found = dict(problems(data))
    assert found["freelancer.hourly_rate"] == "must be a finite number (got nan)"
    assert found["freelancer.quality"] == "expected 5 values, got 2"
    assert "arms" not in found  # no follow-on "at least 1 item" when the item itself is wrong
    assert "unknown rule 'forgive'" in found["arms[0].rule"]
    table = reference_data()
    table["arms"] = {"name": "a", "rule": "keep"}  # [arms] written as a table
    assert "write [[name]]" in dict(problems(table))["arms"]
