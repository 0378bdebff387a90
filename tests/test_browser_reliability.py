"""The served dashboard under faults and a crowd (issue 15), in a real browser: the health check
after a killed worker, a big run's progress bar and Cancel, eight sessions with one hostile."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
import pytest
import tomli_w
from browser_helpers import (
    IDLE,
    metrics,
    streamlit_process,
    wait_idle,
)
from helpers import reference_data

import sim
from app import controls, results, runner

pytestmark = pytest.mark.browser

SOAK = os.environ.get("REPSIM_SOAK") == "1"
FIGURES = Path("/tmp/repsim-fuzz")
VIEWPORT = {"width": 1400, "height": 1000}
PATHS = "Paths (futures simulated)"
# In each page, on its own clock: milliseconds from the start of navigation until the script is
# idle with the figures and the charts on the page (what "the page has loaded" means to a user).
# Also when the first headline figure shows (the server has run the scenario and sent the
# figures; the charts are still to come and to draw).
LOAD_CLOCK = """
window.__loaded = null;
window.__figures = null;
const tick = () => {
  const app = document.querySelector('[data-testid=stApp]');
  if (window.__figures === null && document.querySelector('[data-testid=stMetricValue]')) {
    window.__figures = performance.now();
  }
  if (app && app.getAttribute('data-test-script-state') === 'notRunning'
      && document.querySelector('[data-testid=stMetricValue]')
      && document.querySelector('[data-testid=stVegaLiteChart] svg.marks')) {
    window.__loaded = performance.now();
    return;
  }
  setTimeout(tick, 50);
};
setTimeout(tick, 50);
"""


@pytest.fixture(scope="module")
def served(browser, tmp_path_factory):
    """`streamlit run app/serve.py`: (base URL, server process)."""
    with streamlit_process(tmp_path_factory.mktemp("streamlit") / "server.log") as served:
        yield served


def new_page(browser, clock: bool = False):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    if clock:
        context.add_init_script(LOAD_CLOCK)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def pool_workers(server: Any) -> list[psutil.Process]:
    """The server's worker processes: the children of its forkserver."""
    for child in psutil.Process(server.pid).children():
        if "forkserver" in " ".join(child.cmdline()):
            return child.children()
    return []


def nice(process: psutil.Process) -> int | None:
    """A worker's nice value; None for the idle pool's (app/prefetch.py), which run only on
    CPU time nothing else wants (SCHED_IDLE), or for a worker gone."""
    try:
        if os.sched_getscheduler(process.pid) == os.SCHED_IDLE:
            return None
        return process.nice()
    except (psutil.Error, OSError):
        return None


def cpu_split(server: Any) -> dict[str, float]:
    """CPU seconds so far: the server's process, its pool workers, this test's Chromium, and the
    whole machine (busy time of all its cores: the other users of the machine included)."""
    chromium = [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name()]
    main = psutil.Process(server.pid)
    workers = pool_workers(server)
    small = [p for p in workers if nice(p) == main.nice()]  # the big pool's runs at nice +10
    big = [p for p in workers if p not in small and nice(p) is not None]
    t = psutil.cpu_times()
    return {
        "server": cpu_seconds([main]),
        "small_pool": cpu_seconds(small),
        "big_pool": cpu_seconds(big),
        "idle_pool": cpu_seconds([p for p in workers if p not in small and p not in big]),
        "chromium": cpu_seconds(chromium),
        "machine": t.user + t.nice + t.system + t.irq + t.softirq + t.steal,
    }


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def tracebacks(page) -> int:
    return page.get_by_test_id("stException").count()


def footer(page) -> str:
    return page.get_by_text("scenario sha256").inner_text()


# -- the health check ---------------------------------------------------------------------------


def test_health_reflects_a_killed_worker_and_the_next_run_succeeds(browser, served):
    url, server = served
    page = new_page(browser)
    page.goto(url)  # the default page: its run, done when the server started, has finished
    wait_idle(page)
    page.goto(url + "/?run.paths=2048")
    wait_idle(page)
    assert get(url + "/health") == (200, "ok")
    # the small pool's (the big pool's worker, if started, runs at a lower priority)
    priority = psutil.Process(server.pid).nice()
    workers = [p for p in pool_workers(server) if nice(p) == priority]
    assert len(workers) >= 2, "the dashboard runs on a pool of worker processes"
    killed = workers[0].pid
    os.kill(killed, signal.SIGKILL)  # what the OOM killer does
    psutil.wait_procs(workers[:1], timeout=10)
    code, body = get(url + "/health")
    assert code == 503 and "small pool" in body, body
    assert get(url + "/_stcore/health") == (200, "ok")  # Streamlit's own cannot know
    page.goto(url + "/?run.paths=2048&run.seed=11")  # the next run, on the healed pool
    wait_idle(page)
    assert tracebacks(page) == 0 and not page.errors
    assert "2,048 futures" in footer(page) and "seed 11" in footer(page)
    assert get(url + "/health") == (200, "ok")
    assert killed not in [p.pid for p in pool_workers(server)]
    page.context.close()


# -- a big run: progress and Cancel ---------------------------------------------------------------


def progress_value(page) -> int:
    value = page.get_by_role("progressbar").first.get_attribute("aria-valuenow")
    return int(float(value or 0))


def test_a_big_run_shows_progress_and_cancel_keeps_the_previous_results(browser, served):
    url, server = served
    page = new_page(browser)
    page.goto(url + "/?run.seed=5")
    wait_idle(page)
    before, shown = metrics(page), footer(page)
    box = page.get_by_role("spinbutton", name=PATHS)
    box.fill("200000")  # 2 rules x 200,000 paths x 104 weeks: 41.6 million rule-path-weeks
    box.press("Enter")
    page.get_by_role("progressbar").first.wait_for(timeout=60_000)
    page.wait_for_function(
        "+document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') > 0",
        timeout=300_000,
    )
    first = progress_value(page)
    page.wait_for_function(
        f"+document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') > {first}",
        timeout=300_000,
    )
    at_cancel = progress_value(page)
    label = page.get_by_test_id("stProgress").inner_text()
    assert "of 200,000 futures" in label and "Simulated" in label, label
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_function(
        f"{IDLE} && [...document.querySelectorAll('[data-testid=stAlert]')]"
        ".some(a => a.innerText.includes('Run cancelled'))",
        timeout=120_000,
    )
    assert metrics(page) == before and footer(page) == shown  # the previous results stay
    assert page.get_by_role("progressbar").count() == 0
    assert tracebacks(page) == 0 and not page.errors
    # the worker is freed: the pool's processes stop using the CPU (the chunk in hand ends)
    deadline, idle = time.monotonic() + 120, False
    while not idle and time.monotonic() < deadline:
        a = cpu_seconds(pool_workers(server))
        time.sleep(2)
        idle = cpu_seconds(pool_workers(server)) - a < 0.2
    assert idle, "the cancelled run went on"
    assert at_cancel < 90, "cancelled before the end"
    page.get_by_role("button", name="Run it after all").click()  # it starts again
    page.get_by_role("progressbar").first.wait_for(timeout=60_000)
    # a smaller big run (the settings changed: the one going is dropped) of 8.3 million
    # rule-path-weeks runs to its end, with a progress bar
    box.fill("40000")
    box.press("Enter")
    page.get_by_role("progressbar").first.wait_for(timeout=60_000)
    page.wait_for_function(
        f"{IDLE} && document.querySelector('[data-testid=stMain]')?.innerText"
        ".includes('40,000 futures × 104 weeks')",
        timeout=600_000,
    )
    assert metrics(page) != before and tracebacks(page) == 0 and not page.errors
    page.context.close()


# -- eight sessions, one hostile ------------------------------------------------------------------


def packed(data: dict[str, Any] | str) -> str:
    text = data if isinstance(data, str) else tomli_w.dumps(data)
    return "/?scenario=" + quote(controls._pack(text))


def with_run(**run: Any) -> dict[str, Any]:
    data = reference_data()
    data["run"] = {**data["run"], **run}
    return data


def hostile_urls() -> list[tuple[str, str]]:
    """(URL, what the page must say): refused or ignored ones, each with a clear message."""
    huge_comment = tomli_w.dumps(with_run(paths=500)) + "# " + "x" * 2**21 + "\n"
    deep = "a = " + "[" * 40 + "]" * 40 + "\n" + tomli_w.dumps(with_run(paths=500))
    return [
        ("/?disputed.contract=1000000&run.paths=500", "disputed.contract ignored"),
        ("/?run.paths=10000000", "run.paths ignored"),
        (packed(with_run(paths=10_000_000)), "over the dashboard's 100,000,000"),
        (packed(deep), "nested too deeply"),
        (packed(huge_comment), "more than 256 KB"),
        ("/?arms=kept", "at least two rules"),
    ]


def direct_figures(toml: str) -> tuple[str, list[tuple[str, str]]]:
    """The scenario's sha256 and its headline figures from a direct, serial `sim.run`."""
    sc = sim.loads_scenario(toml, "download")
    view = results.view_of(toml, sc, sim.run(sc))  # what the page builds, from a serial run
    out = [(h.label, h.value) for arm in view.arms for h in results.now_figures(view, arm)]
    for arm in view.arms[1:]:
        out += [(h.label, h.value) for h in results.difference_figures(view, arm)]
    return sc.sha256(), out


def is_subsequence(part: list, whole: list) -> bool:
    it = iter(whole)
    return all(x in it for x in part)


def downloaded_toml(page) -> str:
    with page.expect_download() as d:
        page.get_by_role("button", name="Scenario (TOML)").click()
    return Path(d.value.path()).read_text()


def loaded_ms(page) -> float:
    page.wait_for_function("window.__loaded !== null", timeout=600_000)
    return float(page.evaluate("window.__loaded"))


def test_eight_sessions_one_hostile_all_pages_correct(browser, served):
    """Seven users and one attacker at once. The attacker holds a big run (at the budget's edge
    under `make soak`) and repeats refused and ignored URLs; every other page shows exactly the
    figures of a direct serial run of its scenario. Recorded, not asserted: the default page's
    load time alone, beside the attacker's big run, and among the eight sessions."""
    url, server = served
    warm = new_page(browser)  # the server's first page starts its pools: not measured
    warm.goto(url + "/?run.paths=500")
    wait_idle(warm)
    warm.context.close()
    alone = new_page(browser, clock=True)
    alone.goto(url + "/?run.seed=99")  # the default page's size, not yet cached
    alone_ms = loaded_ms(alone)
    alone.context.close()

    big = "/?run.paths=200000&run.weeks=250" if SOAK else "/?run.paths=40000"
    rounds = 10 if SOAK else 2
    hostile = new_page(browser)
    hostile.goto(url + big)
    hostile.get_by_role("progressbar").first.wait_for(timeout=120_000)
    beside = new_page(browser, clock=True)  # the same page beside the attacker's big run only
    beside.goto(url + "/?run.seed=98")
    beside_ms = loaded_ms(beside)
    beside.context.close()
    others = [
        "/",  # the default page, first after the attacker's big run
        "/?run.paths=2000&run.seed=1",
        "/?run.paths=2000&disputed.stars=2",
        "/?run.paths=2000&arms=" + quote("kept,excluded,suspended client"),
        "/?preset=established-freelancer&run.paths=2000",
        "/?preset=flagged-client-rule&run.paths=3000",
        "/?run.paths=1000&run.weeks=52&run.seed=3",
    ]
    pages = [new_page(browser, clock=True) for _ in others]
    cpu_before, crowd_started = cpu_split(server), time.monotonic()
    for page, path in zip(pages, others, strict=True):
        page.goto(url + path, wait_until="commit")
    requests, hostile_tracebacks, unclear = 1, 0, []
    for _ in range(rounds):
        for path, expected in [*hostile_urls(), (big, "")]:
            hostile.goto(url + path)
            requests += 1
            if not expected:  # the big run again: it starts (the last one is dropped), or,
                # finished earlier, it is shown at once from the server's store of big runs
                hostile.wait_for_function(
                    "document.querySelector('[role=progressbar]') || "
                    f"({IDLE} && document.querySelector('[data-testid=stMetricValue]'))",
                    timeout=120_000,
                )
                continue
            hostile.wait_for_function(
                f"{IDLE} && document.querySelector('[data-testid=stAlert],"
                "[data-testid=stException]')",
                timeout=300_000,
            )
            hostile_tracebacks += tracebacks(hostile)
            alerts = " ".join(hostile.get_by_test_id("stAlert").all_inner_texts())
            if expected not in alerts:
                unclear.append((path[:60], alerts[:300]))
    default_ms = loaded_ms(pages[0])
    default_figures_ms = float(pages[0].evaluate("window.__figures"))
    slowest_ms = max(loaded_ms(page) for page in pages)
    cpu_after, crowd_s = cpu_split(server), time.monotonic() - crowd_started
    correct = 0
    for page, path in zip(pages, others, strict=True):
        wait_idle(page, timeout_ms=600_000)
        assert tracebacks(page) == 0 and not page.errors, path
        sha, expected = direct_figures(downloaded_toml(page))
        assert sha[:16] in footer(page), path
        assert is_subsequence(expected, metrics(page)), (path, expected, metrics(page))
        correct += 1
    hostile.context.close()
    for page in pages:
        page.context.close()
    figures = {
        "sessions": 1 + len(others),
        "pages_correct": f"{correct} of {len(others)}",
        "hostile_requests": requests,
        "hostile_big_run": big,
        "hostile_tracebacks": hostile_tracebacks,
        "hostile_unclear_messages": len(unclear),
        "default_page_alone_s": round(alone_ms / 1000, 2),
        "default_page_beside_the_big_run_s": round(beside_ms / 1000, 2),
        "default_page_among_8_sessions_s": round(default_ms / 1000, 2),
        "beside_the_big_run_vs_alone": round(beside_ms / alone_ms, 2),
        "among_8_sessions_vs_alone": round(default_ms / alone_ms, 2),
        "default_page_figures_among_8_sessions_s": round(default_figures_ms / 1000, 2),
        "slowest_page_among_8_sessions_s": round(slowest_ms / 1000, 2),
        "crowd_s": round(crowd_s, 1),
        "crowd_cpu_s": {k: round(cpu_after[k] - cpu_before[k], 1) for k in cpu_after},
        "load_average_1min": round(os.getloadavg()[0], 1),
        "soak": SOAK,
    }
    FIGURES.mkdir(exist_ok=True)
    (FIGURES / "sessions.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
    assert hostile_tracebacks == 0 and not unclear, unclear
    assert correct == len(others)


def test_the_soaks_big_run_is_at_the_budgets_edge():
    edge = sim.validate_scenario(with_run(paths=200_000, weeks=250), "edge")
    assert runner.cells(edge) == runner.BUDGET_CELLS and not runner.budget_problems(edge)
