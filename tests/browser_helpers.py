"""Helpers for the browser tests: a `streamlit run` server, Debian's Chromium, page waits."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRED = os.environ.get("REPSIM_REQUIRE_BROWSER") == "1"  # .ci/run: a skip must fail
IDLE = (
    "document.querySelector('[data-testid=stApp]')"
    "?.getAttribute('data-test-script-state') === 'notRunning'"
)


def unavailable(reason: str) -> None:
    """Fail when CI requires the browser tests, skip (saying why) otherwise."""
    if REQUIRED:
        pytest.fail(f"{reason}; REPSIM_REQUIRE_BROWSER=1 requires the browser tests to run")
    pytest.skip(f"{reason} (install Debian's chromium: apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def streamlit_server(log: Path, timeout: float = 60.0, prefetch: bool = True) -> Iterator[str]:
    """`streamlit run app/serve.py` (what `make app` runs) on a free port; yields its base URL,
    stops it afterwards. ``prefetch``: whether it simulates the next notch ahead
    (app/prefetch.py), as it does unless told otherwise."""
    with streamlit_process(log, timeout, prefetch) as (url, _):
        yield url


@contextlib.contextmanager
def streamlit_process(
    log: Path, timeout: float = 60.0, prefetch: bool = True
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit_server`, yielding the server's process as well as its base URL."""
    # this test process has it off (conftest.py); the server runs as it would anywhere
    env = {**os.environ, "REPSIM_PREFETCH": "1" if prefetch else "0"}
    port = _free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app/serve.py",
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_idle(page, timeout_ms: float = 120_000) -> None:
    """Until the script has finished and the headline figures are on the page."""
    page.wait_for_function(
        f"{IDLE} && document.querySelectorAll('[data-testid=stMetricValue]').length > 0",
        timeout=timeout_ms,
        polling="raf",
    )


def metrics(page) -> list[tuple[str, str]]:
    """(label, value) of every st.metric, in page order."""
    labels = page.get_by_test_id("stMetricLabel").all_inner_texts()
    values = page.get_by_test_id("stMetricValue").all_inner_texts()
    return list(zip(labels, values, strict=True))


def svg_of(page, index: int) -> str:
    return page.get_by_test_id("stVegaLiteChart").nth(index).locator("svg").first.inner_html()
