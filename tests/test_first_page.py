"""The default page's run, done once when the server starts (app/first_page.py): it is the run a
new session's page would do, and the page is then drawn from the shared cache without a run."""

from __future__ import annotations

import streamlit as st
from helpers import ROOT
from streamlit.testing.v1 import AppTest

import sim
from app import first_page, results

MAIN = str(ROOT / "app" / "main.py")


def test_the_prepared_run_is_the_one_a_new_session_shows():
    st.cache_data.clear()
    runs = results.RUNS["count"]
    assert first_page.prepare([])
    assert results.RUNS["count"] == runs + 1
    at = AppTest.from_file(MAIN, default_timeout=120).run()
    assert not at.exception
    assert results.RUNS["count"] == runs + 1, "the page ran the scenario again"
    sha = sim.loads_scenario(first_page.default_toml([]), "settings").sha256()
    assert any(sha[:16] in c.value for c in at.caption), "not the page's scenario"


def test_a_big_default_scenario_is_left_to_its_page(tmp_path):
    data = sim.dumps_scenario(sim.Scenario()).replace("paths = 10000", "paths = 60000")
    assert "paths = 60000" in data
    path = tmp_path / "big.toml"
    path.write_text(data)
    runs = results.RUNS["count"]
    assert not first_page.prepare([str(path)])  # a big run: progress and Cancel on its page
    assert results.RUNS["count"] == runs
