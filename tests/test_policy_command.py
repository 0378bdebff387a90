"""`repsim policy`: the frontier of a population as files; bad input named, nothing written."""

from __future__ import annotations

import pytest
from helpers import REFERENCE, leftovers

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
