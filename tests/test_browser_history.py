"""Her contracts typed into the one history editor in Chromium: Compare and the Calculator agree
on every rule, and the address reopens the same figures in a new browser."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from browser_helpers import IDLE, metrics

from app.controls import CATALOG
from app.history_editor import LABELS
from app.history_table import COLUMNS

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 1000}
RULES = tuple(CATALOG)  # every rule the catalog has: the Calculator shows them all
QUERY = "?preset=flagged-client-rule&run.paths=300&run.weeks=30&arms=" + quote(",".join(RULES))
ROW, HEADER = 35, 35  # px: the editor's row and header heights
# the editor's columns, in order (app/history_table.COLUMNS)
CLIENT, WEEKS, VALUE, SKILLS = 0, 2, 3, 5
LABEL = [LABELS[c] for c in COLUMNS]
# the cells typed, (row, column, text): three contracts with their own values, the first
# rated in stars (the preset's), the disputed one's availability changed, a third rated by
# its six criteria
TYPED = [
    (0, VALUE, "450"),
    (1, VALUE, "300"),
    (1, SKILLS + 2, "2"),  # availability
    (2, CLIENT, "third"),
    (2, WEEKS, "0"),
    (2, VALUE, "800"),
    *[(2, SKILLS + i, text) for i, text in enumerate(("5", "5", "4", "5", "5", "4.5"))],
]


def idle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function(IDLE, timeout=120_000)


GRID = """t => {
    const heads = {};
    t.querySelectorAll('thead th').forEach(h =>
        heads[h.getAttribute('aria-colindex')] = h.innerText.trim());
    return [...t.querySelectorAll('tbody tr')].map(r => {
        const row = {_row: r.getAttribute('aria-rowindex')};
        r.querySelectorAll('td').forEach(c => {
            const name = heads[c.getAttribute('aria-colindex')];
            if (name) row[name] = c.innerText.trim();
        });
        return row;
    });
}"""


def grid(page, table, scroll: bool = False) -> list[dict[str, str]]:
    """The cells of a Streamlit table by column name, from the accessible copy of its canvas
    grid (which holds the columns in view only: with `scroll`, it is scrolled across too)."""
    table.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    table.locator("tbody tr").first.wait_for(state="attached", timeout=30_000)
    scroller = table.locator(".dvn-scroller").first
    if scroll:  # the grid's own scrolling box, from the far left
        scroller.evaluate("s => { s.scrollLeft = 0; }")
        page.wait_for_timeout(300)
    rows = {r["_row"]: r for r in table.evaluate(GRID)}
    if scroll:  # then across, a third of its width at a time
        for _ in range(12):
            scroller.evaluate("s => { s.scrollLeft += s.clientWidth / 3; }")
            page.wait_for_timeout(150)
            for more in table.evaluate(GRID):
                row = rows.setdefault(more["_row"], {})
                # a column half out of view reads empty: never let it hide a value read before
                row.update({k: v for k, v in more.items() if v != "" or k not in row})
    return [
        {k: v for k, v in row.items() if k != "_row"}
        for _, row in sorted(rows.items(), key=lambda item: int(item[0]))
    ]


def type_cell(page, editor, row: int, column: int, text: str) -> None:
    """Select a cell from the keyboard (its row's client cell, then right), type, Enter; again
    if the grid did not take it (a rerun may land between the click and the first key). A click
    on the empty row under the table adds a row."""
    want = text  # the accessible copy holds the values as typed, not as formatted
    for _ in range(4):
        page.wait_for_timeout(500)
        box = editor.bounding_box()
        page.mouse.click(box["x"] + 60, box["y"] + HEADER + ROW * row + ROW // 2)
        page.wait_for_timeout(300)
        for _ in range(column):
            page.keyboard.press("ArrowRight")
        page.wait_for_timeout(200)
        page.keyboard.type(text, delay=60)
        page.wait_for_timeout(200)
        page.keyboard.press("Enter")
        idle(page)
        cells = grid(page, editor)
        if row < len(cells) and cells[row].get(LABEL[column]) == want:
            return
    raise AssertionError(f"row {row}, {LABEL[column]}: {want!r} not taken ({cells})")


def calculator_rows(page) -> dict[str, dict[str, str]]:
    """The Calculator's table of rules: {rule: {column: shown text}}."""
    table = page.get_by_test_id("stDataFrame").last
    table.scroll_into_view_if_needed()
    return {r["rule"]: r for r in grid(page, table, scroll=True)}


def compare_figures(page) -> dict[str, tuple[str, str, str]]:
    """Per rule on the Compare page: stars, JSS and win probability now."""
    figures = metrics(page)
    stars = [v for label, v in figures if label == "Stars now"]
    jss = [v for label, v in figures if label == "Job Success Score now"]
    win = [v for label, v in figures if label == "Chance one proposal wins"]
    return dict(zip(RULES, zip(stars, jss, win, strict=True), strict=True))


def as_compare(row: dict[str, str]) -> tuple[str, str, str]:
    """A Calculator row (the grid's raw values) in the Compare page's words: 4.36, 0% or
    "none yet", 0.49%."""
    stars, jss, win = row["stars"], row["JSS (%)"], float(row["win probability"])
    return (
        f"{float(stars):.2f}" if stars else "no stars yet",
        f"{float(jss):.0f}%" if jss else "none yet",
        f"{win:.2%}",
    )


def open_compare(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(
        f"{IDLE} && document.querySelectorAll('[data-testid=stMetricValue]').length >= "
        f"{3 * len(RULES)}",
        timeout=300_000,
    )


def test_a_typed_history_drives_compare_and_the_calculator(browser, server) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server}/calculator{QUERY}")
        page.wait_for_function(
            IDLE + " && document.querySelectorAll('[data-testid=stDataFrame]').length >= 2",
            timeout=120_000,
        )
        editor = page.get_by_test_id("stDataFrame").first
        editor.scroll_into_view_if_needed()
        before = calculator_rows(page)
        for row, column, text in TYPED:
            type_cell(page, editor, row, column, text)
        assert page.get_by_test_id("stAlertContentWarning").count() == 0  # every row is used
        typed = grid(page, editor, scroll=True)
        assert [r["client"] for r in typed] == ["first-client", "off-platform-pusher", "third"]
        assert [r["value ($)"] for r in typed] == ["450", "300", "800"]
        calculator = calculator_rows(page)
        assert calculator != before and set(RULES) <= set(calculator)
        address = page.url
        assert "history=" in address

        # the same session; the navigation names the page (a fresh server's first request used
        # to fall into Streamlit's pages-directory mode, which listed the file name, "compare")
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Compare").click()
        page.wait_for_function(
            f"{IDLE} && document.querySelectorAll('[data-testid=stMetricValue]').length >= "
            f"{3 * len(RULES)}",
            timeout=300_000,
        )
        shown = compare_figures(page)
        for rule in RULES:  # the simulation's week 0 and the closed forms agree, rule by rule
            assert shown[rule] == as_compare(calculator[rule]), rule
        # the flagged-client rule reads the client's record: it counts the 3.x out of the JSS
        assert shown["flagged-client rule"][1] != shown["kept"][1]
        compare_address = page.url
        assert "history=" in compare_address
        assert not errors and page.get_by_test_id("stException").count() == 0
    finally:
        context.close()

    fresh = browser.new_context(viewport=VIEWPORT)  # a new browser session opens the address
    try:
        other = fresh.new_page()
        open_compare(other, compare_address)
        assert compare_figures(other) == shown
        other.goto(address)
        other.wait_for_function(
            IDLE + " && document.querySelectorAll('[data-testid=stDataFrame]').length >= 2",
            timeout=120_000,
        )
        typed_columns = sorted({LABEL[column] for _, column, _ in TYPED})
        for _ in range(5):  # the grid's accessible copy may miss a column scrolled past too soon
            again = grid(other, other.get_by_test_id("stDataFrame").first, scroll=True)
            if all(c in r for r in again for c in typed_columns):
                break
        assert [[r.get(c) for c in typed_columns] for r in again] == [
            [r.get(c) for c in typed_columns] for r in typed
        ]
        assert calculator_rows(other) == calculator
    finally:
        fresh.close()


def test_screenshots_of_the_editor(browser, server) -> None:
    """The Compare and Calculator pages with the table of contracts, at 1400 and 390 px
    (/tmp/repsim-history-*.png, for a person to look at)."""
    for width in (1400, 390):
        context = browser.new_context(viewport={"width": width, "height": 2400})
        page = context.new_page()
        try:
            for name in ("calculator", "compare"):  # the phone opens the sidebar last
                page.goto(f"{server}/{'' if name == 'compare' else name}{QUERY}")
                page.wait_for_function(
                    IDLE + " && document.querySelectorAll('[data-testid=stDataFrame]').length"
                    f" >= {1 if name == 'compare' else 2}",
                    timeout=300_000,
                )
                page.wait_for_timeout(1500)
                if width < 500 and name == "compare":  # a phone: open the sidebar
                    page.get_by_test_id("stExpandSidebarButton").click()
                    page.wait_for_timeout(1000)
                path = Path(f"/tmp/repsim-history-{name}-{width}.png")
                page.screenshot(path=str(path), full_page=True)
                assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            context.close()
