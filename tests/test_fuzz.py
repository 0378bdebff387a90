"""The reliability fuzzer: scenario files, --set values and URL parameters, made by hypothesis.

Every input must end in a clear outcome: valid, or a `ScenarioError` whose lines name the
source and say what is wrong (exit 2 from `repsim check`), never another exception, and never
an allocation beyond the budget. `make test` runs FAST examples per target; `make soak`
(REPSIM_SOAK=1) runs SOAK. Each target writes its figures to `FIGURES/NAME.json`.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import tomli_w
from helpers import REFERENCE, reference_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from app import cli, controls, session
from sim import sweep as sw

SOAK = bool(os.environ.get("REPSIM_SOAK"))
EXAMPLES = 4000 if SOAK else 150
FIGURES = Path(os.environ.get("REPSIM_FUZZ_FIGURES", "/tmp/repsim-fuzz"))
ALLOCATION_LIMIT = 256 * 2**20  # bytes a rejected or accepted input may make us allocate
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


class Tally:
    """Outcomes of one target: valid inputs, clear errors and anything else (a traceback)."""

    def __init__(self, name: str):
        self.name, self.counts, self.started = name, Counter(), time.monotonic()
        self.tracebacks: list[str] = []

    def record(self, outcome: str, detail: str = "") -> None:
        self.counts[outcome] += 1
        if outcome == "traceback":
            self.tracebacks.append(detail)

    def write(self) -> dict[str, Any]:
        figures = {
            "target": self.name,
            "cases": sum(self.counts.values()),
            "valid": self.counts["valid"],
            "clear_errors": self.counts["clear"],
            "tracebacks": self.counts["traceback"],
            "seconds": round(time.monotonic() - self.started, 1),
            "soak": SOAK,
        }
        FIGURES.mkdir(parents=True, exist_ok=True)
        (FIGURES / f"{self.name}.json").write_text(json.dumps(figures, indent=2) + "\n")
        return figures


def bounded(fn: Any) -> Any:
    """Call fn, and fail if it allocated more than ALLOCATION_LIMIT at its peak."""
    tracemalloc.start()
    try:
        return fn()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak <= ALLOCATION_LIMIT, f"allocated {peak / 2**20:.0f} MiB"


def clear_lines(error: sim.ScenarioError, source: str) -> bool:
    lines = error.lines()
    return bool(lines) and all(
        line.startswith(f"{source}: ") and len(line) > len(source) + 3 and "Traceback" not in line
        for line in lines
    )


# -- values ------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(10**6), 10**7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.datetimes(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


def _leaves(x: Any, path: tuple = ()) -> list[tuple]:
    out = [path] if path else []
    if isinstance(x, dict):
        for k, v in x.items():
            out += _leaves(v, (*path, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            out += _leaves(v, (*path, i))
    return out


BASE = reference_data()
LEAVES = _leaves(BASE)
TEXT = REFERENCE.read_text()


def _mutate(data: Any, path: tuple, value: Any) -> None:
    with contextlib.suppress(KeyError, IndexError, TypeError):
        for p in path[:-1]:
            data = data[p]
        data[path[-1]] = value


@st.composite
def scenario_files(draw: st.DrawFn) -> bytes:
    """A scenario file: the reference with values replaced, keys added, text cut, nested deep."""
    kind = draw(st.sampled_from(["values", "text", "nesting", "size"]))
    if kind == "values":
        data = copy.deepcopy(BASE)
        for path, value in draw(st.lists(st.tuples(st.sampled_from(LEAVES), VALUES), max_size=4)):
            _mutate(data, path, value)
        if draw(st.booleans()):
            _mutate(data, (*draw(st.sampled_from(LEAVES))[:-1], draw(st.text(max_size=8))), 1)
        try:
            return tomli_w.dumps(data).encode()
        except (TypeError, ValueError):
            return TEXT.encode()
    if kind == "text":
        at = draw(st.integers(0, len(TEXT)))
        cut = draw(st.integers(0, 40))
        insert = draw(st.text(max_size=30))
        return (TEXT[:at] + insert + TEXT[at + cut :]).encode("utf-8", "surrogatepass")
    if kind == "nesting":
        depth = draw(st.integers(1, 5000))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a=", "}"), ("[{a=", "}]")]))
        return (TEXT + f"\nextra = {opener * depth}1{closer * depth}\n").encode()
    repeat = draw(st.integers(0, 3 * 2**20))
    return (TEXT + "# " + "x" * repeat + "\n").encode()


def test_fuzz_scenario_files(tmp_path: Path) -> None:
    tally = Tally("scenario_files")
    path = tmp_path / "fuzz.toml"

    @FUZZ
    @given(scenario_files())
    def one(raw: bytes) -> None:
        path.write_bytes(raw)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = bounded(lambda: cli.main(["check", str(path)]))
        text = err.getvalue()
        if code == 0:
            tally.record("valid")
        elif code == 2 and text and all(line.startswith(f"{path}: ") for line in text.splitlines()):
            tally.record("clear")
        else:
            tally.record("traceback", text)
            raise AssertionError(f"exit {code}: {text}")
        base, problems = session.uploaded_base("fuzz.toml", raw)  # the dashboard's upload
        assert (base is None) == bool(problems)

    try:
        one()
    finally:
        figures = tally.write()
    assert figures["tracebacks"] == 0 and figures["cases"] >= EXAMPLES * 0.9


# -- --set ---------------------------------------------------------------------------------------


SET_KEYS = [sw.format_key(p) for p in LEAVES] + ["run", "arms[1]", "nope", "arms[99].x", "a..b"]
SET_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(list("0123456789.,-+e[]{}\"'=truefalsinf x")), max_size=30),
    st.lists(SCALARS.filter(lambda v: not hasattr(v, "year")), min_size=1, max_size=4).map(
        lambda vs: ",".join(json.dumps(v) if not isinstance(v, float) else repr(v) for v in vs)
    ),
    st.integers(1, 4000).map(lambda n: "[" * n + "]" * n),
    st.sampled_from([20, 10_001, 30_000]).map(lambda n: ",".join(["1"] * n)),
    st.sampled_from(["1,2", "0,1", "0.5,1", "true,false", "mean,median", "[0.2,0.2,0.2,0.2,0.2]"]),
)


def test_fuzz_set_values() -> None:
    tally = Tally("set_values")
    sc = sim.validate_scenario({**BASE, "run": {**BASE["run"], "paths": 300, "weeks": 10}}, "t")

    @FUZZ
    @given(st.lists(st.tuples(st.sampled_from(SET_KEYS), SET_TEXT), min_size=1, max_size=3))
    def one(assignments: list[tuple[str, str]]) -> None:
        texts = [f"{key}={values}" for key, values in assignments]
        try:
            points = bounded(lambda: sw.grid_points(sc, sw.parse_assignments(texts)))
        except sim.ScenarioError as e:
            if not clear_lines(e, "--set"):
                tally.record("traceback", "\n".join(e.lines()))
                raise AssertionError(e.lines()) from None
            tally.record("clear")
            return
        except Exception as e:
            tally.record("traceback", repr(e))
            raise
        assert points and all(isinstance(p.scenario, sim.Scenario) for p in points)
        tally.record("valid")

    try:
        one()
    finally:
        figures = tally.write()
    assert figures["tracebacks"] == 0 and figures["cases"] >= EXAMPLES * 0.9


# -- URL parameters -----------------------------------------------------------------------------


URL_TEXT = st.one_of(
    st.text(max_size=20),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["none", "", "1e308", "-0", "kept", "kept,excluded", "kept,kept"]),
)
PACKED = st.one_of(
    scenario_files().map(lambda raw: controls._pack(raw.decode("utf-8", "replace"))),
    st.text(max_size=50),
)


@st.composite
def url_params(draw: st.DrawFn) -> dict[str, str]:
    params: dict[str, str] = {}
    head = draw(st.sampled_from(["preset", "scenario", "none"]))
    if head == "preset":
        params["preset"] = draw(st.sampled_from([*controls.PRESETS, "nope", ""]))
    elif head == "scenario":
        params["scenario"] = draw(PACKED)
    keys = draw(st.lists(st.sampled_from([*controls.BY_KEY, "junk"]), max_size=5, unique=True))
    for key in keys:
        params[key] = draw(URL_TEXT)
    return params


def test_fuzz_url_parameters() -> None:
    from app import runner

    tally = Tally("url_parameters")

    @FUZZ
    @given(url_params())
    def one(params: dict[str, str]) -> None:
        def decode_and_build() -> Any:
            base, overrides, problems = controls.decode_query(params)
            assert all(isinstance(k, str) and isinstance(m, str) and m for k, m in problems)
            sc = controls.build_scenario(base.scenario(), overrides)
            return problems, runner.budget_problems(sc)

        try:
            problems, over = bounded(decode_and_build)
        except sim.ScenarioError as e:
            if not clear_lines(e, controls.SOURCE):
                tally.record("traceback", "\n".join(e.lines()))
                raise AssertionError(e.lines()) from None
            tally.record("clear")
            return
        except Exception as e:
            tally.record("traceback", repr(e))
            raise
        tally.record("clear" if problems or over else "valid")

    try:
        one()
    finally:
        figures = tally.write()
    assert figures["tracebacks"] == 0 and figures["cases"] >= EXAMPLES * 0.9
