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

# The pages live in views/, not pages/: a `pages/` folder beside the entry script puts Streamlit in
# its older pages-directory mode until main.py first runs, so a fresh server's first visitor on a
# shared /dispute or /policy address got that page alone, narrow, under a list of file names.
PAGES = (
    ("views/compare.py", "Compare", ":material/compare_arrows:"),
    ("views/calculator.py", "Calculator", ":material/calculate:"),
    ("views/dispute.py", "Dispute", ":material/gavel:"),
    ("views/scenario.py", "Scenario", ":material/description:"),
    ("views/policy.py", "Policy lab", ":material/policy:"),
    ("views/about.py", "About the model", ":material/info:"),
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
