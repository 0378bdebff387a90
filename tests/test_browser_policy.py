"""The Policy lab in a real browser: the frontier chart, its legend, an export, screenshots."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from browser_helpers import IDLE, ROOT

import sim
from app import policy_lab
from app.frontier_chart import series_order

pytestmark = pytest.mark.browser

SCREENSHOTS = {1400: ROOT / "docs" / "policy-lab.png", 390: ROOT / "docs" / "policy-lab-390.png"}
# a quick population for the tests that are not screenshots: the same page, fewer freelancers
# and a shorter sweep (two rules)
QUICK = "/policy?rules=flagged-client+rule,excluded"
# the frontier's chart, drawn: its marks, its legend and the download buttons under it
READY = (
    f"{IDLE} && document.querySelectorAll('[data-testid=stVegaLiteChart] svg.marks').length === 1"
    " && document.querySelectorAll('[data-testid=stVegaLiteChart] .role-legend-label').length > 0"
    " && document.querySelectorAll('[data-testid=stDownloadButton]').length >= 4"
)
LEGEND = """() => {
    const chart = document.querySelector('[data-testid=stVegaLiteChart]');
    const box = chart.getBoundingClientRect();
    const symbols = [...chart.querySelectorAll('.role-legend-symbol path')];
    return {
        left: box.left, right: box.right, svg: chart.querySelector('svg').getBoundingClientRect(),
        marks: [...chart.querySelectorAll('.role-mark path')]
            .map(p => (p.getAttribute('fill') || '') + ' ' + (p.getAttribute('stroke') || '')),
        entries: [...chart.querySelectorAll('.role-legend-label text')].map((label, i) => {
            const r = label.getBoundingClientRect();
            const s = symbols[i];
            return {text: label.textContent, left: r.left, right: r.right, top: r.top,
                    bottom: r.bottom,
                    colour: s && (s.getAttribute('fill') !== 'transparent' && s.getAttribute('fill')
                                  || s.getAttribute('stroke'))};
        }),
    };
}"""


def open_lab(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(READY, timeout=300_000, polling=250)
    page.wait_for_timeout(500)  # the chart settles after the last delta


def no_exception(page) -> None:
    assert page.get_by_test_id("stException").count() == 0


def _expected_rules(rules: tuple[str, ...]) -> list[str]:
    """The legend the page should draw: the preset's own arms and the swept rules (computed
    from the frontier itself, in this process: the same seed gives the same rows)."""
    from sim.frontier import frontier

    sc = sim.load_scenario(policy_lab.PRESETS[policy_lab.DEFAULT_PRESET])
    return series_order(frontier(sc, settings=policy_lab.frontier_settings(rules)))


@pytest.fixture(scope="module")
def warm(browser, server) -> str:
    """The server after its first request, made to the dashboard's root: Streamlit serves a
    server's very first request in its older pages-directory mode (the page alone, without
    main.py's navigation and wide layout)."""
    context = browser.new_context()
    try:
        first = context.new_page()
        first.goto(server + "/")
        first.get_by_role("link", name="Policy lab").wait_for(timeout=120_000)
    finally:
        context.close()
    return server


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    p = context.new_page()
    yield p
    context.close()


def test_the_frontier_renders_with_every_rule_in_its_legend(page, warm) -> None:
    open_lab(page, warm + QUICK)
    no_exception(page)
    chart = page.evaluate(LEGEND)
    names = [e["text"] for e in chart["entries"]]
    assert names == _expected_rules(("flagged-client rule", "excluded"))
    for e in chart["entries"]:
        # whole and in sight, inside the chart, and each rule drawn in its colour
        assert chart["left"] - 1 <= e["left"] and e["right"] <= chart["right"] + 1, e
        assert e["bottom"] > e["top"]
        assert any(e["colour"].lower() in m.lower() for m in chart["marks"]), e
    assert len({e["colour"] for e in chart["entries"]}) == len(names)
    text = page.get_by_test_id("stMain").inner_text()
    assert "unfair low ratings" in text and "Every measure" in text
    assert page.get_by_test_id("stDataFrame").count() == 1


def test_the_address_holds_the_settings_and_a_bad_value_is_named(page, warm) -> None:
    open_lab(page, warm + QUICK + "&population.clients.coercive_share=0.05")
    assert "population.clients.coercive_share=0.05" in page.url
    slider = page.get_by_role("slider", name="Coercive clients (share)")
    assert slider.input_value() == "0.05"
    slider.focus()
    page.keyboard.press("ArrowRight")  # one step: the address follows the slider
    page.wait_for_url("**population.clients.coercive_share=0.055**", timeout=60_000)
    page.wait_for_function(READY, timeout=300_000, polling=250)
    assert slider.input_value() == "0.055"
    assert "0.055" in page.get_by_test_id("stSidebar").inner_text()  # shown as set
    open_lab(page, warm + QUICK + "&population.reports.unfair=7")
    warning = page.get_by_test_id("stAlert").first.inner_text()
    assert "population.reports.unfair" in warning and "out of range" in warning
    no_exception(page)


@pytest.mark.parametrize("fmt", ["PNG", "SVG", "CSV"])
def test_an_export_downloads(page, warm, fmt: str) -> None:
    open_lab(page, warm + QUICK)
    button = page.get_by_test_id("stDownloadButton").filter(has_text=f"↓ {fmt}").first
    with page.expect_download(timeout=60_000) as download:
        button.click()
    data = Path(download.value.path()).read_bytes()
    name = download.value.suggested_filename
    if fmt == "PNG":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and name.endswith("-frontier.png")
        width, height = struct.unpack(">II", data[16:24])
        assert width > 800 and height > 800
    elif fmt == "SVG":
        assert data.startswith(b"<svg") and b"flagged-client rule" in data
    else:
        lines = data.decode().splitlines()
        assert lines[0].startswith("rule,arm,parameter,value,protection,protection_lo")
        assert len(lines) > 5
    no_exception(page)


@pytest.mark.parametrize("width", sorted(SCREENSHOTS))
def test_policy_lab_screenshot(browser, warm, width: int) -> None:
    """docs/policy-lab.png and docs/policy-lab-390.png: the default question, the whole page."""
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    try:
        open_lab(page, warm + "/policy")
        no_exception(page)
        if width > 1000:  # the dashboard's navigation, not the pages folder's file names
            assert page.get_by_role("link", name="Policy lab").is_visible()
        chart = page.evaluate(LEGEND)
        assert chart["svg"]["right"] <= width  # the chart fits the window, legend and all
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        height = page.evaluate(
            "document.querySelector('[data-testid=stMainBlockContainer]').scrollHeight"
        )
        page.set_viewport_size({"width": width, "height": height + 80})
        page.wait_for_timeout(1000)  # the chart, sized to its column, redraws at the new size
        page.screenshot(path=str(SCREENSHOTS[width]))
    finally:
        context.close()
