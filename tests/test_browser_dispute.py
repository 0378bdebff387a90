"""The Dispute page's inputs in the address bar, in Chromium: a copied address reopens the same
inputs and figures in a new browser; a bad value in it is named, the rest kept."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from browser_helpers import IDLE, wait_idle

from sim import dispute

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 1000}
SMALL = "run.paths=600&run.weeks=30&run.seed=5"
CHANCE, WAIT, HOURS = (
    "Chance the report is upheld (%)",
    "Weeks until it is decided",
    "Hours it takes you",
)


NAVIGATION = ["Compare", "Calculator", "Dispute", "Scenario", "Policy lab", "About the model"]


def test_a_fresh_servers_first_visitor_on_a_shared_address_gets_the_whole_app(
    browser, server
) -> None:
    """The module's server has served nothing yet: its first request is a shared Dispute
    address. It gets the app's navigation and wide page, as any later visitor does (with the
    pages in a `pages/` folder, Streamlit ran this first page alone, narrow, under a list of
    file names, until someone opened the Compare page)."""
    page = new_page(browser)
    try:
        page.goto(server + "/dispute?" + SMALL + "&dispute.wait_weeks=3")
        settle(page, "reporting the feedback is worth")
        links = page.get_by_test_id("stSidebarNav").locator("a").all_inner_texts()
        assert [text.split("\n")[-1] for text in links] == NAVIGATION
        width = page.evaluate(
            "document.querySelector('[data-testid=stMainBlockContainer]')"
            ".getBoundingClientRect().width"
        )
        assert width > 1000  # the wide layout, in a 1400 px window with the sidebar open
        assert inputs(page)[1] == "3"
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def served(browser, server) -> str:
    """The module's server (its first request was the test above's)."""
    return server


def new_page(browser):
    """A page in a browser context of its own: a new session, as a copied address opens."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def settle(page, text: str = "") -> None:
    """Until the script has finished, the table of values is drawn and ``text`` is shown."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        f"{IDLE} && document.querySelectorAll('[data-testid=stDataFrame]').length === 1"
        f" && document.querySelector('[data-testid=stMain]').innerText.includes({text!r})",
        timeout=120_000,
    )


def number_box(page, label: str):
    return page.get_by_test_id("stNumberInput").filter(has_text=label).locator("input")


def inputs(page) -> tuple[str, str, str]:
    """The three inputs as the page shows them."""
    slider = page.get_by_test_id("stSlider").filter(has_text=CHANCE)
    return (
        slider.get_by_test_id("stSliderThumbValue").inner_text(),
        number_box(page, WAIT).input_value(),
        number_box(page, HOURS).input_value(),
    )


TABLE = "[...document.querySelectorAll('[data-testid=stDataFrame] table td')].map(c => c.innerText)"


def figures(page) -> list[str]:
    """The page's sentence of figures and every cell of its table of values (the grid's
    accessible copy of its canvas, which follows the canvas a moment later: read once it
    holds the sentence's value, the last row's, and reads the same twice in a row)."""
    sentence = page.get_by_test_id("stMarkdown").filter(has_text="reporting the feedback is worth")
    words = sentence.inner_text()
    value = re.search(r"is worth (-?\$[\d,]+)", words).group(1)
    page.wait_for_function(f"{TABLE}.includes({value!r})", timeout=30_000)
    cells: list[str] = []
    for _ in range(20):
        page.wait_for_timeout(500)
        now = page.evaluate(TABLE)
        if now == cells:
            break
        cells = now
    assert len(cells) >= 3 * 5  # 3 horizons, 5 columns at least
    return [words, *cells]


def set_number(page, label: str, value: str, then: str) -> None:
    box = number_box(page, label)
    box.fill(value)
    box.press("Enter")
    settle(page, then)


def test_a_copied_address_reopens_the_same_inputs_and_figures(browser, served) -> None:
    page = new_page(browser)
    try:
        page.goto(f"{served}/dispute?{SMALL}")
        settle(page, "a 50% chance")
        slider = page.get_by_test_id("stSlider").filter(has_text=CHANCE).get_by_role("slider")
        slider.focus()
        for _ in range(3):  # 50% -> 65%, one step of 5 at a time
            page.keyboard.press("ArrowRight")
        settle(page, "a 65% chance")
        set_number(page, WAIT, "4", "removed after 4 weeks")
        set_number(page, HOURS, "6.5", "6.5 h at")
        page.wait_for_function(
            "window.location.search.includes('dispute.hours=6.5')", timeout=30_000
        )
        shown, drawn, address = inputs(page), figures(page), page.url
        assert shown == ("65", "4", "6.5")
        query = parse_qs(urlsplit(address).query)
        assert query["dispute.chance_upheld"] == ["0.65"]
        assert query["dispute.wait_weeks"] == ["4"] and query["dispute.hours"] == ["6.5"]
        assert query["run.paths"] == ["600"]  # the scenario's settings beside them
        assert len(drawn) > 10 and "removed after 4 weeks" in drawn[0]
        page.get_by_test_id("stSidebarNav").get_by_text("Compare", exact=True).click()
        wait_idle(page)  # the Compare page's address keeps them: its case report uses them
        assert parse_qs(urlsplit(page.url).query)["dispute.chance_upheld"] == ["0.65"]
        assert not page.errors
    finally:
        page.context.close()
    again = new_page(browser)
    try:
        again.goto(address)
        settle(again, "removed after 4 weeks")
        assert inputs(again) == shown
        assert figures(again) == drawn
        assert not again.errors
    finally:
        again.context.close()


def test_a_bad_address_value_gets_a_clear_message_and_the_rest_is_kept(browser, served) -> None:
    hostile = '<img src=x onerror="document.title=1">'
    page = new_page(browser)
    try:
        page.goto(
            f"{served}/dispute?{SMALL}&dispute.wait_weeks=99&dispute.chance_upheld=0.25"
            f"&dispute.hours={quote(hostile)}"
        )
        settle(page, "a 25% chance")
        alerts = page.get_by_test_id("stAlert")
        text = " ".join(alerts.all_inner_texts())
        assert "URL parameter dispute.wait_weeks ignored: 99 is out of range" in text
        assert "0 to 52" in text
        assert "URL parameter dispute.hours ignored" in text and hostile in text  # as text
        assert alerts.locator("img").count() == 0
        assert page.get_by_test_id("stException").count() == 0
        assert inputs(page) == ("25", str(dispute.WAIT_WEEKS), f"{dispute.HOURS:.1f}")
        query = parse_qs(urlsplit(page.url).query)
        assert query["dispute.chance_upheld"] == ["0.25"] and query["run.paths"] == ["600"]
        assert "dispute.wait_weeks" not in query and "dispute.hours" not in query
        assert not page.errors
    finally:
        page.context.close()
