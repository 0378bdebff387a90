"""The one editor of her contracts, shared by the Compare sidebar and the Calculator page.

What she types is a draft; each change that validates becomes the `history` setting (the address
bar's packed `history=`, the scenario's [[history]]), which is what the simulation runs. A change
with a problem (a new row partly filled, a value out of range) keeps the last valid table running,
and the problem is listed by row and column beside the table.
"""

from __future__ import annotations

import datetime
from typing import Any

import pandas as pd
import streamlit as st

from app import history_table, session
from app.history_table import COLUMNS, CRITERIA, Problem

__all__ = ["LABELS", "pull", "render"]

STATE = "repsim-history"  # {"rows", "base_rows", "frame", "version", "committed", "problems", ...}
TODAY = session.W + "today"  # the `today` control's widget (pulled by session.pull_widgets)
LABELS = {
    "client": "client",
    "ended": "ended (date)",
    "ended_weeks_ago": "ended weeks ago",
    "value": "value ($)",
    "stars": "stars",
    **{k: k for k in CRITERIA},
    "flagged": "flagged (disputed)",
    "client_ratings_given": "client's rated contracts",
    "client_mean_given": "client gave (mean stars)",
    "client_mean_received": "client received (mean stars)",
    "client_suspended": "client suspended",
}
HELP = (
    "One row per past contract, oldest first. When it ended: a date or weeks before today. Its "
    "feedback: the stars, or the six criteria (1-5; the contract's stars are their weighted "
    "mean, equal weights [A]). Tick **flagged** on the disputed feedback. Where you know the "
    "client's record with other freelancers, give how many rated contracts it had and the mean "
    "it gave or received (the flagged-client rule reads it). Add rows at the bottom; select a "
    "row's left edge to delete it. A row with a problem is not used until it is fixed."
)

SHORT_HELP = (
    "One row per past contract, oldest first; tick **flagged** on the disputed one. Scroll "
    "sideways for the six criteria and the client's record. The Calculator page shows the same "
    "table, wider, with what each column means."
)

SIDEBAR_ORDER = ("client", "value", "stars", "ended_weeks_ago", "flagged", "ended", *CRITERIA,
                 *history_table.RECORD)  # fmt: skip


def _state() -> dict[str, Any]:
    return st.session_state[STATE]


def _effective() -> str:
    """The contracts the settings hold now, as `history_table.history_text`."""
    return session.state()["overrides"].get("history") or session.base_defaults()["history"]


def today() -> datetime.date:
    """The day weeks are counted from: the setting's, the base scenario's, else the run day."""
    return (
        session.state()["overrides"].get("today")
        or session.base_scenario().today
        or datetime.date.today()
    )


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as the editor's typed columns."""
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    numbers = ["value", "stars", *CRITERIA, "client_mean_given", "client_mean_received"]
    frame[numbers] = frame[numbers].astype(float)
    for column in ("ended_weeks_ago", "client_ratings_given"):
        frame[column] = frame[column].astype("Int64")
    for column in ("flagged", "client_suspended"):
        frame[column] = frame[column].fillna(False).astype(bool)
    frame["client"] = frame["client"].astype(object)
    frame["ended"] = frame["ended"].astype(object)
    return frame


def _rebase(hx: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Give the editor a new table to start from (a new widget: edits count from it)."""
    hx.update(rows=rows, base_rows=rows, frame=_frame(rows), version=hx.get("version", 0) + 1)


def _reset(text: str) -> None:
    """The table of the contracts the settings hold (a new preset, a reset, an address)."""
    hx = st.session_state.setdefault(STATE, {})
    sc_rows = history_table.rows_from_history(_entries(text))
    _rebase(hx, sc_rows)
    hx.update(committed=text, problems=[], mounted=None)


def _entries(text: str) -> list[Any]:
    from sim.scenario import HistoryEntry

    return [HistoryEntry.model_validate(e) for e in history_table.entries_from_text(text)]


def _edited(base: list[dict[str, Any]], edits: dict[str, Any]) -> list[dict[str, Any]]:
    """The base rows with the editor's edits applied, as Streamlit does: cell edits by the
    row's place in the base, then deleted rows, then added rows at the end."""
    rows = [dict(r) for r in base]
    for index, change in (edits.get("edited_rows") or {}).items():
        i = int(index)
        if 0 <= i < len(rows):
            rows[i].update({k: v for k, v in change.items() if k in COLUMNS})
    deleted = {int(i) for i in edits.get("deleted_rows") or ()}
    rows = [r for i, r in enumerate(rows) if i not in deleted]
    for added in edits.get("added_rows") or ():
        row = {c: None for c in COLUMNS} | {k: v for k, v in added.items() if k in COLUMNS}
        rows.append(row)
    return rows


def _commit(hx: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Check the table; if it holds, it becomes the contracts the simulation runs."""
    hx["rows"] = rows
    sc = session.base_scenario()
    entries, problems = history_table.check_rows(rows, today(), sc.signals.criteria_weights)
    hx["problems"] = problems
    if problems:
        return
    text = history_table.history_text(entries)
    overrides = session.state()["overrides"]
    if text == session.base_defaults()["history"]:
        overrides.pop("history", None)
    else:
        overrides["history"] = text
    hx["committed"] = text
    dated = any("ended" in e for e in entries)
    if dated and overrides.get("today") is None and sc.today is None:
        # a dated contract's weeks depend on the day: the address keeps the day it was typed
        overrides["today"] = today()
        st.session_state[TODAY] = overrides["today"]


def pull() -> None:
    """Take in the editor's and the CSV import's changes (every page calls this through
    `session.prepare`, before anything is drawn or the address is written)."""
    text = _effective()
    hx = st.session_state.get(STATE)
    if hx is None or hx.get("committed") != text:
        _reset(text)
        hx = _state()
    _import(hx)
    key = hx.get("mounted")
    edits = st.session_state.get(key) if key else None
    if isinstance(edits, dict):
        rows = _edited(hx["base_rows"], edits)
        if rows != hx["rows"]:
            _commit(hx, rows)


# -- CSV ---------------------------------------------------------------------------------------

UPLOAD = "history-csv"
SEEN = "history-csv-seen"
IMPORTED = "history-csv-report"  # (file name, kept rows, problems)


def _import(hx: dict[str, Any]) -> None:
    file = st.session_state.get(UPLOAD)
    if file is None or st.session_state.get(SEEN) == file.file_id:
        return
    st.session_state[SEEN] = file.file_id
    if file.size > history_table.MAX_CSV_BYTES:  # checked before the bytes are read
        limit = history_table.MAX_CSV_BYTES // 1024
        problem = Problem(None, None, f"{file.size / 1024:.0f} KB is over the {limit} KB limit")
        st.session_state[IMPORTED] = (file.name, 0, [problem])
        return
    sc = session.base_scenario()
    rows, problems = history_table.rows_from_csv(
        file.getvalue(), today(), sc.signals.criteria_weights
    )
    st.session_state[IMPORTED] = (file.name, len(rows), problems)
    if rows:
        _rebase(hx, rows)
        _commit(hx, rows)


def _csv(where: str) -> None:
    with st.expander("Import or export (CSV)"):
        st.download_button(
            "↓ Export CSV",
            data=lambda: history_table.rows_to_csv(
                history_table.rows_from_history(_entries(_state()["committed"]))
            ),
            file_name="history.csv",
            mime="text/csv",
            key=f"history-export-{where}",
            on_click="ignore",
            help="The contracts the simulation runs, in the template's columns (README: "
            "'Her contracts as CSV'; example: scenarios/history-example.csv).",
        )
        st.file_uploader(
            f"Import CSV (at most {history_table.MAX_CSV_BYTES // 1024} KB)",
            type=["csv"],
            key=UPLOAD,
            max_upload_size=1,  # megabytes, the least Streamlit takes; the bytes are checked
            help="Replaces the table. Columns: " + ", ".join(COLUMNS) + ". A row with a "
            "problem is left out and named by row and column; the other rows are imported.",
        )
        report = st.session_state.get(IMPORTED)
        if report is not None:
            name, kept, problems = report
            if problems:
                st.warning(
                    f"{session.plain(name)}: {kept} contracts imported; left out:\n\n"
                    + _bullets(problems, "row {row} of the file")
                )
            else:
                st.success(f"{session.plain(name)}: {kept} contracts imported.")


# -- drawing ------------------------------------------------------------------------------------


def _bullets(problems: list[Problem], row_words: str = "row {row}") -> str:
    lines = []
    for p in problems:
        where = [row_words.format(row=p.row) if p.row is not None else ""]
        where.append(LABELS.get(p.column, p.column) if p.column else "")
        head = ", ".join(w for w in where if w)
        lines.append(f"- {session.plain(head + ': ' if head else '')}{session.plain(p.message)}")
    return "\n".join(lines)


def _config() -> dict[str, Any]:
    number = st.column_config.NumberColumn
    stars = {"min_value": 1.0, "max_value": 5.0, "step": 0.1}
    return {
        "client": st.column_config.TextColumn(
            LABELS["client"], pinned=True, help="A name for the client (any text)."
        ),
        "ended": st.column_config.DateColumn(
            LABELS["ended"], format="YYYY-MM-DD", help="The day the contract ended (`ended`)."
        ),
        "ended_weeks_ago": number(
            LABELS["ended_weeks_ago"], min_value=0, step=1, help="Or whole weeks before today."
        ),
        "value": number(
            LABELS["value"],
            min_value=0.01,
            step=50.0,
            format="%.2f",
            help="Dollars the contract paid (`value`).",
        ),
        "stars": number(LABELS["stars"], **stars, format="%.1f"),
        **{k: number(LABELS[k], **stars) for k in CRITERIA},
        "flagged": st.column_config.CheckboxColumn(
            LABELS["flagged"], help="The disputed feedback, reported to the platform."
        ),
        "client_ratings_given": number(LABELS["client_ratings_given"], min_value=0, step=1),
        "client_mean_given": number(LABELS["client_mean_given"], **stars),
        "client_mean_received": number(LABELS["client_mean_received"], **stars),
        "client_suspended": st.column_config.CheckboxColumn(LABELS["client_suspended"]),
    }


def render(where: str) -> None:
    """The today box, the table of contracts, its problems, and CSV import and export.
    `where` ("sidebar" or "page") keeps the two pages' widgets apart."""
    hx = _state()
    if TODAY not in st.session_state:
        st.session_state[TODAY] = session.state()["overrides"].get("today") or (
            session.base_scenario().today
        )
    key = f"history-{where}-{hx['version']}"
    if key not in st.session_state and hx["rows"] != hx["base_rows"]:
        _rebase(hx, hx["rows"])  # this page's widget is new: it starts from the draft
        key = f"history-{where}-{hx['version']}"
    hx["mounted"] = key
    st.caption(HELP if where != "sidebar" else SHORT_HELP)
    st.date_input(
        "Today (empty: the day it is run)",
        key=TODAY,
        format="YYYY-MM-DD",
        width=220,
        help="The day weeks are counted from: a contract's ended date becomes weeks before "
        "it, and weeks from today are also shown as dates. Empty: the day the page is "
        f"opened ({datetime.date.today().isoformat()}).",
    )
    st.data_editor(
        hx["frame"],
        key=key,
        # in the narrow sidebar, the columns most cases need first (edits are kept by name)
        column_order=SIDEBAR_ORDER if where == "sidebar" else None,
        num_rows="dynamic",
        column_config=_config(),
        hide_index=True,
        placeholder="",  # a missing value is an empty cell, not "None"
    )
    if hx["problems"]:
        st.warning(
            "Not used yet (the figures are for the table before this change):\n\n"
            + _bullets(hx["problems"])
        )
    _csv(where)
