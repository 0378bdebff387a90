"""Untrusted scenario input made safe to validate: capped file reads, nesting and type checks."""

from __future__ import annotations

import datetime
import errno
import json
import math
import os
import re
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "InputProblem",
    "check_plain",
    "check_toml_dates",
    "is_date_key",
    "parse_toml",
    "read_capped",
    "to_json",
]

MAX_FILE_BYTES = 1024 * 1024  # a scenario with the most history allowed is about 400 KB
MAX_DEPTH = 8  # tables and arrays inside one another; a scenario needs 4 (history[i].criteria)


class InputProblem(ValueError):
    """One problem with the input as a whole or at a dotted key."""

    def __init__(self, key: str, message: str):
        self.key, self.message = key, message
        super().__init__(f"{key}: {message}" if key else message)


def read_capped(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; `InputProblem` otherwise.

    Opened without blocking (a FIFO would otherwise wait for a writer), checked to be a regular
    file on the open descriptor, and read up to one byte past the limit, never further.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise InputProblem("", f"cannot read the file ({e.strerror or e})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputProblem("", "not a regular file (a scenario must be a .toml file)")
        if info.st_size > limit:
            raise InputProblem("", f"{_size(info.st_size)} is over the {_size(limit)} limit")
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as e:
        if e.errno == errno.EISDIR:
            raise InputProblem("", "is a folder, not a file") from None
        raise InputProblem("", f"cannot read the file ({e.strerror or e})") from None
    finally:
        os.close(fd)
    if total > limit:
        raise InputProblem("", f"over the {_size(limit)} limit")
    return b"".join(chunks)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{math.ceil(n / 1024)} KB"


def parse_toml(text: str, at: tuple[str | int, ...] | None = ()) -> dict[str, Any]:
    """`tomllib.loads` whose deep nesting is an `InputProblem`, never a RecursionError, and
    whose data `check_plain` checks as standing at key path ``at`` (None: the caller checks)."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise InputProblem("", f"nested too deeply (at most {MAX_DEPTH} levels)") from None
    if at is not None:
        check_plain(data, at)
    return data


def _walk(data: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every (key path, value) in a nest of dicts and lists, iteratively (no recursion)."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        yield path, node
        if len(path) > MAX_DEPTH:
            continue  # reported by the caller; do not descend further
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in reversed(node.items()))
        elif isinstance(node, list | tuple):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(node))))


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_text(part: str) -> str:
    """One key as TOML writes it: bare when it can be, else quoted with every control and
    non-ASCII character escaped (so a message stays on one line and shows what was typed)."""
    part = str(part)
    return part if _BARE_KEY.fullmatch(part) else json.dumps(part)


def dotted(path: tuple[str | int, ...]) -> str:
    """`("history", 1, "stars")` -> `history[1].stars`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{key_text(part)}" if out else key_text(part)
    return out


def is_date_key(path: tuple[str | int, ...]) -> bool:
    """Whether a key holds a calendar date: the scenario's `today` or a contract's `ended`."""
    return path == ("today",) or (
        len(path) == 3 and path[0] == "history" and isinstance(path[1], int) and path[2] == "ended"
    )


DATE_EXAMPLE = "a date such as 2026-11-29 (year-month-day, no quotes)"


def check_plain(data: Any, at: tuple[str | int, ...] = ()) -> None:
    """Refuse nesting deeper than MAX_DEPTH, and TOML dates or times anywhere but the date keys
    (`today`, `history[i].ended`), where only a date without a time is taken; names the key.
    ``at``: the key path where ``data`` stands in a scenario."""
    for inner, node in _walk(data):
        path = (*at, *inner)
        if len(path) > MAX_DEPTH:
            raise InputProblem(
                dotted(path[: MAX_DEPTH + 1]), f"nested too deeply (at most {MAX_DEPTH} levels)"
            )
        if not isinstance(node, datetime.date | datetime.time):
            continue
        if not is_date_key(path):
            raise InputProblem(dotted(path), "dates and times are not scenario settings")
        if type(node) is not datetime.date:  # a datetime is a date too
            raise InputProblem(dotted(path), f"expected {DATE_EXAMPLE}, got a time of day")


def check_toml_dates(data: Any) -> None:
    """In a TOML file, the date keys hold TOML dates: a quoted "2026-11-29" is refused by key."""
    if not isinstance(data, dict):
        return
    found: list[tuple[tuple[str | int, ...], Any]] = [(("today",), data.get("today"))]
    history = data.get("history")
    if isinstance(history, list):
        found += [
            (("history", i, "ended"), h.get("ended"))
            for i, h in enumerate(history)
            if isinstance(h, dict)
        ]
    for path, value in found:
        if value is not None and not isinstance(value, datetime.date):
            shown = json.dumps(value, default=str)[:40]
            raise InputProblem(dotted(path), f"expected {DATE_EXAMPLE}, got {shown}")


def to_json(data: Any) -> str:
    """Checked data as JSON for pydantic's strict JSON mode (arrays for tuples, NaN kept so that
    the schema can refuse it by key)."""
    check_plain(data)
    try:
        return json.dumps(data, allow_nan=True, default=_jsonable)
    except (TypeError, ValueError) as e:
        raise InputProblem("", f"not scenario data ({e})") from None


def _jsonable(x: Any) -> Any:
    """Validated settings objects (a caller may mix them into plain data) as their JSON data."""
    if type(x) is datetime.date:  # at a date key (check_plain refused the others)
        return x.isoformat()
    dump = getattr(x, "model_dump", None)
    if dump is None:
        raise InputProblem("", f"{type(x).__name__} is not a scenario value")
    return dump(mode="json")
