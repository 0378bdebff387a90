"""The case report: `repsim report` writes a PDF and a self-contained HTML holding the run's
figures, seed, scenario hash and assumptions; same inputs, same bytes; user text stays text."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import tomli_w
from helpers import REFERENCE, reference_data
from pypdf import PdfReader
from test_cli import References

import sim
from app import cli, report, report_typst

ARGS = ("--paths", "512", "--weeks", "52")


def _text(pdf: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """The reference case's report (PDF and HTML) and `repsim run`'s summary of the same run:
    the report draws the assumptions by default, `repsim run` when asked (--uncertainty)."""
    root = tmp_path_factory.mktemp("report")
    code = cli.main(
        ["report", str(REFERENCE), *ARGS, "--format", "pdf,html", "--out", str(root / "case.pdf")]
    )
    assert code == 0
    code = cli.main(
        ["run", str(REFERENCE), *ARGS, "--uncertainty", "--formats", "json", "--out",
         str(root / "run")]
    )  # fmt: skip
    assert code == 0
    return root


def test_the_pdf_holds_the_summarys_headline_figures_seed_hash_and_assumptions(made: Path):
    summary = json.loads((made / "run" / "summary.json").read_text())
    text = _flat(_text(made / "case.pdf"))
    e = summary["differences"]["excluded"]["earnings"]
    assert summary["uncertainty"]["on"] and e["assumptions90"] is not None
    for figure in (e["mean"], *e["ci90"], e["p05"], e["p95"]):
        assert report.money(figure) in text, figure
    # the costs table's row: mean, Monte Carlo interval, futures, futures and assumptions
    row = " ".join(
        [report.money(e["mean"])]
        + [f"{report.money(a)} to {report.money(b)}" for a, b in
           (e["ci90"], e["futures90"], e["assumptions90"])]
    )  # fmt: skip
    assert row in text, row
    assert "fixed in this run" not in text
    assert f"{summary['differences']['excluded']['jobs']['mean']:+.1f}" in text
    assert str(summary["seed"]) in text
    assert summary["scenario_sha256"] in text.replace(" ", "")
    assert "Every assumption, its value, range and source" in text
    for row in ("hiring.b_stars 0.57 0.3 to 0.9 D", "market.contract_weeks 4 2 to 8 A"):
        assert row in text, row
    assert "dispute.chance_upheld 0.5 0.2 to 0.8 A" in text
    assert "removed after 2 weeks" in text
    assert "Expected value of reporting" in text
    assert "$4,992" in text  # the conversion fee at her $20 an hour
    assert "source: platform help centre (not linked)" in text
    assert "5-95% over futures and assumptions" in text
    assert "over the plausible range of the model's assumptions between" in text
    assert "repsim report scenario.toml --chance 0.5 --wait-weeks 2 --hours 3" in text
    assert "CH10-first-negative" in text  # a failing validation row among the known limits
    assert "[[history]]" in text and 'client = "off-platform-pusher"' in text  # the appendix


def test_the_pdf_has_two_to_four_pages_before_the_appendix_and_every_page_renders(
    made: Path, tmp_path: Path
):
    pages = PdfReader(made / "case.pdf").pages
    appendix = next(
        i for i, p in enumerate(pages) if "Appendix: the scenario as run" in p.extract_text()
    )
    assert 2 <= appendix <= 4
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is needed: .ci/run installs it"
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(made / "case.pdf"), str(tmp_path / "p")], check=True
    )
    rendered = sorted(tmp_path.glob("p-*.png"))
    assert len(rendered) == len(pages)
    for png in rendered:
        assert png.stat().st_size > 2000  # a page with something drawn on it


def test_two_runs_give_identical_bytes(made: Path, tmp_path: Path):
    out = tmp_path / "again.pdf"
    args = ["report", str(REFERENCE), *ARGS, "--format", "pdf,html", "--out", str(out)]
    assert cli.main(args) == 0
    assert out.read_bytes() == (made / "case.pdf").read_bytes()
    assert out.with_suffix(".html").read_bytes() == (made / "case.html").read_bytes()
    # no clock time in the metadata: the creation date is the day the scenario is run on (its
    # `today`, written into the report's scenario as `repsim run` does), at midnight
    day = sim.loads_scenario((made / "run" / "scenario.toml").read_text()).today
    assert PdfReader(out).metadata["/CreationDate"] == f"D:{day:%Y%m%d}000000Z"


def test_the_html_is_self_contained_and_holds_the_same_figures(made: Path):
    text = (made / "case.html").read_text()
    parser = References()
    parser.feed(text)
    assert parser.external == []
    assert parser.scripts == []  # no script at all
    assert not re.search(r"<link\b|<img\b|<iframe\b|@import|url\(", text, re.I)
    assert text.count("<svg") >= 4  # the charts inline, as vectors
    summary = json.loads((made / "run" / "summary.json").read_text())
    assert report.money(summary["differences"]["excluded"]["earnings"]["mean"]) in text
    assert "@media print" in text and "@page" in text


def test_user_text_is_shown_as_text_in_both_formats(tmp_path: Path):
    data = reference_data()
    data["name"] = "Evil <script>alert(1)</script> #set page(width: 1cm) ] [ *x* $y$"
    data["description"] = '"); #panic("boom") <img src=http://x/y.png> \\ `raw`'
    data["history"][0]["client"] = "</td><b>bold</b> #strong[hi] @ref <x>"
    path = tmp_path / "evil.toml"
    path.write_text(tomli_w.dumps(data))
    out = tmp_path / "evil.pdf"
    assert cli.main(["report", str(path), "--paths", "256", "--weeks", "8", "--format",
                     "pdf,html", "--out", str(out)]) == 0  # fmt: skip
    text = _flat(_text(out))
    for s in (data["name"], data["description"], data["history"][0]["client"]):
        assert _flat(s) in text, s
    html = out.with_suffix(".html").read_text()
    assert "<script>" not in html and "<img" not in html and "<b>bold</b>" not in html
    assert "Evil &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;/td&gt;&lt;b&gt;bold&lt;/b&gt;" in html


def test_a_scenario_without_disputed_feedback_still_reports(tmp_path: Path):
    data = reference_data()
    for h in data["history"]:
        h["flagged"] = False
    path = tmp_path / "plain.toml"
    path.write_text(tomli_w.dumps(data))
    out = tmp_path / "plain.pdf"
    assert cli.main(["report", str(path), "--paths", "256", "--weeks", "8", "--out", str(out)]) == 0
    assert "the scenario marks no disputed feedback to report" in _flat(_text(out))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "docx"], "unknown format 'docx'; choose from pdf,html"),
        (["--chance", "1.5"], "argument --chance: 1.5 is out of range (from 0 to 1)"),
        (["--hours", "x"], "argument --hours: 'x' is not a number"),
        (["--wait-weeks", "-1"], "argument --wait-weeks: -1 is out of range"),
        (["--out", "no/such/folder/case.pdf"], "no/such/folder: --out: no such folder"),
        (["--out", "."], ".: --out: is a folder; give the report's file name"),
        (["--paths", "0"], "--paths: Input should be greater than or equal to 1"),
    ],
)
def test_cli_errors_are_clear(tmp_path: Path, capsys, monkeypatch, args: list[str], message: str):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["report", str(REFERENCE), *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_existing_report_is_kept_without_force(tmp_path: Path, capsys):
    out = tmp_path / "case.pdf"
    out.write_bytes(b"hers")
    assert cli.main(["report", str(REFERENCE), "--out", str(out)]) == 2
    assert f"{out}: --out: exists; pass --force to replace it" in capsys.readouterr().err
    assert out.read_bytes() == b"hers"
    html = tmp_path / "case.html"
    html.write_bytes(b"hers too")  # the HTML beside it is checked before any work too
    assert cli.main(["report", str(REFERENCE), "--format", "html", "--out", str(out)]) == 2
    assert html.read_bytes() == b"hers too"
    args = ["report", str(REFERENCE), "--paths", "256", "--weeks", "8", "--force"]
    assert cli.main([*args, "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF-")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_today_date_gives_calendar_dates_and_the_documents_date():
    """Where the scenario has a `today` (issue 13's history editor adds it), contracts' end
    dates, the weeks the feedback leaves each window and the PDF's date follow from it."""
    import datetime as dt

    from helpers import small

    import sim

    sc = small(paths=256, weeks=30)
    res = sim.run(sc)
    dated = sc.model_copy()
    object.__setattr__(dated, "today", dt.date(2026, 11, 29))  # the field the editor adds
    case = report.Case(dated, res.summary(), {}, charts=())
    text = json.dumps(report.blocks(case))
    assert "6 weeks ago (2026-10-18)" in text and "1 week ago (2026-11-22)" in text
    assert "week 25 (2027-05-23)" in text  # leaves the 26-week window
    assert "'today' in this report is 2026-11-29" in text
    undated = report.Case(sc, res.summary(), {}, charts=())
    assert "2026-10-18" not in json.dumps(report.blocks(undated))
    pdf = report_typst.case_pdf(case)
    assert b"D:20261129" in pdf  # the document's date, not the clock's
    assert b"D:20261129" not in report_typst.case_pdf(undated)


def test_no_uncertainty_fixes_the_assumptions_and_says_so(tmp_path: Path):
    """--no-uncertainty: the third figure's cells say the assumptions were fixed, the dispute
    table too, and the command that reproduces the report carries the flag."""
    out = tmp_path / "fixed.pdf"
    args = ["report", str(REFERENCE), "--paths", "256", "--weeks", "8", "--no-uncertainty"]
    assert cli.main([*args, "--out", str(out)]) == 0
    text = _flat(_text(out))
    assert text.count("fixed in this run") >= 2  # the costs table and the dispute table
    assert "'Fixed in this run'" in text
    assert "over the plausible range of the model's assumptions" not in text
    assert "--hours 3 --no-uncertainty" in text
    assert "on = false" in text  # the appendix: the scenario as run


def test_a_range_that_leaves_her_value_out_is_noted_under_the_assumptions(tmp_path: Path):
    data = reference_data()
    data.setdefault("freelancer", {})["capacity"] = 5
    data["uncertainty"] = {"ranges": {"freelancer.capacity": [1, 3]}}
    path = tmp_path / "outside.toml"
    path.write_text(tomli_w.dumps(data))
    out = tmp_path / "outside.pdf"
    assert cli.main(["report", str(path), "--paths", "256", "--weeks", "8", "--out", str(out)]) == 0
    text = _flat(_text(out))
    assert (
        "Note: freelancer.capacity is 5 in the scenario, but the range the scenario sets for "
        "it, 1 to 3, leaves that out" in text
    )
    assert "freelancer.capacity 5 1 to 3 A" in text  # the table: the range as set


def test_the_dashboards_report_with_uncertainty_off_is_repsim_report_no_uncertainty(tmp_path):
    """The dashboard's switch off: its Case report (the page's run, its TOML) is, byte for byte,
    what the reproduce command it prints writes, --no-uncertainty included."""
    from helpers import small

    import sim
    from app.charts import build_specs
    from app.dispute_view import case_pdf_bytes
    from sim import dispute

    sc = sim.with_today(small(paths=256, weeks=8))  # the dashboard runs a scenario as of a day
    assert not sc.uncertainty.on
    toml = sim.dumps_scenario(sc)
    res = sim.run(sim.loads_scenario(toml, "settings"))
    inputs = dispute.DisputeInputs(chance_upheld=0.3)
    pdf = case_pdf_bytes(toml, res.summary(), build_specs(res), inputs)
    path = tmp_path / "scenario.toml"
    path.write_text(toml)
    out = tmp_path / "case.pdf"
    args = ["report", str(path), "--chance", "0.3", "--no-uncertainty", "--out", str(out)]
    assert cli.main(args) == 0
    assert out.read_bytes() == pdf
    assert "--hours 3 --no-uncertainty" in _flat(_text(out))
