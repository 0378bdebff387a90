"""Her contracts: the one history editor, its CSV template, and dates (`today`, `ended`)."""

from __future__ import annotations

import datetime

import pytest
from helpers import REFERENCE, ROOT
from streamlit.testing.v1 import AppTest

import sim
from app import controls, dates, history_editor, history_table, session
from app.history_table import COLUMNS, rows_from_csv, rows_to_csv

MAIN = str(ROOT / "app" / "main.py")
EXAMPLE = ROOT / "scenarios" / "history-example.csv"
TODAY = datetime.date(2026, 11, 29)
SMALL = {"run.paths": "300", "run.weeks": "30"}


def app(**params: str) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    for key, value in {**SMALL, **params}.items():
        at.query_params[key] = value
    return at.run()


def edit(at: AppTest, **edits: object) -> AppTest:
    """Type into the table of contracts as the browser does (Streamlit's edit record)."""
    key = at.session_state[history_editor.STATE]["mounted"]
    at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **edits}
    return at.run()


def figures(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def on_page(at: AppTest) -> sim.Scenario:
    at.switch_page("views/scenario.py").run()
    sc = sim.loads_scenario(at.code[0].value, "page")
    at.switch_page("views/compare.py").run()
    return sc


# -- CSV ----------------------------------------------------------------------------------------


def test_example_csv_imports_and_exports_to_the_same_bytes() -> None:
    data = EXAMPLE.read_bytes()
    rows, problems = rows_from_csv(data, TODAY)
    assert problems == [] and len(rows) == 3
    assert rows_to_csv(rows) == data
    values = [r["value"] for r in rows]
    assert len(set(values)) == 3  # three contracts, three values


@pytest.mark.parametrize("preset", sorted(controls.PRESETS))
def test_every_preset_history_round_trips_through_csv(preset: str) -> None:
    sc = sim.load_scenario(controls.PRESETS[preset])
    exported = rows_to_csv(history_table.rows_from_history(sc.history))
    rows, problems = rows_from_csv(exported, sc.today)
    assert problems == [] and rows_to_csv(rows) == exported
    entries, problems = history_table.check_rows(rows, sc.today, sc.signals.criteria_weights)
    assert problems == []
    assert sim.validate_scenario({**sc.model_dump(), "history": entries}) == sc


def test_bad_rows_are_named_by_row_and_column_and_the_rest_is_kept() -> None:
    good = EXAMPLE.read_bytes()
    header, *lines = good.decode().splitlines(keepends=True)
    bad = [
        "bad-date,2026-13-01,,100,5,,,,,,,false,,,,false\n",  # row 4
        "bad-value,,2,$1,600,5,,,,,,,false,,,,false\n",  # row 5: a comma too many
        "bad-number,,2,lots,5,,,,,,,false,,,,false\n",  # row 6
        "bad-switch,,2,100,5,,,,,,,maybe,,,,false\n",  # row 7
        "too-many-stars,,2,100,6,,,,,,,false,,,,false\n",  # row 8
        "no-feedback,,2,100,,,,,,,,true,,,,false\n",  # row 9: flagged without feedback
        "future,2027-01-05,,100,5,,,,,,,false,,,,false\n",  # row 10: after today
    ]
    rows, problems = rows_from_csv((header + "".join(lines + bad)).encode(), TODAY)
    assert rows_to_csv(rows) == good  # the three good rows, unchanged
    where = {(p.row, p.column) for p in problems}
    assert {(4, "ended"), (5, None), (6, "value"), (7, "flagged"), (8, "stars")} <= where
    assert (9, None) in where and (10, "ended") in where
    assert len(problems) == 7
    text = {p.row: p.text() for p in problems}
    assert text[6].startswith("row 6, value: expected a number") and "'lots'" in text[6]
    assert "after today (2026-11-29)" in text[10]


def test_unknown_columns_are_reported_and_missing_ones_stop_the_import() -> None:
    data = EXAMPLE.read_bytes().replace(b"client_suspended", b"colour", 1)
    rows, problems = rows_from_csv(data, TODAY)
    assert len(rows) == 3 and [(p.row, p.column) for p in problems] == [(None, "colour")]
    rows, problems = rows_from_csv(b"client,stars\nx,5\n", TODAY)
    assert rows == [] and "no column value" in problems[0].message
    rows, problems = rows_from_csv(b"x" * (history_table.MAX_CSV_BYTES + 1))
    assert rows == [] and "over the 256 KB limit" in problems[0].message
    rows, problems = rows_from_csv(b"\xff\xfe", TODAY)
    assert rows == [] and "UTF-8" in problems[0].message


def test_csv_template_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    for column in COLUMNS:
        assert f"`{column}`" in readme, column
    assert "scenarios/history-example.csv" in readme


# -- today and dates in a scenario ---------------------------------------------------------------


def _toml(extra: str, row: str = "ended_weeks_ago = 6") -> str:
    return (
        f'{extra}\n[[history]]\nclient = "a"\nstars = 5.0\nvalue = 450.0\n{row}\n'
        '[[history]]\nclient = "b"\nstars = 3.4\nvalue = 300.0\nended_weeks_ago = 1\n'
        "flagged = true\n"
    )


def test_dated_contracts_count_whole_weeks_back_from_today() -> None:
    sc = sim.loads_scenario(_toml("today = 2026-11-29", "ended = 2026-10-01"), "s.toml")
    assert sc.today == TODAY and sc.history[0].ended_weeks_ago == 8  # 59 days: 8 whole weeks
    text = sim.dumps_scenario(sc)
    assert "today = 2026-11-29" in text and "ended = 2026-10-01" in text
    assert "ended_weeks_ago = 8" not in text  # the date is the one source
    again = sim.loads_scenario(text)
    assert again == sc and sim.dumps_scenario(again) == text
    # a later today: the same date is more weeks back
    later = sim.loads_scenario(text.replace("today = 2026-11-29", "today = 2026-12-27"))
    assert later.history[0].ended_weeks_ago == 12


def test_a_dated_contract_without_today_is_dated_from_the_day_it_is_read() -> None:
    sc = sim.loads_scenario(_toml("", "ended = 2026-10-01"), "s.toml")
    assert sc.today == datetime.date.today()
    assert sim.loads_scenario(sim.dumps_scenario(sc)) == sc  # the saved file carries the day


def test_without_dates_nothing_changes() -> None:
    sc = sim.load_scenario(REFERENCE)
    assert sc.today is None and "today" not in sim.dumps_scenario(sc)
    assert sim.with_today(sc, TODAY).today == TODAY
    assert sim.with_today(sim.with_today(sc, TODAY)).today == TODAY  # its own day is kept


@pytest.mark.parametrize(
    ("extra", "row", "key", "message"),
    [
        ('today = "2026-11-29"', "ended_weeks_ago = 6", "today", "expected a date such as"),
        ("today = 2026-11-29T10:00:00", "ended_weeks_ago = 6", "today", "a time of day"),
        ("today = 2026-11-29", 'ended = "2026-10-01"', "history[0].ended", "expected a date"),
        ("today = 2026-11-29", "ended = 2026-12-01", "", "history[0].ended: 2026-12-01 is after"),
        ("today = 2026-11-29", "ended = 2026-10-01\nended_weeks_ago = 8", "history[0]", "not both"),
        ("today = 2026-11-29", "", "history[0]", "give when it ended"),
        ("today = 12", "ended_weeks_ago = 6", "today", "date"),
        ("name = 2026-01-01\ntoday = 2026-11-29", "ended_weeks_ago = 6", "name", "not scenario"),
    ],
)
def test_dates_that_do_not_hold_are_named_by_key(extra, row, key, message) -> None:
    with pytest.raises(sim.ScenarioError) as err:
        sim.loads_scenario(_toml(extra, row), "s.toml")
    problems = err.value.problems
    assert any(k == key and message in m for _, k, m in problems), problems
    assert all(source == "s.toml" for source, _, _ in problems)


def test_weeks_read_as_dates() -> None:
    assert dates.week_words(24, TODAY) == "week 24 (16 May 2027)"
    assert dates.week_words(24, None) == "week 24"
    assert dates.axis_ticks(104) == [0, 26, 52, 78]
    expr = dates.label_expr(TODAY, [0, 26])
    assert '["26", "May 2027"]' in expr and '["0", "Nov 2026"]' in expr


# -- the editor in the dashboard ------------------------------------------------------------------


def test_each_contract_keeps_its_own_value() -> None:
    """After an upload with $450 and $300 contracts, editing one value leaves the other (the
    sidebar's one value for every contract overwrote both)."""
    text = REFERENCE.read_text().replace("paths = 10000", "paths = 300")
    text = text.replace("value = 1600.0", "value = 450.0", 1).replace(
        "value = 1600.0", "value = 300.0", 1
    )
    base = controls.Base(preset=None, toml=text)
    at = app(**controls.encode_query(base, {}))
    assert [h.value for h in on_page(at).history] == [450.0, 300.0]
    edit(at, edited_rows={0: {"value": 500.0}})
    assert [h.value for h in on_page(at).history] == [500.0, 300.0]


def test_a_partly_filled_row_keeps_the_results_and_names_its_cells() -> None:
    at = app()
    before, url = figures(at), dict(at.query_params)
    assert before
    edit(at, added_rows=[{"client": "third"}])  # a new row: its client typed, nothing else
    assert not at.exception and not at.error
    assert figures(at) == before and dict(at.query_params) == url  # the results stay
    warning = " ".join(w.value for w in at.sidebar.warning)
    assert "row 3" in warning and "value" in warning and "missing" in warning
    # filled in, the row is used: new figures, and the address carries the table
    edit(at, added_rows=[{"client": "third", "value": 600.0, "ended_weeks_ago": 0, "stars": 5.0}])
    assert not at.sidebar.warning and figures(at) != before
    assert "history" in at.query_params
    assert [h.client for h in on_page(at).history][-1] == "third"


def test_compare_and_calculator_share_one_table() -> None:
    at = app()
    edit(at, edited_rows={0: {"value": 450.0}})
    stars = [v for label, v in figures(at) if label == "Stars now"]
    at.switch_page("views/calculator.py").run()
    assert not at.exception and not at.error
    table = at.dataframe[-1].value.set_index("rule")
    assert [f"{table.loc[a, 'stars']:.2f}" for a in ("kept", "excluded")] == stars
    # typed on the Calculator, seen by Compare
    edit(at, edited_rows={1: {"availability": 2.0}})
    at.switch_page("views/compare.py").run()
    assert on_page(at).history[1].criteria["availability"] == 2.0
    assert on_page(at).history[0].value == 450.0


def test_a_dated_row_pins_today_in_the_address() -> None:
    at = app()
    edit(at, edited_rows={0: {"ended": "2026-10-01", "ended_weeks_ago": None}})
    assert not at.sidebar.warning, [w.value for w in at.sidebar.warning]
    assert at.query_params["today"] == datetime.date.today().isoformat()
    again = app(**dict(at.query_params))
    assert on_page(again) == on_page(at)


def test_csv_import_in_the_dashboard() -> None:
    at = app()
    data = EXAMPLE.read_bytes() + b"broken,,2,lots,5,,,,,,,false,,,,false\n"
    at.sidebar.file_uploader(key=history_editor.UPLOAD).set_value(("mine.csv", data, "text/csv"))
    at.run()
    assert not at.exception
    text = " ".join(w.value for w in at.sidebar.warning)
    assert "3 contracts imported" in text and "row 4 of the file" in text and "value" in text
    assert [h.client for h in on_page(at).history] == [
        "logo-refresh",
        "landing-page",
        "off-platform-pusher",
    ]
    assert session.plain("mine.csv") in text


def test_deleting_a_row_and_the_reset_button() -> None:
    at = app()
    edit(at, deleted_rows=[0])
    assert [h.client for h in on_page(at).history] == ["off-platform-pusher"]
    assert "history" in at.query_params
    at.button(key="reset").click().run()  # back to the preset's contracts, in the table too
    assert "history" not in at.query_params
    assert len(on_page(at).history) == 2
    assert len(at.session_state[history_editor.STATE]["rows"]) == 2


def test_summary_records_the_day_its_dates_were_counted_from() -> None:
    """summary.json says which `today` the contracts' ages were counted from (None: no date)."""
    sc = sim.with_run(sim.load_scenario(REFERENCE), paths=256, weeks=2)
    assert sim.run(sc).summary()["today"] is None
    dated = sc.model_copy(update={"today": datetime.date(2026, 11, 29)})
    assert sim.run(dated).summary()["today"] == "2026-11-29"
