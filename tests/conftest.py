"""Shared fixtures."""

from __future__ import annotations

import os

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, streamlit_server, unavailable
from helpers import REFERENCE

import sim

# In-process page tests (AppTest) do not simulate the next notch ahead on an idle pool of their
# own: tests/test_prefetch.py turns it on where it is the subject. Dashboard servers started by
# the browser tests have it on, as anywhere else (browser_helpers.streamlit_process).
os.environ["REPSIM_PREFETCH"] = "0"


@pytest.fixture
def reference() -> sim.Scenario:
    return sim.load_scenario(REFERENCE)


# -- the browser tests' Chromium and dashboard server, one of each per test module ----------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory) -> str:
    """`streamlit run app/serve.py` on a free port: its base URL."""
    with streamlit_server(tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url
