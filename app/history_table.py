"""Her contracts as a table: the editor's rows, the scenario's `history`, and the CSV template."""

from __future__ import annotations

import csv
import datetime
import io
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tomli_w

import sim
from app.files import csv_bytes
from sim._input import InputProblem, check_plain, check_toml_dates
from sim.feedback import CRITERIA
from sim.scenario import MAX_HISTORY, HistoryEntry

__all__ = [
    "COLUMNS",
    "MAX_CSV_BYTES",
    "Problem",
    "check_rows",
    "entries_from_text",
    "history_text",
    "rows_from_csv",
    "rows_from_history",
    "rows_to_csv",
]

RECORD = ("client_ratings_given", "client_mean_given", "client_mean_received", "client_suspended")
# one column a key of a scenario's [[history]] entry, in the CSV template's order
COLUMNS = ("client", "ended", "ended_weeks_ago", "value", "stars", *CRITERIA, "flagged", *RECORD)
TEXT, DATE, WHOLE, NUMBER, SWITCH = "text", "date", "whole", "number", "switch"
KIND = {
    "client": TEXT,
    "ended": DATE,
    "ended_weeks_ago": WHOLE,
    "value": NUMBER,
    "stars": NUMBER,
    **dict.fromkeys(CRITERIA, NUMBER),
    "flagged": SWITCH,
    "client_ratings_given": WHOLE,
    "client_mean_given": NUMBER,
    "client_mean_received": NUMBER,
    "client_suspended": SWITCH,
}
EXPECTED = {
    DATE: "a date such as 2026-11-29 (year-month-day)",
    WHOLE: "a whole number such as 6",
    NUMBER: "a number such as 1600 or 3.4 (no $ sign or thousands separator)",
    SWITCH: "true or false",
}
MAX_CSV_BYTES = 256 * 1024  # a table of the most contracts a scenario holds is about 200 KB

Row = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """What is wrong with one cell or row: its row (1 = the first), its column (None: the whole
    row or table) and the message, in plain words."""

    row: int | None
    column: str | None
    message: str

    def text(self) -> str:
        where = [f"row {self.row}" if self.row is not None else "", self.column or ""]
        head = ", ".join(w for w in where if w)
        return f"{head}: {self.message}" if head else self.message


# -- rows <-> the scenario's history -----------------------------------------------------------


def blank(x: Any) -> bool:
    """An empty cell: None, NaN, pandas' NA or an empty string."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or str(x) in ("<NA>", "NaT"):
        return True
    return isinstance(x, str) and not x.strip()


def rows_from_history(history: Sequence[HistoryEntry]) -> list[Row]:
    """A scenario's past contracts as table rows, oldest first (a dated contract keeps its date)."""
    rows = []
    for h in history:
        crit = h.criteria or {}
        rows.append(
            {
                "client": h.client,
                "ended": h.ended,
                "ended_weeks_ago": None if h.ended is not None else h.ended_weeks_ago,
                "value": h.value,
                "stars": h.stars,
                **{k: crit.get(k) for k in CRITERIA},
                "flagged": h.flagged,
                "client_ratings_given": h.client_ratings_given,
                "client_mean_given": h.client_mean_given,
                "client_mean_received": h.client_mean_received,
                "client_suspended": h.client_suspended,
            }
        )
    return rows


def is_empty(row: Mapping[str, Any]) -> bool:
    """A row with nothing typed in it (a new row just added): left out, never a problem."""
    return all(blank(row.get(k)) or row.get(k) is False or row.get(k) == 0 for k in COLUMNS)


def entry_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One table row as a scenario `history` entry; empty cells are left out (the schema names
    what is missing)."""
    entry: dict[str, Any] = {}
    crit = {}
    for key in COLUMNS:
        value = row.get(key)
        if blank(value):
            continue
        kind = KIND[key]
        if kind == SWITCH:
            value = bool(value)
            if not value:
                continue  # false is the default
        elif kind == WHOLE:
            value = int(value)
        elif kind == NUMBER:
            value = float(value)
        elif kind == DATE:
            value = value if type(value) is datetime.date else _date_of(value)
        else:
            value = str(value)
        if key in CRITERIA:
            crit[key] = value
        elif not (key == "client_ratings_given" and value == 0):
            entry[key] = value
    if crit:
        entry["criteria"] = crit  # partial criteria: the schema names the missing ones
    entry.setdefault("client", "")  # required: "client: at least 1 character"
    return entry


def _date_of(value: Any) -> datetime.date:
    """A date from the editor (a datetime or pandas Timestamp) or text (YYYY-MM-DD)."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    to_pydatetime = getattr(value, "to_pydatetime", None)
    if to_pydatetime is not None:
        return to_pydatetime().date()
    return datetime.date.fromisoformat(str(value).strip())


_KEY = re.compile(r"^history\[(\d+)\](?:\.(\w+))?(?:\.(\w+))?")
PLAIN = {
    "Field required": "missing: type a value",
    "String should have at least 1 character": "missing: type the client's name",
    "Input should be less than or equal to": "must be at most",
    "Input should be greater than or equal to": "must be at least",
    "Input should be greater than": "must be more than",
}


def _located(key: str, message: str) -> tuple[int | None, str | None, str]:
    """(entry index, column, message) of a validation problem, from its key or the message's
    own "history[i].key: " prefix (problems found across a whole scenario carry it there)."""
    m = _KEY.match(key)
    if m is None:
        m = _KEY.match(message)
        if m is not None:
            message = message[m.end() :].lstrip(": ")
    if m is None:
        return None, None, message
    index, column, inner = int(m.group(1)), m.group(2), m.group(3)
    if column == "criteria" and inner in CRITERIA:
        column = inner
    for raw, plain in PLAIN.items():
        if message.startswith(raw):
            message = plain + message[len(raw) :].replace(" (got '')", "")
    return index, column, message


def check_rows(
    rows: Sequence[Mapping[str, Any]],
    today: datetime.date | None = None,
    weights: Mapping[str, float] | None = None,
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The scenario `history` entries of the table's rows (empty rows left out) and the
    problems of the rest, by row (1 = the table's first) and column. With any problem the
    entries are not to be used: the simulation keeps the last table without one."""
    entries, where = [], []
    for i, row in enumerate(rows):
        if not is_empty(row):
            try:
                entries.append(entry_from_row(row))
            except (TypeError, ValueError, OverflowError) as e:
                return [], [Problem(i + 1, None, f"cannot be read ({e})")]
            where.append(i + 1)
    if len(entries) > MAX_HISTORY:
        return [], [
            Problem(None, None, f"at most {MAX_HISTORY:,} contracts (got {len(entries):,})")
        ]
    data: dict[str, Any] = {"history": entries}
    if today is not None:
        data["today"] = today
    if weights is not None:
        data["signals"] = {"criteria_weights": dict(weights)}
    try:
        sim.validate_scenario(data, "table")
    except sim.ScenarioError as e:
        problems = []
        for _, key, message in e.problems:
            index, column, text = _located(key, message)
            row = where[index] if index is not None and index < len(where) else None
            problems.append(Problem(row, column, text))
        return entries, problems
    return entries, []


# -- the history as TOML text (the address bar's `history=` and the session's setting) -------


def history_text(history: Sequence[HistoryEntry] | Sequence[Mapping[str, Any]]) -> str:
    """Canonical TOML of past contracts (`[[history]]` tables, defaults left out), so that equal
    tables give equal text."""
    out = []
    for h in history:
        entry = h if isinstance(h, HistoryEntry) else HistoryEntry.model_validate(h)
        data = entry.model_dump(exclude_defaults=True)
        data.pop("ended_weeks_ago" if entry.ended is not None else "ended", None)
        out.append({k: v for k, v in data.items() if v is not None})
    return tomli_w.dumps({"history": out})


def entries_from_text(text: str) -> list[dict[str, Any]]:
    """The `history` entries of `history_text`'s TOML; ValueError saying what is wrong."""
    try:
        data = tomllib.loads(text)
        check_plain(data)
        check_toml_dates(data)
    except (tomllib.TOMLDecodeError, InputProblem, RecursionError) as e:
        raise ValueError(f"not a table of contracts ({e})") from None
    if set(data) - {"history"} or not isinstance(data.get("history", []), list):
        raise ValueError("expected only [[history]] tables")
    return list(data.get("history", []))


# -- CSV ---------------------------------------------------------------------------------------


def rows_to_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """The CSV template: a header of COLUMNS, one line per contract; empty cells for what is not
    given, true/false switches, dates as YYYY-MM-DD, numbers in their shortest form."""
    return csv_bytes(COLUMNS, [dict(r) for r in rows if not is_empty(r)])


def _cell(text: str, column: str) -> Any:
    """One CSV cell as the value of its column; ValueError with what was expected."""
    kind = KIND[column]
    text = text.strip()
    if not text:
        return False if kind == SWITCH else None
    if kind == TEXT:
        return text
    if kind == SWITCH:
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
    elif kind == DATE and len(text) == 10:
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass
    elif kind == WHOLE:
        if re.fullmatch(r"[+-]?\d{1,9}", text):
            return int(text)
    else:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if math.isfinite(number) and re.fullmatch(r"[0-9eE.+-]+", text):
            return number
    shown = text if len(text) <= 30 else text[:27] + "..."
    raise ValueError(f"expected {EXPECTED[kind]}, got {shown!r}")


def rows_from_csv(
    data: bytes,
    today: datetime.date | None = None,
    weights: Mapping[str, float] | None = None,
) -> tuple[list[Row], list[Problem]]:
    """The rows of a CSV in the template's form, and the problems of the rows left out, by row
    (1 = the first line after the header) and column. Good rows are kept whatever the others."""
    if len(data) > MAX_CSV_BYTES:
        return [], [Problem(None, None, f"over the {MAX_CSV_BYTES // 1024} KB limit")]
    try:
        text = data.decode("utf-8-sig")  # a spreadsheet's byte-order mark is not a column
    except UnicodeDecodeError:
        return [], [Problem(None, None, "not UTF-8 text (save the sheet as CSV UTF-8)")]
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        return [], [Problem(None, None, f"not a CSV file ({e})")]
    if not lines or not any(c.strip() for c in lines[0]):
        return [], [Problem(None, None, "empty: the first line names the columns")]
    header = [c.strip() for c in lines[0]]
    problems = [
        Problem(
            None,
            name or f"column {j + 1}",
            f"unknown column, left out; expected {', '.join(COLUMNS)}",
        )
        for j, name in enumerate(header)
        if name not in COLUMNS
    ]
    seen = [name for name in header if name in COLUMNS]
    twice = sorted({n for n in seen if seen.count(n) > 1})
    missing = [c for c in ("client", "value") if c not in header]
    if twice or missing:
        why = (
            f"column {', '.join(twice)} given twice"
            if twice
            else "no column " + " or ".join(missing)
        )
        return [], [*problems, Problem(None, None, f"{why}: nothing imported")]
    body = lines[1:]
    if len(body) > MAX_HISTORY:
        problems.append(Problem(None, None, f"only the first {MAX_HISTORY:,} rows are read"))
        body = body[:MAX_HISTORY]
    parsed: list[tuple[int, Row]] = []
    for number, cells in enumerate(body, start=1):
        if not any(c.strip() for c in cells):
            continue  # an empty line
        if len(cells) > len(header):
            problems.append(Problem(number, None, f"{len(cells)} cells for {len(header)} columns"))
            continue
        row: Row = {c: (False if KIND[c] == SWITCH else None) for c in COLUMNS}
        bad = []
        for name, cell in zip(header, cells, strict=False):
            if name not in KIND:
                continue
            try:
                row[name] = _cell(cell, name)
            except ValueError as e:
                bad.append(Problem(number, name, str(e)))
        if bad:
            problems += bad
            continue
        parsed.append((number, row))
    # no rule ties one contract to another: a row with a problem is left out, the rest kept;
    # checked again without the rows left out (a scenario-wide check, such as a date after
    # today, runs only once every row's own values hold)
    while parsed:
        _, found = check_rows([row for _, row in parsed], today, weights)
        if not found:
            break
        if any(p.row is None for p in found):
            return [], problems + found
        problems += [Problem(parsed[p.row - 1][0], p.column, p.message) for p in found]
        dropped = {p.row for p in found}
        parsed = [item for i, item in enumerate(parsed, start=1) if i not in dropped]
    problems.sort(key=lambda p: p.row or 0)
    return [row for _, row in parsed], problems
