"""Validation: the fast published checks hold, each can fail, the report is stable, the CLI."""

from __future__ import annotations

import pytest
from helpers import ROOT

import sim
from app import cli
from sim import validation
from sim.validation import CHECKS, FAIL, NOT_COMPARABLE, PASS

# Checks the model is not expected to match (the report says why); their rows must still be there
# with a reason, never asserted as passing.
KNOWN_GAPS = {
    "CH10-first-negative": "one negative after 40 five-star contracts barely moves a logit on "
    "averages; eBay buyers reacted to the first negative itself",
}
# Expected to fail until issue 11's recalibration lands; strict, so the day it passes this test
# fails and the entry must go (the check then guards the new calibration).
FAILS_TODAY = {
    # since a 3.4 adds 0.6 of a review's experience, not a whole one (issue 11's monotone
    # utility), two early negatives cost the sceptical preset 3.1%, just over the 3% tolerance
    "R06-sceptical": "two negatives cost 3.1% of earnings, over the +-3% tolerance",
}
FAST_IDS = [c.id for c in CHECKS if c.fast]


@pytest.fixture(scope="module")
def rows() -> dict[str, validation.Row]:
    return {r.id: r for r in validation.run_checks(fast_only=True)}


def test_registry_ids_unique_and_fast_subset_covers_every_kind() -> None:
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids))
    fast = [c for c in CHECKS if c.fast]
    assert any(c.simulated for c in fast) and any(not c.simulated for c in fast)


@pytest.mark.parametrize("check_id", [i for i in FAST_IDS if i not in KNOWN_GAPS])
def test_fast_check_passes(rows, check_id: str, request: pytest.FixtureRequest) -> None:
    if check_id in FAILS_TODAY:
        request.applymarker(pytest.mark.xfail(strict=True, reason=FAILS_TODAY[check_id]))
    row = rows[check_id]
    assert row.status == PASS, f"{check_id}: {row.reason}"


@pytest.mark.parametrize("check_id", sorted(KNOWN_GAPS))
def test_known_gap_row_present_with_reason(rows, check_id: str) -> None:
    row = rows[check_id]
    assert row.status in (PASS, FAIL, NOT_COMPARABLE)
    if row.status != PASS:
        assert row.reason and row.explanation
    for field in (row.published, row.source, row.model, row.method, row.tolerance):
        assert field.strip()


def test_first_negative_lowers_weekly_jobs(rows) -> None:
    """Whatever the magnitude, a counted first negative never raises the jobs she wins."""
    row = rows["CH10-first-negative"]
    assert row.values["ratio"] < 1.0
    assert row.values["published"] < 0.0
    assert row.values["model"] < 0.0


def test_rows_name_the_measurement(rows) -> None:
    for row in rows.values():
        assert row.status in (PASS, FAIL, NOT_COMPARABLE)
        assert row.published and row.source and row.model and row.method and row.tolerance
        assert bool(row.reason) == (row.status != PASS), row.id
    simulated = {c.id for c in CHECKS if c.simulated}
    for check_id in simulated:
        method = rows[check_id].method
        assert f"{validation.FAST_PATHS:,} paths" in method and "seed" in method


def _base(**sections: dict) -> sim.Scenario:
    data = sim.Scenario().model_dump()
    for section, values in sections.items():
        data[section].update(values)
    return sim.validate_scenario(data)


@pytest.mark.parametrize(
    ("check_id", "sections"),
    [
        ("Y13-stars", {"hiring": {"b_stars": 0.3}}),
        ("Y13-ratio", {"hiring": {"b_stars": 0.3}}),
        ("Y13-stars", {"hiring": {"b_stars_half_at_reviews": 20.0}}),
        ("Y13-reviews", {"hiring": {"b_reviews": 0.05}}),
        ("FHG22-five-star", {"freelancer": {"quality": (0.05, 0.05, 0.1, 0.2, 0.6)}}),
        ("FHG22-field", {"market": {"competitor_stars_mean": 4.5}}),
        ("JSS-windows", {"jss": {"windows": (52, 26)}}),
        ("JSS-windows", {"jss": {"trending": (26,)}}),
        ("JSS-qualify", {"jss": {"min_clients": 1}}),
    ],
)
def test_checks_fail_when_the_calibration_breaks(check_id: str, sections: dict) -> None:
    (row,) = validation.run_checks(ids=[check_id], base=_base(**sections), fast_only=True)
    assert row.status == FAIL and row.reason


def test_report_is_deterministic_and_lists_every_row(rows) -> None:
    again = validation.run_checks(fast_only=True)
    first = validation.report_markdown(list(rows.values()), validation.FAST_PATHS)
    second = validation.report_markdown(again, validation.FAST_PATHS)
    assert first == second
    for row in again:
        assert f"`{row.id}`" in first
        if row.status != PASS:
            assert f"### `{row.id}`: {row.status}" in first
    assert f"{validation.FAST_PATHS:,} paths and seed {sim.Scenario().run.seed}" in first


def test_committed_report_lists_every_check() -> None:
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    for check in CHECKS:
        assert f"`{check.id}`" in text, f"docs/validation.md lacks {check.id}: run make validate"


def test_unknown_check_id_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown checks"):
        validation.run_checks(ids=["nope"])


def test_cli_writes_the_report(tmp_path, capsys) -> None:
    out = tmp_path / "validation.md"
    assert cli.main(["validate", "--fast", "--out", str(out)]) == cli.EXIT_OK
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Validation against published figures")
    for check_id in FAST_IDS:
        assert f"`{check_id}`" in text
    assert "Wrote" in capsys.readouterr().out
    # an existing report is kept unless --force
    assert cli.main(["validate", "--fast", "--out", str(out)]) == cli.EXIT_INVALID
    assert "pass --force" in capsys.readouterr().err
    assert cli.main(["validate", "--fast", "--force", "--out", str(out)]) == cli.EXIT_OK
    assert out.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["validation.md"]  # no temp files


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "missing-folder/v.md"], "no such folder"),
        (["--out", "."], "is a folder"),
        (["--paths", "5"], "out of range"),
    ],
)
def test_cli_refuses_bad_options(tmp_path, monkeypatch, capsys, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate", "--fast", *args]) == cli.EXIT_INVALID
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
