"""Scenario page: the current settings as TOML to download, and an upload to start from."""

from __future__ import annotations

import streamlit as st

import sim
from app import controls, session

UPLOAD_KEY = "upload"
SEEN = "upload-seen"  # the id of the last upload handled, so a rerun does not apply it again
ERRORS = "upload-errors"


def _handle_upload() -> None:
    file = st.session_state.get(UPLOAD_KEY)
    if file is None or st.session_state.get(SEEN) == file.file_id:
        return
    st.session_state[SEEN] = file.file_id
    base, problems = session.uploaded_base(file.name, file.getvalue())
    st.session_state[ERRORS] = (file.name, problems)
    if base is not None:
        session.replace_base(base)
        session.sync_url()  # the address reopens the upload, not the settings before it


LIMIT = f"{session.MAX_UPLOAD // 1024} KB"
# Streamlit's upload box states its limit in whole megabytes ("1MB per file"); ours is in KB:
# the box shows our limit instead (the bytes are checked by session.uploaded_base)
LIMIT_CSS = f"""<style>
.st-key-{UPLOAD_KEY} [data-testid=stFileUploaderDropzoneInstructions] span {{display: none}}
.st-key-{UPLOAD_KEY} [data-testid=stFileUploaderDropzoneInstructions] > div::after {{
  content: "{LIMIT} per file • TOML"; font-size: 0.875rem; opacity: 0.6;
}}
</style>"""


def _upload() -> None:
    st.subheader("Start from your own scenario")
    st.html(LIMIT_CSS)
    st.file_uploader(
        f"Upload a scenario (TOML, at most {LIMIT})",
        type=["toml"],
        key=UPLOAD_KEY,
        max_upload_size=1,  # megabytes, the least Streamlit takes; the bytes are checked
        help="A file in the format of scenarios/*.toml. Unknown keys and bad values are reported "
        "by their dotted key; the current settings stay until a file is valid.",
    )
    _handle_upload()
    name, problems = st.session_state.get(ERRORS, ("", []))
    if problems:
        st.error(
            f"`{name}` was not loaded; the current settings are unchanged.\n\n"
            + session.problems_markdown(problems)
        )
    elif name:
        st.success(f"Loaded `{name}`: every control now starts from it.")


def render() -> None:
    session.prepare()
    st.title("Scenario")
    _upload()
    sc, problems = session.current()
    st.subheader("The current settings")
    if sc is None:
        st.error("The settings do not validate:\n\n" + controls.problems_markdown(problems))
        return
    text = sim.dumps_scenario(sc)
    st.caption(
        f"{sc.name}: every setting, [run] included. `repsim run` accepts this file as is; "
        "uploading it here restores the same view."
    )
    st.download_button(
        "Download scenario TOML",
        data=lambda: text,
        file_name="scenario.toml",
        mime="application/toml",
        key="scenario-toml",
        on_click="ignore",
    )
    st.code(text, language="toml")


render()
