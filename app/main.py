"""Streamlit entry point: `streamlit run app/main.py [-- SCENARIO.toml]`."""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import app  # noqa: F401  (installed, or run from the repository root's environment)
except ImportError:  # `streamlit run` puts app/ on sys.path, not the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st

from app import session

PAGES = (
    ("pages/compare.py", "Compare", ":material/compare_arrows:"),
    ("pages/calculator.py", "Calculator", ":material/calculate:"),
    ("pages/dispute.py", "Dispute", ":material/gavel:"),
    ("pages/scenario.py", "Scenario", ":material/description:"),
    ("pages/policy.py", "Policy lab", ":material/policy:"),
    ("pages/about.py", "About the model", ":material/info:"),
)


def main() -> None:
    session.freeze_startup_objects()
    st.set_page_config(page_title="repsim: what one unfair rating costs", layout="wide")
    pages = [
        st.Page(path, title=title, icon=icon, default=i == 0)
        for i, (path, title, icon) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    if page.url_path != "policy":  # the Policy lab keeps its own settings in the address
        session.prepare()
    page.run()


# `streamlit run` executes this file as __main__; worker processes started by the app's pool
# import it as __mp_main__ (multiprocessing re-imports the parent's main module) and must not run
# the app.
if __name__ == "__main__":
    main()
