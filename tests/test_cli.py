"""The `repsim` command end to end: outputs, reproducibility, exit codes, nothing half-written."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from helpers import REFERENCE, ROOT, leftovers, repsim

from app import cli

SMALL = ["--paths", "300", "--weeks", "20"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)  # http://, https://, //host


def tree(folder: Path, skip: tuple[str, ...] = ("manifest.json",)) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in skip
    }


class References(HTMLParser):
    """Every element attribute that would make a browser fetch from the network on load."""

    FETCHING: ClassVar[set[str]] = {
        "src",
        "href",
        "srcset",
        "data",
        "poster",
        "action",
        "formaction",
        "background",
    }

    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name in self.FETCHING and value and EXTERNAL.match(value):
                self.external.append(f"<{tag} {name}={value}>")
            if tag == "meta" and name == "content" and value and "url=" in value.lower():
                self.external.append(f"<meta {value}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def assert_offline_html(data: bytes) -> None:
    """No network reference a browser would follow when opening the file.

    vl-convert's bundled HTML inlines Vega, Vega-Lite and vega-embed. That JavaScript still holds
    URL *strings* that are never fetched on load: XML namespace identifiers (w3.org), the
    `$schema` id, a GitHub issue cited in an error message, and the Vega editor behind the actions
    menu's "Open in Vega Editor". So the test does not ban the text "http"; it bans what fetches:
    element attributes (script src, link href, img src, ...), CSS url()/@import, ES module
    imports from a URL, and data the charts would load by URL instead of carrying inline.
    """
    text = data.decode("utf-8")
    parser = References()
    parser.feed(text)
    assert parser.external == []
    assert parser.scripts, "the Vega libraries are inlined"
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.I)
    assert not re.search(r"<link\b", text, re.I)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", text, re.I)
    assert not re.search(r"@import\s+(?:url\()?\s*['\"]?(?:https?:)?//", text, re.I)
    assert not re.search(r"\bimport\s*(?:\(|[^;]*?\bfrom)\s*['\"](?:https?:)?//", text)
    spec = re.search(r"const spec = (\{.*?\});\n", text, re.S)
    assert spec, "the chart's spec is embedded"
    assert '"url"' not in spec.group(1)  # data inline, no fetch


# -- run --------------------------------------------------------------------------------------


def test_run_writes_every_output_valid_and_reproducible(tmp_path: Path):
    first = repsim("run", str(REFERENCE), *SMALL, "--seed", "5", "--out", "a", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    out = tmp_path / "a"
    assert {
        "summary.json",
        "bands.csv",
        "headlines.csv",
        "manifest.json",
        "scenario.toml",
        "charts",
    } == {p.name for p in out.iterdir()}
    charts = ["stars", "jss", "win_prob", "earnings", "recovery", "ratings_needed"]
    for name in charts:
        assert (out / f"charts/{name}.png").read_bytes().startswith(PNG_SIGNATURE)
        svg = (out / f"charts/{name}.svg").read_text()
        assert re.match(r"\s*(<\?xml[^>]*>\s*)?<svg\b", svg) and svg.rstrip().endswith("</svg>")
        assert_offline_html((out / f"charts/{name}.html").read_bytes())
        spec = json.loads((out / f"charts/{name}.vl.json").read_text())
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
        assert (out / f"charts/{name}.csv").read_text().count("\n") > 1

    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 5 and summary["paths"] == 300 and summary["weeks"] == 20
    bands = (out / "bands.csv").read_text().splitlines()
    assert bands[0] == "arm,metric,week,q05,q25,q50,q75,q95,mean"
    assert len(bands) == 1 + 2 * 8 * 20  # arms x metrics x weeks
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["repsim"]
    assert manifest["scenario"]["sha256"] == summary["scenario_sha256"]
    assert manifest["command"][:2] == ["repsim", "run"] and "--seed" in manifest["command"]
    assert {"python", "numpy", "scipy", "altair", "vl-convert-python"} <= set(manifest["versions"])
    assert all(manifest["versions"].values())
    assert not re.search(r"\b20\d\d-\d\d-\d\d[T ]\d\d:\d\d", (out / "manifest.json").read_text())
    assert manifest["files"]["summary.json"] and len(manifest["files"]) == 4 + 6 * 5

    assert "Stars now: kept 4.20, excluded 5.00" in first.stdout
    assert re.search(
        r"earnings\s+\+\$[\d,]+\s+\(90% interval \+\$[\d,]+ to \+\$[\d,]+\)", first.stdout
    )
    assert "win rate back to 95% of excluded's" in first.stdout
    assert first.stderr == ""  # no bar: not a terminal

    again = repsim(  # on two worker processes this time: the same bytes
        "run",
        str(REFERENCE),
        *SMALL,
        "--seed",
        "5",
        "--out",
        "b",
        "--formats",
        "svg",
        "--workers",
        "2",
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    for name in ("summary.json", "bands.csv", "scenario.toml", "charts/stars.svg"):
        assert (out / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "b/charts").iterdir()) == sorted(
        f"{c}.svg" for c in charts
    )
    assert leftovers(tmp_path) == []


def test_check_lists_every_problem_of_every_file(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    text = REFERENCE.read_text()
    bad.write_text(
        text.replace("capacity = 2", "capacity = 99\nbogus = 1").replace(
            'rule = "exclude_flagged"', 'rule = "exclude_flaged"'
        )
    )
    result = repsim("check", str(REFERENCE), str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{REFERENCE}: ok" in result.stdout
    lines = result.stderr.splitlines()
    assert lines == [
        f"{bad}: freelancer.capacity: Input should be less than or equal to 10 (got 99)",
        f"{bad}: freelancer.bogus: unknown key",
        f"{bad}: arms[1].rule: unknown rule 'exclude_flaged'; expected one of keep, "
        "exclude_flagged, flagged_client, suspended_client, whitby, window, oracle, drop_below, "
        "without_unfair",
    ]
    good = repsim("check", str(REFERENCE), cwd=tmp_path)
    assert good.returncode == 0 and good.stderr == ""


# -- sweep ------------------------------------------------------------------------------------


def test_sweep_serial_and_on_a_local_dask_cluster_give_identical_bytes(tmp_path: Path):
    grid = ["--set", "freelancer.proposals_per_week=5,10", "--set", "arms[1].delay_weeks=0,6"]
    common = ["sweep", str(REFERENCE), *SMALL, "--seed", "11", *grid, "--formats", "svg,csv,json"]
    serial = repsim(*common, "--out", "serial", cwd=tmp_path)
    assert serial.returncode == 0, serial.stderr
    dask = repsim(*common, "--out", "dask", "--cluster", "local", cwd=tmp_path, timeout=180)
    assert dask.returncode == 0, dask.stderr

    a, b = tree(tmp_path / "serial"), tree(tmp_path / "dask")
    assert a == b
    assert sorted(a) == [
        "charts/sweep.csv",
        "charts/sweep.svg",
        "charts/sweep.vl.json",
        *[f"points/{i:03d}/{f}" for i in range(4) for f in ("scenario.toml", "summary.json")],
        "sweep.csv",
    ]
    rows = a["sweep.csv"].decode().splitlines()
    assert rows[0].startswith("point,freelancer.proposals_per_week,arms[1].delay_weeks,seed,")
    assert [r.split(",")[:3] for r in rows[1:]] == [
        ["0", "5", "0"], ["1", "5", "6"], ["2", "10", "0"], ["3", "10", "6"]
    ]  # fmt: skip
    assert len(rows) == 5
    point = json.loads(a["points/002/summary.json"])
    assert str(point["seed"]) == rows[3].split(",")[3] and point["paths"] == 300
    manifests = [
        json.loads((tmp_path / d / "manifest.json").read_text()) for d in ("serial", "dask")
    ]
    assert [m["executor"] for m in manifests] == ["in-process", "dask LocalCluster (2 workers)"]
    assert manifests[0]["seed"] == 11 and manifests[0]["grid"]["arms[1].delay_weeks"] == [0, 6]
    # a point's scenario.toml reruns that point exactly
    rerun = repsim(
        "run",
        str(tmp_path / "dask/points/002/scenario.toml"),
        "--out",
        "p2",
        "--formats",
        "json",
        cwd=tmp_path,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert (tmp_path / "p2/summary.json").read_bytes() == a["points/002/summary.json"]
    assert leftovers(tmp_path) == []


# -- invalid input: exit 2, one line naming the key, nothing written ----------------------------


def _edit(old: str, new: str) -> str:
    text = REFERENCE.read_text()
    assert old in text
    return text.replace(old, new, 1)


SCENARIO_PROBLEMS = {
    "malformed": (
        'name = "unterminated\n[run\n',
        r"bad\.toml: not valid TOML: .*\(at line 1, column \d+\)",
    ),
    "unknown key": (
        _edit("capacity = 2", "capacity = 2\nbogus = 1"),
        r"bad\.toml: freelancer\.bogus: unknown key",
    ),
    "out of range": (
        _edit("capacity = 2", "capacity = 0"),
        r"bad\.toml: freelancer\.capacity: .*greater than or equal to 1 \(got 0\)",
    ),
    "unknown rule": (
        _edit('"exclude_flagged"', '"retaliate"'),
        r"bad\.toml: arms\[1\]\.rule: unknown rule 'retaliate'; expected one of keep, .*",
    ),
}


@pytest.mark.parametrize("case", SCENARIO_PROBLEMS, ids=str)
def test_invalid_scenarios_exit_2_naming_the_key(tmp_path: Path, case: str):
    text, pattern = SCENARIO_PROBLEMS[case]
    (tmp_path / "bad.toml").write_text(text)
    result = repsim("run", "bad.toml", *SMALL, "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert re.fullmatch(pattern + "\n", result.stderr), result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


BAD_ARGUMENTS = {
    "unknown --set key": (
        ["sweep", "--set", "freelancer.bogus=1,2"],
        "--set: freelancer.bogus: unknown key; freelancer has capacity, hourly_rate, "
        "hours_per_week, proposals_per_week, quality, service_fee",
    ),
    "--set value of the wrong type": (
        ["sweep", "--set", "freelancer.proposals_per_week=5,ten"],
        '--set: freelancer.proposals_per_week: expected an integer, got "ten"',
    ),
    "--set value out of range": (
        ["sweep", "--set", "arms[1].delay_weeks=0,-3"],
        "--set: arms[1].delay_weeks: Input should be greater than or equal to 0 (got -3)",
    ),
    "--set index out of range": (
        ["sweep", "--set", "history[5].stars=2,3.4"],
        "--set: history[5].stars: no such entry: history has 2 (indices from 0)",
    ),
    "--paths out of range": (
        ["run", "--paths", "0"],
        "--paths: Input should be greater than or equal to 1 (got 0)",
    ),
    "unwritable --out": (["run", "--out", "a-file/out"], "--out: a-file: is a file, not a folder"),
    "unwritable --out, deeper": (
        ["run", "--out", "a-file/x/out"],
        "--out: a-file/x: cannot create the folder (Not a directory)",
    ),
    "--out is a file": (["run", "--out", "a-file"], "--out: a-file: is a file, not a folder"),
    "full --out without --force": (
        ["run", "--out", "full"],
        "--out: full: exists and is not empty; pass --force to replace it",
    ),
    "full --out, sweep": (
        ["sweep", "--set", "freelancer.capacity=1", "--out", "full"],
        "--out: full: exists and is not empty; pass --force to replace it",
    ),
    "unknown format": (
        ["run", "--formats", "png,gif"],
        "repsim run: argument --formats: unknown format 'gif'; choose from png,svg,html,csv,json",
    ),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=str)
def test_invalid_arguments_exit_2_naming_the_key(tmp_path: Path, case: str):
    args, line = BAD_ARGUMENTS[case]
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "full").mkdir()
    (tmp_path / "full/keep.txt").write_text("precious")
    before = tree(tmp_path, skip=())
    command, *rest = args
    result = repsim(command, str(REFERENCE), *SMALL, *rest, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == line
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert tree(tmp_path, skip=()) == before
    assert leftovers(tmp_path) == []


def test_force_replaces_a_full_out(tmp_path: Path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out/stale.txt").write_text("old run")
    result = repsim(
        "run", str(REFERENCE), *SMALL, "--out", "out", "--force", "--formats", "csv", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "out/stale.txt").exists() and (tmp_path / "out/summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    here = repsim("run", str(REFERENCE), "--out", str(tmp_path), "--force", cwd=tmp_path / "out")
    assert here.returncode == 2 and "refusing to replace it" in here.stderr


# -- failures: exit 1 (traceback only with --debug), nothing half-written ------------------------


def test_a_failure_midway_leaves_nothing_and_keeps_the_old_out(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    calls = []

    def broken(name, chart, fmt):
        calls.append(name)
        if len(calls) == 3:
            raise RuntimeError("renderer crashed")
        return f"charts/{name}.{fmt}", b"x"

    monkeypatch.setattr(cli, "chart_file", broken)
    args = ["run", str(REFERENCE), *SMALL, "--out", "deep/er/out", "--formats", "svg"]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "repsim: unexpected failure: RuntimeError: renderer crashed",
        "(run again with --debug for the traceback)",
    ]
    assert list(tmp_path.iterdir()) == []  # not even the parents it created

    (tmp_path / "out").mkdir()
    (tmp_path / "out/old.txt").write_text("previous run")
    calls.clear()
    assert cli.main(["--debug", "run", str(REFERENCE), *SMALL, "--out", "out", "--force"]) == 1
    assert "Traceback" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["old.txt"]
    calls.clear()
    assert cli.main(["run", str(REFERENCE), *SMALL, "--out", "out", "--force", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_interrupt_during_the_simulation_cleans_up(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["run", str(REFERENCE), "--paths", "400000", "--weeks", "104", "--out", "big"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not leftovers(tmp_path) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert leftovers(tmp_path), "the temporary folder appears beside --out"
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


# -- small parts --------------------------------------------------------------------------------


def test_progress_bar_only_on_a_terminal():
    class Stream(list):
        def __init__(self, tty: bool):
            super().__init__()
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

        def write(self, s: str) -> None:
            self.append(s)

        def flush(self) -> None:
            pass

    quiet, tty = Stream(False), Stream(True)
    for stream in (quiet, tty):
        with cli.Progress("simulating", "paths", stream) as bar:
            bar(5, 10)
            bar(10, 10)
    assert quiet == []
    assert (
        tty[-2].startswith("\rsimulating [") and tty[-2].endswith("10/10 paths") and tty[-1] == "\n"
    )


def test_app_execs_streamlit_on_the_dashboard(tmp_path: Path, monkeypatch):
    main_py = tmp_path / "main.py"
    main_py.write_text("")
    monkeypatch.setattr(cli, "dashboard_path", lambda: main_py)
    calls = []
    monkeypatch.setattr(cli.os, "execv", lambda exe, argv: calls.append((exe, argv)))
    assert cli.main(["app", "--port", "8600", str(REFERENCE)]) in (0, 1)
    exe, argv = calls[0]
    assert exe == sys.executable
    streamlit = [sys.executable, "-m", "streamlit", "run", str(main_py)]
    assert argv == [*streamlit, "--server.port", "8600", "--", str(REFERENCE)]
    (tmp_path / "bad.toml").write_text("x = [")
    assert cli.main(["app", str(tmp_path / "bad.toml")]) == 2 and len(calls) == 1


def test_help_and_version_exit_0(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("repsim ")
    assert cli.main(["sweep", "--help"]) == 0
    assert "--set KEY=V1,V2" in capsys.readouterr().out
    assert cli.main([]) == 2 and "required" in capsys.readouterr().err


def test_stable_file_formats():
    assert cli.json_bytes({"b": 0.1 + 0.2, "a": [1, None]}) == (
        b'{\n  "a": [\n    1,\n    null\n  ],\n  "b": 0.30000000000000004\n}\n'
    )
    rows = [{"x": 1 / 3, "y": float("nan"), "z": True, "w": [1, 2]}]
    assert cli.csv_bytes(["x", "y", "z", "w", "v"], rows) == (
        b'x,y,z,w,v\n0.3333333333,,true,"[1, 2]",\n'
    )
