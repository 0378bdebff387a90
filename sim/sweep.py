"""Grids of scenarios run over any concurrent.futures Executor, one SeedSequence child per point."""

from __future__ import annotations

import copy
import datetime
import itertools
import json
import math
import re
import threading
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._input import InputProblem, check_plain, is_date_key, parse_toml
from .scenario import Scenario, ScenarioError, arm_keys_for, validate_scenario

__all__ = [
    "MAX_POINTS",
    "Point",
    "SerialExecutor",
    "format_key",
    "grid_points",
    "grid_size",
    "headline",
    "parse_assignment",
    "parse_assignments",
    "parse_key",
    "parse_values",
    "point_seeds",
    "run_point",
    "run_points",
    "sweep",
    "sweep_table",
    "with_values",
]

SOURCE = "--set"
MAX_POINTS = 10_000
RESERVED = {("run", "seed"): "each point's seed comes from the base seed; change that with --seed"}
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])*")
_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\]")
_BARE = re.compile(r"[A-Za-z0-9_.+\- ]+")  # an unquoted word is taken as a string

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Point:
    """One grid point: its index, the swept values by key, its seed and its validated scenario."""

    index: int
    values: dict[str, Any]
    seed: int
    scenario: Scenario


class SerialExecutor(Executor):
    """Runs each task in the caller's thread at submit time: the in-process default."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:  # the caller sees it through future.result()
            future.set_exception(e)
        return future


# -- keys and values ------------------------------------------------------------------------


def _problem(key: str, message: str) -> ScenarioError:
    return ScenarioError([(SOURCE, key, message)])


def parse_key(key: str) -> Path_:
    """`arms[1].delay_weeks` -> ("arms", 1, "delay_weeks"); zero-based indices in brackets."""
    key = key.strip()
    if not _KEY.fullmatch(key):
        raise _problem(key, "not a key: use dotted names and [index], e.g. arms[1].delay_weeks")
    return tuple(int(p[1:-1]) if p.startswith("[") else p for p in _PART.findall(key))


def format_key(path: Path_) -> str:
    """The canonical spelling of a key path, as in ScenarioError messages."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets, braces and quotes."""
    parts, current, depth, quote, escaped = [], [], 0, "", False
    for ch in text:
        if quote:
            escaped = ch == "\\" and not escaped and quote == '"'
            quote = "" if ch == quote and not escaped else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _parse_value(text: str, key: str) -> Any:
    text = text.strip()
    if not text:
        raise _problem(key, "empty value")
    if "\n" in text or "\r" in text:
        raise _problem(key, "a value must fit on one line")
    try:
        value = parse_toml(f"v = {text}", at=None)["v"]
        # checked where it will stand: `today` and `history[i].ended` take dates
        check_plain(value, at=_value_path(key))
        return value
    except tomllib.TOMLDecodeError:
        if _BARE.fullmatch(text):
            return text
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise _problem(key, f"{shown!r} is not a TOML value") from None
    except InputProblem as e:
        raise _problem(key, e.message) from None


def _value_path(key: str) -> tuple[str | int, ...]:
    """The key path a `--set` value stands at, for `parse_toml`'s checks (its own ``v`` key
    dropped); an unreadable key is reported by `parse_key` elsewhere."""
    try:
        return parse_key(key) if key else ()
    except InputProblem:
        return ()


def parse_values(text: str, key: str = "") -> list[Any]:
    """`5,10` -> [5, 10]: comma-separated TOML values; an unquoted word is a string."""
    parts = _split_top(text)
    if len(parts) > MAX_POINTS:
        raise _problem(key, f"{len(parts):,} values; at most {MAX_POINTS:,} points in all")
    return [_parse_value(part, key) for part in parts]


def parse_assignment(text: str) -> tuple[str, list[Any]]:
    """`KEY=V1,V2` -> (canonical key, [V1, V2])."""
    key, sep, values = text.partition("=")
    if not sep:
        raise _problem(text.strip(), "expected KEY=V1,V2,...")
    canonical = format_key(parse_key(key))
    return canonical, parse_values(values, canonical)


def parse_assignments(
    assignments: Sequence[str], check: Callable[[str, list[Any]], str | None] | None = None
) -> dict[str, list[Any]]:
    """Every `--set KEY=V1,V2` as {canonical key: values}, in the order given.

    ``check(key, values)``: a problem with a key's values (a message), or None. Raises
    `ScenarioError` listing every problem in the order given: unreadable assignments, keys
    given twice, and what ``check`` refuses (a refused key is not taken as given).
    """
    given: dict[str, list[Any]] = {}
    problems = []
    for text in assignments:
        try:
            key, values = parse_assignment(text)
        except ScenarioError as e:
            problems += e.problems
            continue
        if key in given:
            problems.append((SOURCE, key, "given twice; list every value in one --set"))
            continue
        problem = None if check is None else check(key, values)
        if problem is not None:
            problems.append((SOURCE, key, problem))
            continue
        given[key] = values
    if problems:
        raise ScenarioError(problems)
    return given


# -- the grid -------------------------------------------------------------------------------


def _step(node: Any, part: str | int, done: Path_) -> Any:
    where = format_key(done) or "the scenario"
    if isinstance(part, int):
        if not isinstance(node, list):
            raise ValueError(f"unknown key: {where} is not an array")
        if part >= len(node):
            raise ValueError(f"no such entry: {where} has {len(node)} (indices from 0)")
        return node[part]
    if not isinstance(node, dict):
        raise ValueError(f"unknown key: {where} is not a table")
    if part not in node:
        raise ValueError(f"unknown key; {where} has {', '.join(sorted(node))}")
    return node[part]


def _lookup(data: Any, path: Path_) -> Any:
    node = data
    for i, part in enumerate(path):
        node = _step(node, part, path[:i])
    return node


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "a table"


def _show(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _same_type(old: Any, new: Any) -> bool:
    if old is None:  # an optional setting left out: the schema decides
        return True
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, float):
        return isinstance(new, int | float)
    return isinstance(new, type(old))


def _check_grid(data: dict[str, Any], grid: Mapping[str, Sequence[Any]]) -> dict[str, Path_]:
    """Each key's path; every unknown key, reserved key, empty list or wrong type as a problem."""
    paths, problems = {}, []
    for key, values in grid.items():
        try:
            path = parse_key(key)
            old = _lookup(data, path)
        except ScenarioError as e:
            problems += e.problems
            continue
        except ValueError as e:
            problems.append((SOURCE, key, str(e)))
            continue
        if path in RESERVED:
            problems.append((SOURCE, key, RESERVED[path]))
        elif not values:
            problems.append((SOURCE, key, "give at least one value"))
        for v in values:
            if is_date_key(path) and isinstance(v, datetime.date):
                continue  # held as text in the dumped data; the schema reads the date
            if not _same_type(old, v):
                problems.append((SOURCE, key, f"expected {_kind(old)}, got {_show(v)}"))
        paths[key] = path
    if problems:
        raise ScenarioError(problems)
    return paths


def _set(data: dict[str, Any], path: Path_, value: Any) -> None:
    _lookup(data, path[:-1])[path[-1]] = copy.deepcopy(value)


def with_values(sc: Scenario, values: Mapping[str, Any]) -> Scenario:
    """The scenario with each dotted key set to its value (its seed kept), validated; every
    unknown key, wrong type or value out of range named by --set and its key."""
    if not values:
        return sc
    data = sc.model_dump(mode="json")
    paths = _check_grid(data, {k: [v] for k, v in values.items()})
    for key, value in values.items():
        _set(data, paths[key], value)
    return validate_scenario(data, SOURCE)


def grid_size(grid: Mapping[str, Sequence[Any]]) -> int:
    """How many points the Cartesian grid has: the product of the value counts."""
    return math.prod(len(values) for values in grid.values())


def point_seeds(base_seed: int, n: int) -> list[int]:
    """One int seed in [0, 2**63) per point, from SeedSequence(base_seed).spawn(n)."""
    children = np.random.SeedSequence(base_seed).spawn(n)
    return [int(c.generate_state(1, np.uint64)[0]) >> 1 for c in children]


def grid_points(
    sc: Scenario, grid: Mapping[str, Sequence[Any]], seed: int | None = None
) -> list[Point]:
    """The Cartesian grid (the last key varies fastest), each point validated, with its own seed.

    ``seed``: the base of `point_seeds`; None takes the scenario's run.seed. Raises
    `ScenarioError` listing every problem: unknown keys, wrong types, values out of range.
    """
    base = sc.model_dump(mode="json")
    keys = list(grid)
    size = grid_size(grid)  # from the value counts, before anything is built
    if size > MAX_POINTS:
        counts = " x ".join(f"{len(grid[k]):,}" for k in keys)
        raise _problem("", f"{counts} = {size:,} points; at most {MAX_POINTS:,}")
    paths = _check_grid(base, grid)
    combos = list(itertools.product(*(grid[k] for k in keys)))
    seeds = point_seeds(sc.run.seed if seed is None else seed, len(combos))
    points, problems = [], []
    for i, (combo, point_seed) in enumerate(zip(combos, seeds, strict=True)):
        data = copy.deepcopy(base)
        for key, value in zip(keys, combo, strict=True):
            _set(data, paths[key], value)
            path = paths[key]
            if len(path) == 3 and path[0] == "arms" and path[2] == "rule":
                # a switched rule keeps only the settings it takes (defaults of the old rule go)
                data["arms"][path[1]] = arm_keys_for(value, data["arms"][path[1]])
        data["run"]["seed"] = point_seed
        try:
            scenario = validate_scenario(data, SOURCE)
        except ScenarioError as e:
            problems += [p for p in e.problems if p not in problems]
            continue
        points.append(Point(i, dict(zip(keys, combo, strict=True)), point_seed, scenario))
    if problems:
        raise ScenarioError(problems)
    return points


# -- running --------------------------------------------------------------------------------


def run_point(point: Point) -> dict[str, Any]:
    """A full `sim.run` of one point: {"index", "values", "seed", "summary"} (picklable, small)."""
    from . import run  # here, not at import time: sim/__init__ may import this module

    summary = run(point.scenario).summary()
    return {"index": point.index, "values": point.values, "seed": point.seed, "summary": summary}


def run_points(
    points: Sequence[Point],
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every point through the executor; results in point order, whatever finished first."""
    executor = executor or SerialExecutor()
    finished, done = threading.Condition(), [0]

    def tick(_: Future) -> None:  # may run in the executor's thread, just after the result is set
        with finished:
            done[0] += 1
            if progress is not None:
                progress(done[0], len(points))
            finished.notify_all()

    futures = []
    for p in points:
        future = executor.submit(run_point, p)
        future.add_done_callback(tick)
        futures.append(future)
    try:
        results = [f.result() for f in futures]
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    with finished:  # the last progress call happens before we return
        finished.wait_for(lambda: done[0] == len(futures), timeout=10)
    return sorted(results, key=lambda r: r["index"])


def sweep(
    sc: Scenario,
    grid: Mapping[str, Sequence[Any]],
    executor: Executor | None = None,
    *,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the scenario at every grid point; the same bytes whichever executor runs them."""
    return run_points(grid_points(sc, grid, seed), executor, progress)


# -- the table ------------------------------------------------------------------------------


def headline(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The headline figures of one summary, per non-reference arm, as flat `arm.figure` columns."""
    out: dict[str, Any] = {}
    for arm, d in summary["differences"].items():
        earnings, jobs, recovery = d["earnings"], d["jobs"], d["weeks_to_recover"]
        out[f"{arm}.earnings_diff"] = earnings["mean"]
        out[f"{arm}.earnings_diff_ci90_low"] = earnings["ci90"][0]
        out[f"{arm}.earnings_diff_ci90_high"] = earnings["ci90"][1]
        out[f"{arm}.jobs_diff"] = jobs["mean"]
        out[f"{arm}.weeks_to_recover_median"] = recovery["median"]
        out[f"{arm}.share_not_recovered"] = recovery["share_not_recovered"]
        out[f"{arm}.first_back_median"] = recovery["first"]["median"]
        out[f"{arm}.share_never_back"] = recovery["first"]["share_not_recovered"]
    return out


def sweep_table(results: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and one row per point: point, the swept keys, seed, then the headline figures."""
    keys = list(results[0]["values"]) if results else []
    rows, figures = [], {}
    for r in results:
        h = headline(r["summary"])
        figures.update(dict.fromkeys(h))
        rows.append({"point": r["index"], **r["values"], "seed": r["seed"], **h})
    return ["point", *keys, "seed", *figures], rows
