"""The tornado (sim.sensitivity), `with_value`, and `repsim sensitivity` end to end."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from helpers import REFERENCE, leftovers, reference_data, repsim, small

import sim
from app.sensitivity_command import tornado_csv
from sim import sensitivity as sens
from sim.assumptions import ASSUMPTIONS, by_key, default_value, with_value

SIGNED = tuple(a.key for a in ASSUMPTIONS if a.sign)


# -- with_value ----------------------------------------------------------------------------------


def test_with_value_sets_each_kind_of_assumption():
    sc = sim.load_scenario(REFERENCE)
    assert with_value(sc, "hiring.b_stars", 0.9).hiring.b_stars == 0.9
    # integers take the nearest whole number, halves up
    assert with_value(sc, "freelancer.capacity", 2.5).freelancer.capacity == 3
    assert with_value(sc, "freelancer.capacity", 1.49).freelancer.capacity == 1
    assert with_value(sc, "market.competitors", 10.0).market.competitors == 10
    # b_jss multiplies the scenario's own band terms; 0 ignores the JSS (no -0.0 written)
    assert with_value(sc, "hiring.b_jss", 2).hiring.b_jss == (0.0, -0.6, -1.2, -2.0)
    assert "-0.0" not in sim.dumps_scenario(with_value(sc, "hiring.b_jss", 0))
    # the five-star share, the other four rescaled in proportion
    q = with_value(sc, "freelancer.quality", 0.95).freelancer.quality
    assert q[4] == 0.95 and math.isclose(sum(q), 1.0)
    old = sc.freelancer.quality
    assert np.allclose(np.array(q[:4]) / sum(q[:4]), np.array(old[:4]) / sum(old[:4]))
    # the JSS thresholds stay ordered: the other one moves along
    j = with_value(sc, "jss.fail_below", 4.8).jss
    assert (j.fail_below, j.success_at) == (4.8, 4.8)
    j = with_value(sc, "jss.success_at", 3.5).jss
    assert (j.fail_below, j.success_at) == (3.5, 3.5)
    # the value in the registry's units reads back; nothing else changes
    for a in ASSUMPTIONS:
        value = default_value(sc, a.key)
        assert with_value(sc, a.key, value) == sc, a.key


def test_with_value_keeps_the_uncertainty_table():
    data = reference_data()
    data["uncertainty"] = {"on": True, "ranges": {"hiring.b_stars": [0.5, 0.6]}}
    sc = sim.validate_scenario(data)
    assert with_value(sc, "hiring.b_stars", 0.55).uncertainty == sc.uncertainty


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("hiring.nope", 1.0, "not an assumption"),
        ("market.competitors", -5, "greater than or equal to 0"),
        ("hiring.b_jss", -1, "at least 0"),
        ("hiring.b_jss", 20, "between -10 and 10"),
        ("freelancer.quality", 1.2, "from 0 to 1"),
        ("hiring.b_stars", math.nan, "finite"),
        ("hiring.b_stars", True, "expected a number"),
        ("hiring.b_stars", "0.5", "expected a number"),
        ("market.hire_share", 1.0, "less than 1"),
    ],
)
def test_with_value_refuses_a_bad_value_naming_the_key(key: str, value: object, words: str):
    sc = sim.load_scenario(REFERENCE)
    with pytest.raises(sim.ScenarioError, match=words) as e:
        with_value(sc, key, value, source="case.toml")  # type: ignore[arg-type]
    assert e.value.problems[0][:2] == ("case.toml", key)


# -- the tornado ---------------------------------------------------------------------------------


def test_the_tornado_runs_what_sim_run_runs():
    """Each modified scenario's figures equal `sim.run`'s, bit for bit (the market reused for a
    field-free change, rebuilt for a hiring coefficient)."""
    base = small(paths=600, weeks=30)
    cases = [("market.contract_weeks", 6.0), ("hiring.b_stars", 0.9), ("freelancer.capacity", 3)]
    for i, (key, value) in enumerate(cases):
        if i == 2:  # several chunks, merged
            base = small(paths=600, weeks=30, chunk_paths=256)
        sc = with_value(base, key, value)
        ours = sens.run_on(sc, sens.market_of(sc, base))
        theirs = sim.run(sc)
        assert np.array_equal(
            ours.paired("excluded", "earnings"), theirs.paired("excluded", "earnings")
        )
        assert np.array_equal(ours.recovery["excluded"], theirs.recovery["excluded"])
        assert sens.figures(ours, "excluded") == sens.figures(theirs, "excluded")


@pytest.fixture(scope="module")
def signed() -> sens.Tornado:
    """The reference case's tornado over the assumptions with a documented sign, at the
    tornado's default size."""
    return sens.tornado(sim.load_scenario(REFERENCE), SIGNED)


def test_swings_have_the_documented_signs_on_the_reference_case(signed: sens.Tornado):
    assert SIGNED  # e.g. a harsher JSS penalty never lowers the cost
    for b in signed.bars["earnings"]:
        # the cost, excluded minus kept, moves the documented way from low through the default
        # to high, and by more than the Monte Carlo noise of a swing (about 3% here)
        assert b.sign * b.swing > 0.1 * abs(b.at_default), b.key
        assert b.sign * (b.at_default - b.at_low) >= 0, b.key
        assert b.sign * (b.at_high - b.at_default) >= 0, b.key
    swings = [abs(b.swing) for b in signed.bars["earnings"]]
    assert swings == sorted(swings, reverse=True)


def test_a_range_of_width_zero_or_a_bound_at_the_default_gives_exactly_zero():
    data = reference_data()
    data["uncertainty"] = {
        "on": True,  # a tornado turns it off: one assumption at a time
        "ranges": {"hiring.b_stars": [0.8, 0.8], "market.competitors": [25, 40]},
    }
    sc = sim.validate_scenario(data)
    t = sens.tornado(sc, ["hiring.b_stars", "market.competitors"], paths=512)
    for figure in sens.FIGURES:
        bars = {b.key: b for b in t.bars[figure]}
        assert bars["hiring.b_stars"].swing in (0.0, None)
        assert bars["hiring.b_stars"].at_low == bars["hiring.b_stars"].at_high
        assert bars["market.competitors"].at_low == t.base[figure]  # 25 is the default
    assert {b.key: b.swing for b in t.bars["earnings"]}["hiring.b_stars"] == 0.0


def test_tornado_csv_is_the_same_bytes_for_the_same_seed_whatever_runs_it():
    sc = small(paths=512, weeks=30)
    keys = ["hiring.b_jss", "market.contract_weeks", "freelancer.capacity"]
    serial = tornado_csv(sens.tornado(sc, keys, paths=512))
    with ThreadPoolExecutor(3) as pool:  # finished in any order
        threaded = tornado_csv(sens.tornado(sc, keys, paths=512, executor=pool))
    assert serial == threaded
    other = tornado_csv(sens.tornado(sim.with_run(sc, seed=1), keys, paths=512))
    assert other != serial
    header, *rows = serial.decode().splitlines()
    assert header == ",".join(sens.COLUMNS)
    assert len(rows) == len(keys) * len(sens.FIGURES)


def test_default_choice_of_assumptions():
    sc = sim.load_scenario(REFERENCE)
    keys = sens.chosen_keys(sc)
    assert set(keys) >= {a.key for a in ASSUMPTIONS if a.varied}
    assert "jss.fail_below" in keys and "signals.prior_mean" not in keys
    assert not set(keys) & set(sens.OWN_FACTS)
    data = reference_data()
    data["arms"][1]["aggregator"] = "bayesian"
    assert "signals.prior_mean" in sens.chosen_keys(sim.validate_scenario(data))
    assert by_key("hiring.b_jss").sign == 1


def test_a_bound_the_setting_cannot_take_is_refused_when_the_file_loads():
    data = reference_data()
    data["uncertainty"] = {"ranges": {"market.competitors": [-5, 10]}}
    with pytest.raises(sim.ScenarioError) as e:
        sim.validate_scenario(data, "case.toml")
    source, key, message = e.value.problems[0]
    assert (source, key) == ("case.toml", "uncertainty.ranges")
    assert message.startswith("'market.competitors': [-5, 10] must be at least 0")


# -- repsim sensitivity --------------------------------------------------------------------------


def test_cli_writes_the_tornado_files_and_a_manifest_line(tmp_path: Path):
    out = tmp_path / "t"
    common = ["sensitivity", str(REFERENCE), "--paths", "300", "--weeks", "30"]
    common += ["--assumptions", "hiring.b_jss,market.contract_weeks", "--formats", "png,csv,json"]
    args = [*common, "--out", str(out), "--workers", "2"]
    r = repsim(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "hiring.b_jss" in r.stdout and "largest swings" in r.stdout
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == [
        "charts/tornado.csv",
        "charts/tornado.png",
        "charts/tornado.vl.json",
        "manifest.json",
        "scenario.toml",
        "tornado.csv",
    ]
    assert (out / "charts/tornado.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tornado"]["assumptions"] == ["hiring.b_jss", "market.contract_weeks"]
    assert manifest["tornado"]["paths"] == 300 and manifest["command"][1] == "sensitivity"
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    again = tmp_path / "again"  # in one process rather than two: the same bytes
    r = repsim(*common, "--out", str(again), "--workers", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (again / "tornado.csv").read_bytes() == (out / "tornado.csv").read_bytes()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--assumptions", "hiring.nope,hiring.b_jss"], "--assumptions: hiring.nope: not an"),
        (["--assumptions", " , "], "--assumptions: is empty"),
        (["--arm", "kept"], "arm: 'kept' is not a compared rule (excluded)"),
        (["--paths", "0"], "--paths: "),
        (["--formats", "gif"], "unknown format 'gif'"),
        (["--workers", "0"], "out of range"),
    ],
)
def test_cli_bad_arguments_exit_2_with_one_clear_line(tmp_path: Path, extra, expected):
    r = repsim("sensitivity", str(REFERENCE), "--out", str(tmp_path / "o"), *extra, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert expected in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_cli_names_the_file_and_key_of_a_bad_range(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    text = REFERENCE.read_text() + '\n[uncertainty.ranges]\n"market.competitors" = [-5, 10]\n'
    bad.write_text(text)
    r = repsim(
        "sensitivity", str(bad), "--paths", "256", "--out", str(tmp_path / "o"), cwd=tmp_path
    )
    assert r.returncode == 2
    assert (
        f"{bad}: uncertainty.ranges: 'market.competitors': [-5, 10] must be at least 0" in r.stderr
    )
    bad.write_text(REFERENCE.read_text() + '\n[uncertainty.ranges]\n"x.y" = [2, 1]\n')
    r = repsim("sensitivity", str(bad), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count('uncertainty.ranges."x.y"') == 2  # unknown, and inverted


def _bar(low, default, high, at_low, at_default, at_high, key="k") -> sens.Bar:
    return sens.Bar("earnings", key, "A", low, default, high, at_low, at_default, at_high, 0)


def test_variance_share_first_order():
    # linear: (swing)^2 / 12, whatever the default's place
    assert math.isclose(_bar(0, 0.5, 1, 10, 15, 20).variance, 100 / 12)
    assert math.isclose(_bar(0, 0.25, 1, 10, 12.5, 20).variance, 100 / 12)
    # a default outside a narrowed range: linear between the ends
    assert math.isclose(_bar(2, 1, 3, 0, 5, 6).variance, 36 / 12)
    # nothing moves: no variance; a V shape has variance where the swing is zero
    assert _bar(0, 0.5, 1, 7, 7, 7).variance == 0.0
    assert _bar(0, 0.5, 1, 1, 0, 1).swing == 0 and _bar(0, 0.5, 1, 1, 0, 1).variance > 0
    assert _bar(0, 0.5, 1, None, 3, 4).variance is None
    t = sens.Tornado(
        "s", "h", "kept", "excluded", 10, 10, 1, {"earnings": 15.0},
        bars={"earnings": (_bar(0, 0.5, 1, 10, 15, 20, "a"), _bar(0, 0.5, 1, 13, 15, 17, "b"))},
    )  # fmt: skip
    shares = t.variance_shares("earnings")
    assert math.isclose(shares["a"], 100 / 116) and math.isclose(sum(shares.values()), 1.0)
