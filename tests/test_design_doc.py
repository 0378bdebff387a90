"""docs/design.md held to the code: every name the code defines is in it or in DESIGN.md."""

from __future__ import annotations

import argparse
import ast
import csv
import functools
import io
import re
import types
import typing
from typing import Any

import pytest
from helpers import ROOT, small
from pydantic import BaseModel

import sim

DESIGN_DOC = ROOT / "docs" / "design.md"
# DESIGN.md lives outside the repository (read-only, beside MODEL.md): `DESIGN_NAMES` below is
# what `names_in` found in it on 2026-11-29, so that the checks run the same on a fresh clone
NEITHER = "named in neither docs/design.md nor DESIGN.md"

_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
_INLINE = re.compile(r"`([^`]+)`")  # a code span may run over a line break
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TABLE = re.compile(r"\[\[?([A-Za-z_][A-Za-z0-9_.]*)\]\]?")
_FLAG = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")


def _uncommented(block: str) -> str:
    """A fenced block's code: without `#` comments, the prose after a wide gap (a file tree's
    or a synopsis's notes) and quoted prose (strings with a space or a hyphen, such as a
    description or a client's name): their words are not names."""
    lines = []
    for line in block.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line)
        line = re.sub(r"(?<=\S)\s{3,}\S.*$", "", line)
        lines.append(re.sub(r'"[^"\n]*[\s-][^"\n]*"', '""', line))
    return "\n".join(lines)


@functools.cache
def names_in(text: str) -> dict[str, Any]:
    """What a Markdown document names as code: identifiers and quoted strings of its fenced
    blocks (comments dropped) and inline code spans, the TOML tables they write as [name] or
    [[name]], and per `repsim` command line of a block the flags it shows."""
    blocks = [_uncommented(b) for b in _FENCE.findall(text)]
    prose = _FENCE.sub("", text)
    code = "\n".join([*blocks, *_INLINE.findall(prose)])
    commands: dict[str, set[str]] = {}
    for line in "\n".join(blocks).splitlines():
        words = line.split()
        if not words or words[0] != "repsim":
            continue
        rest = [w for w in words[1:] if not w.lstrip("[").startswith("-")]
        command = rest[0] if rest else ""
        commands.setdefault(command, set()).update(_FLAG.findall(line))
    return {
        "code": code,
        "tokens": frozenset(_TOKEN.findall(code)),
        "tables": frozenset(_TABLE.findall(code)),
        "commands": {k: frozenset(v) for k, v in commands.items()},
    }


# names_in(DESIGN.md), frozen: DESIGN.md is read-only (test_design_names_current checks it)
DESIGN_NAMES = {
    "tokens": frozenset(
        """
        ADDRESS DIR Job KEY Makefile N None P README RESULTS Result S SCENARIO Scenario Score
        SeedSequence Success V1 V2 W __init__ active aggregator aggregators app arm arms
        availability badges bands bayesian_average bench benchmarks beta_reputation
        binary_threshold capacity charts check chromium ci ci90 cli client closed cluster
        communication cooperation core counts criteria csv delay_weeks description differences
        docs earnings ended_weeks_ago engine exclude_flagged excluded feedback final flagged
        force forgetting formats forms freelancer hiring history hourly_rate hours_per_week html
        import job_success_score jobs json jss keep kept load_scenario local main make manifest
        mapping market markov mask md mean median metric metrics model_validate name new_star
        new_weight np out p05 p95 pages paired paths png port positive prior_mean prior_weight
        proposals_per_week py pyproject q q05 q50 q95 quality quantecon random ratings_needed
        reference repsim reputation res rng rule rules run save_scenario sc scenario scenarios
        schedule seed service_fee set share_not_recovered signals sim skills star_lower_bound
        stars summary svg sweep target test tests the toml total true value venv weeks
        weeks_to_recover weighted_mean weights whitby_filter wilson_lower_bound win_prob z
        """.split()
    ),
    "tables": frozenset(
        {"arm", "arms", "freelancer", "hiring", "history", "jss", "market", "run", "signals"}
    ),
    "commands": {
        "run": frozenset({"--force", "--formats", "--out", "--paths", "--seed", "--weeks"}),
        "check": frozenset(),
        "sweep": frozenset({"--cluster", "--out", "--set"}),
        "app": frozenset({"--port"}),
    },
}


def design_names() -> dict[str, Any]:
    return DESIGN_NAMES


def doc_names() -> dict[str, Any]:
    return names_in(DESIGN_DOC.read_text(encoding="utf-8"))


def named(token: str) -> bool:
    """A name (an identifier, or a key with spaces or dots) in either document's code."""
    docs = (doc_names(), design_names())
    if _TOKEN.fullmatch(token):
        return any(token in d["tokens"] for d in docs)
    return token in doc_names()["code"]  # a dotted or spaced key: DESIGN.md names none


# -- the commands -------------------------------------------------------------------------------


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _flags(parser: argparse.ArgumentParser) -> list[str]:
    return [
        flag
        for action in parser._actions
        for flag in action.option_strings
        if flag not in ("-h", "--help")
    ]


def test_every_subcommand_is_documented() -> None:
    from app.cli import build_parser

    commands = _subparsers(build_parser())
    assert commands, "the parser defines no subcommands"
    shown = set(doc_names()["commands"]) | set(design_names()["commands"])
    missing = [c for c in commands if c not in shown]
    assert not missing, f"repsim subcommands {missing}: no `repsim COMMAND ...` line, {NEITHER}"


def test_every_flag_of_every_subcommand_is_documented() -> None:
    from app.cli import build_parser

    parser = build_parser()
    lines = [doc_names()["commands"], design_names()["commands"]]
    missing = []
    for name, sub in _subparsers(parser).items():
        shown = set().union(*(d.get(name, frozenset()) for d in lines))
        missing += [f"repsim {name} {flag}" for flag in _flags(sub) if flag not in shown]
    every_line = set().union(*(f for d in lines for f in d.values()))
    missing += [f"repsim {flag}" for flag in _flags(parser) if flag not in every_line]
    assert not missing, f"flags {missing}: {NEITHER} (on a `repsim COMMAND ...` line)"


# -- summary.json ---------------------------------------------------------------------------------

# the levels of the summary whose keys are data (arm names, assumption keys, targets, windows)
DATA_KEYED = (
    ("arms",),
    ("differences",),
    ("uncertainty", "ranges"),
    ("uncertainty", "outside_ranges"),
    ("ratings_needed",),
    ("ratings_needed", "*", "*"),
    ("ratings_needed_in_time",),
    ("ratings_needed_in_time", "*", "disputed_leaves_window"),
)


def summary_keys(node: Any, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every key path of the summary, with data keys (arm names, ...) written as `*`."""
    if not isinstance(node, dict):
        return set()
    out = set()
    data = any(
        len(p) == len(path) and all(a in ("*", b) for a, b in zip(p, path, strict=True))
        for p in DATA_KEYED
    )
    for key, value in node.items():
        step = "*" if data else key
        if not data:
            out.add((*path, key))
        out |= summary_keys(value, (*path, step))
    return out


@pytest.fixture(scope="module", params=["off", "on"])
def summary(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A small run's summary, assumption uncertainty off or on (with a range that leaves out
    her own value, so that `outside_ranges` has an entry)."""
    sc = small(paths=256, weeks=8)
    if request.param == "on":
        sc = sc.model_copy(
            update={
                "uncertainty": sim.scenario.Uncertainty(
                    on=True, points=2, ranges={"market.competitors": (10, 20)}
                )
            }
        )
        sc = sim.validate_scenario(sc.model_dump(mode="json"))
    return sim.run(sim.with_today(sc)).summary()


def test_every_summary_key_is_documented(summary: dict[str, Any]) -> None:
    on = "on" if summary["uncertainty"]["on"] else "off"
    paths = summary_keys(summary)
    assert ("differences",) in paths and ("uncertainty",) in paths
    missing = sorted(".".join(p) for p in paths if not named(p[-1]))
    assert not missing, f"summary() keys (uncertainty {on}) {missing}: {NEITHER}"


def test_every_summary_key_is_found_by_the_walk(summary: dict[str, Any]) -> None:
    """The walk reaches the per-difference keys (so the check above is not vacuous)."""
    paths = summary_keys(summary)
    for p in [
        ("differences", "*", "earnings", "futures90"),
        ("differences", "*", "weeks_to_recover", "first", "assumptions90"),
        ("ratings_needed_in_time", "*", "targets", "jss 90"),
        ("market", "intercept"),
    ]:
        assert p in paths, f"{'.'.join(p)} not reached by summary_keys"


# -- scenario files -------------------------------------------------------------------------------


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (through Optional, tuple, Union, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out = []
    for arg in typing.get_args(annotation):
        out += _models(arg)
    return out


def _is_array(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return any(_is_array(a) for a in typing.get_args(annotation))
    return origin is tuple


def scenario_tables(model: type[BaseModel] = sim.Scenario, prefix: str = "") -> list[str]:
    """Every table the schema accepts, dotted: [run], [[history]], [population.clients], ..."""
    out = []
    for name, field in model.model_fields.items():
        models = _models(field.annotation)
        if not models:
            continue
        key = f"{prefix}{name}"
        out.append(key)
        if not _is_array(field.annotation):
            out += scenario_tables(models[0], f"{key}.")
        elif len(models) == 1:
            out += scenario_tables(models[0], f"{key}.")
    return out


def test_every_scenario_table_is_documented() -> None:
    tables = scenario_tables()
    assert {"run", "history", "arms", "uncertainty", "population.types"} <= set(tables)
    shown = doc_names()["tables"] | design_names()["tables"]
    missing = [t for t in tables if t not in shown]
    assert not missing, f"scenario tables {missing}: written as [table] or [[table]] {NEITHER}"


def _schema_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        out.append(f"{prefix}{name}")
        for m in _models(field.annotation):
            out += _schema_keys(m, f"{prefix}{name}.")
    return out


def test_every_scenario_key_is_documented() -> None:
    keys = list(dict.fromkeys(_schema_keys(sim.Scenario)))
    assert "population.reports.upheld_fair" in keys and "uncertainty.ranges" in keys
    missing = [k for k in keys if not named(k.rsplit(".", 1)[-1])]
    assert not missing, f"scenario keys {missing}: {NEITHER}"


def test_every_rule_is_documented() -> None:
    """Every `rule` an arm of the schema accepts (and the aliases older files may use)."""
    arms = _models(sim.Scenario.model_fields["arms"].annotation)
    rules = [r for m in arms for r in typing.get_args(m.model_fields["rule"].annotation)]
    assert "exclude_flagged" in rules and len(rules) == len(arms)
    rules += list(sim.scenario.RULE_ALIASES)
    missing = [r for r in rules if not named(r)]
    assert not missing, f"rules {missing}: {NEITHER}"


# -- files ----------------------------------------------------------------------------------------


def _header(data: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(data.decode("utf-8"))))


@pytest.fixture(scope="module")
def result() -> sim.Result:
    return sim.run(small(paths=256, weeks=8))


def _missing_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if not named(c)]


def test_bands_csv_columns_and_metrics_are_documented(result: sim.Result) -> None:
    from app.files import bands_csv, bands_frame

    frame = bands_frame(result)
    columns = _header(bands_csv(frame))
    missing = _missing_columns(columns)
    missing += [f"metric {m}" for m in sorted(set(frame["metric"])) if not named(m)]
    assert not missing, f"bands.csv {missing}: {NEITHER}"


def test_headlines_csv_columns_are_documented(result: sim.Result) -> None:
    from app.files import headlines_csv

    missing = _missing_columns(_header(headlines_csv(result.summary())))
    assert not missing, f"headlines.csv columns {missing}: {NEITHER}"


def test_policy_csv_columns_are_documented() -> None:
    from app.policy_command import policy_csv

    missing = _missing_columns(_header(policy_csv([])))
    assert not missing, f"policy.csv columns {missing}: {NEITHER}"


def test_tornado_csv_columns_and_figures_are_documented() -> None:
    from app.sensitivity_command import tornado_csv
    from sim import sensitivity

    empty = sensitivity.Tornado("x", "0", "kept", "excluded", 1, 1, 1, base={})
    missing = _missing_columns(_header(tornado_csv(empty)))
    missing += [f"figure {f}" for f in sensitivity.FIGURES if not named(f)]
    assert not missing, f"tornado.csv {missing}: {NEITHER}"


def test_sweep_csv_columns_are_documented(result: sim.Result) -> None:
    from sim.sweep import sweep_table

    point = {"index": 0, "values": {}, "seed": 1, "summary": result.summary()}
    columns, _ = sweep_table([point])
    arms = result.arms[1:]
    figures = [c.split(".", 1)[1] if c.split(".", 1)[0] in arms else c for c in columns]
    missing = _missing_columns(figures)
    assert not missing, f"sweep.csv columns {missing}: {NEITHER}"


def test_history_csv_columns_are_documented() -> None:
    from app.history_table import COLUMNS

    template = _header((ROOT / "scenarios" / "history-example.csv").read_bytes())
    assert template == list(COLUMNS), "scenarios/history-example.csv's header is not COLUMNS"
    missing = _missing_columns(list(COLUMNS))
    assert not missing, f"history CSV columns {missing}: {NEITHER}"


def test_manifest_keys_are_documented() -> None:
    from app.cli import manifest

    keys = manifest(["run", "x.toml"], "x.toml", small(paths=256, weeks=8))
    missing = _missing_columns([*keys, *keys["scenario"]])
    assert not missing, f"manifest.json keys {missing}: {NEITHER}"


def test_policy_summary_keys_are_documented() -> None:
    from app.policy_command import policy_summary

    missing = _missing_columns(list(policy_summary(small(paths=256, weeks=8), [])))
    assert not missing, f"repsim policy's summary.json keys {missing}: {NEITHER}"


def test_frontier_settings_are_documented() -> None:
    from sim.frontier import SETTINGS

    missing = [k for k in SETTINGS if not named(k)]
    assert not missing, f"sim.frontier.SETTINGS keys (repsim policy --set) {missing}: {NEITHER}"


# -- the Python API and the dashboard -------------------------------------------------------------


def test_public_api_is_documented() -> None:
    names = [n for n in sim.__all__ if not n.startswith("__")]
    names += [
        n
        for n, v in vars(sim.Result).items()
        if not n.startswith("_") and (callable(v) or isinstance(v, property))
    ]
    missing = [n for n in names if not named(n)]
    assert not missing, f"sim and sim.Result names {missing}: {NEITHER}"


def _pages() -> list[str]:
    """The dashboard's page titles, read from app/main.py's PAGES (no Streamlit import)."""
    tree = ast.parse((ROOT / "app" / "main.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets
        ):
            return [title for _, title, _ in ast.literal_eval(node.value)]
    raise AssertionError("app/main.py defines no PAGES")


def test_every_page_is_documented() -> None:
    text = DESIGN_DOC.read_text(encoding="utf-8")
    pages = _pages()
    assert "Policy lab" in pages
    missing = [p for p in pages if f"**{p}**" not in text]
    assert not missing, f"dashboard pages {missing}: not named (in bold) in docs/design.md"


def test_readme_links_the_design_doc() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/design.md)" in readme, "README.md does not link docs/design.md"
