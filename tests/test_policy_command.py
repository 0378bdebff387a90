"""`repsim policy`: the frontier of a population as files; bad input named, nothing written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from helpers import REFERENCE, ROOT, leftovers

import sim
from app.cli import main

SMALL = ["--paths", "256", "--weeks", "12"]

BAD = {
    "a frontier setting out of range": (
        ["--set", "whitby.q=0.01,0.7"],
        "--set: whitby.q: Input should be less than 0.5 (got 0.7)",
    ),
    "a frontier setting not a number": (
        ["--set", "window.last_n=5,ten"],
        "--set: window.last_n: expected numbers, got 'ten'",
    ),
    "a frontier setting not whole": (
        ["--set", "exclude_flagged.delay_weeks=1.5"],
        "--set: exclude_flagged.delay_weeks: expected whole numbers, got 1.5",
    ),
    "a scenario key with several values": (
        ["--set", "freelancer.capacity=1,2"],
        "--set: freelancer.capacity: takes one value (only the frontier's parameters take "
        "several: flagged_client.threshold, whitby.q, window.last_n, signals.prior_weight, "
        "exclude_flagged.delay_weeks)",
    ),
    "an unknown key": (
        ["--set", "whitby.p=0.1"],
        "--set: whitby.p: unknown key; the scenario has arms, description, freelancer, ",
    ),
    "a scenario value out of range": (
        ["--set", "freelancer.capacity=0"],
        "--set: freelancer.capacity: Input should be greater than or equal to 1 (got 0)",
    ),
    "a key given twice": (
        ["--set", "whitby.q=0.1", "--set", "whitby.q=0.2"],
        "--set: whitby.q: given twice; list every value in one --set",
    ),
    "the seed by --set": (["--set", "run.seed=3"], "--set: run.seed: each point's seed"),
    "--paths out of range": (["--paths", "0"], "--paths: Input should be greater than or equal"),
    "a full --out": (
        ["--out", "full"],
        "--out: full: exists and is not empty; pass --force to replace it",
    ),
    "no --out": (["--out", None], "repsim policy: the following arguments are required: --out"),
}


@pytest.mark.parametrize("case", BAD, ids=str)
def test_bad_input_exits_2_naming_the_key_and_writes_nothing(tmp_path, monkeypatch, capsys, case):
    args, start = BAD[case]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "full").mkdir()
    (tmp_path / "full/keep.txt").write_text("precious")
    out = ["--out", "out"]
    if "--out" in args:
        i = args.index("--out")
        out, args = ([] if args[i + 1] is None else args[i : i + 2]), args[:i] + args[i + 2 :]
    code = main(["policy", str(REFERENCE), *SMALL, *args, *out])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert err.splitlines()[0].startswith(start), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
    assert leftovers(tmp_path) == []


def test_policy_is_a_command_of_repsim(capsys):
    assert main(["policy", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--cluster local|ADDRESS" in text and "--out DIR" in text


# -- on the engine ------------------------------------------------------------------------------

POPULATION = ROOT / "tests" / "population-small.toml"
FEW = [
    "--set", "whitby.q=0.2", "--set", "exclude_flagged.delay_weeks=0,2",
    "--set", "flagged_client.threshold=3", "--set", "window.last_n=10",
    "--set", "signals.prior_weight=5",
]  # fmt: skip
HEADER = (
    "rule,arm,parameter,value,protection,protection_lo,protection_hi,protection_weeks,"
    "signal_lost,signal_lost_lo,signal_lost_hi,ranking_stars,ranking_stars_lo,ranking_stars_hi,"
    "ranking_jss,ranking_jss_lo,ranking_jss_hi,victims_harm,victims_harm_lo,victims_harm_hi,"
    "poor_gain,poor_gain_lo,poor_gain_hi,hired_quality,hired_quality_lo,hired_quality_hi,"
    "unfair_lows,fair_lows"
)


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_policy_files_are_the_same_bytes_in_process_and_on_a_local_dask_cluster(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = ["policy", str(POPULATION), "--paths", "512", "--weeks", "16", *FEW]
    assert main([*args, "--out", "serial"]) == 0
    printed = capsys.readouterr().out
    assert main([*args, "--out", "dask", "--cluster", "local", "--workers", "2"]) == 0
    serial, dask = files(tmp_path / "serial"), files(tmp_path / "dask")
    assert (
        set(serial)
        == set(dask)
        == {
            "policy.csv",
            "summary.json",
            "scenario.toml",
            "frontier.png",
            "frontier.svg",
            "frontier.html",
            "manifest.json",
        }
    )
    assert serial["frontier.png"].startswith(b"\x89PNG") and b"<svg" in serial["frontier.svg"]
    for name in serial:
        if name != "manifest.json":  # says what ran it
            assert serial[name] == dask[name], name
    manifests = [json.loads(f["manifest.json"]) for f in (serial, dask)]
    assert [m["executor"] for m in manifests] == ["in-process", "dask LocalCluster (2 workers)"]

    lines = serial["policy.csv"].decode().splitlines()
    assert lines[0] == HEADER
    table = list(csv.DictReader(lines))
    assert [(r["rule"], r["arm"], r["parameter"], r["value"]) for r in table] == [
        ("keep", "kept", "", ""),
        ("exclude_flagged", "reported", "", ""),
        ("oracle", "oracle", "", ""),
        ("flagged_client", "flagged_client threshold 3", "threshold", "3"),
        ("whitby", "whitby q 0.2", "q", "0.2"),
        ("window", "window last_n 10", "last_n", "10"),
        ("keep", "bayesian prior_weight 5", "prior_weight", "5"),
        ("exclude_flagged", "exclude_flagged delay_weeks 0", "delay_weeks", "0"),
        ("exclude_flagged", "exclude_flagged delay_weeks 2", "delay_weeks", "2"),
    ]
    assert (table[0]["protection"], table[2]["protection"]) == ("0", "1")
    summary = json.loads(serial["summary.json"])
    sc = sim.load_scenario(tmp_path / "serial" / "scenario.toml")
    assert summary["seed"] == sc.run.seed and summary["scenario"]["sha256"] == sc.sha256()
    assert summary["versions"]["numpy"] and summary["repsim"] == sim.__version__
    assert [m["arm"] for m in summary["measures"]] == [r["arm"] for r in table]
    assert "reported" in printed and "Wrote serial/" in printed
    assert leftovers(tmp_path) == []


def test_no_unfair_ratings_leave_empty_cells_and_say_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = [
        "policy", str(POPULATION), "--paths", "256", "--weeks", "12", "--out", "out",
        "--set", "population.clients.coercive_share=0", "--set", "market.harsh_client_share=0",
        *FEW, "--workers", "2",  # in process: a pool of two
    ]  # fmt: skip
    assert main(args) == 0
    manifest = json.loads((tmp_path / "out/manifest.json").read_text())
    assert manifest["executor"] == "2 processes"
    table = list(csv.DictReader((tmp_path / "out/policy.csv").read_text().splitlines()))
    assert table and all(r["unfair_lows"] == "0" for r in table)
    assert all(r["protection"] == r["protection_lo"] == r["victims_harm"] == "" for r in table)
    assert "no unfair" in capsys.readouterr().out
