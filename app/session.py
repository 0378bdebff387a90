"""Streamlit wiring: settings from the URL or the command line, sidebar widgets, cached runs."""

from __future__ import annotations

import functools
import gc
import math
import re
import sys
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

import sim
from app import controls, dispute_query, prefetch, results, runner
from app.controls import BY_KEY, CONTROLS, PRESETS, SECTIONS, Base, Control

__all__ = [
    "current",
    "freeze_startup_objects",
    "init",
    "prepare",
    "problems_markdown",
    "pull_widgets",
    "replace_base",
    "sidebar",
    "sync_url",
    "view_for",
]

FIGURES = "repsim-figures"  # the Compare page's fragment: what a control's change reruns
KEY = "repsim"  # session_state: {"base": Base, "overrides": {key: value}, "notices": [...]}
W = "w:"  # prefix of widget keys; the rest is the control's key
PRESET = "w:preset"
LAST_STEP = "repsim-last-step"  # session_state: (key, before, after) of the last control changed
SEEN = "repsim-seen"  # session_state: the TOML of the last SEEN_KEPT runs shown
SEEN_KEPT = 24  # as many as the server's cache of views holds (`_cached_view`)
UPLOADED = "(uploaded scenario)"
MAX_UPLOAD = 256 * 1024  # bytes; scenario files are a few KB
ADVANCED = ("Advanced: hiring model", "Advanced: market and feedback")


@functools.cache  # once per server process: main.py runs again on every rerun
def freeze_startup_objects() -> None:
    """Leave the ~170,000 objects that imports created out of later garbage collections.

    A full collection over them takes ~100 ms with the GIL held, at a moment the allocator picks:
    in the middle of a redraw. They live as long as the server does anyway. (Not guarded by
    gc.get_freeze_count(): that walks the frozen objects, ~15 ms a call.)
    """
    gc.freeze()


# -- settings -----------------------------------------------------------------------------


def start_base(argv: list[str]) -> tuple[Base, list[str]]:
    """The command line's scenario (`streamlit run app/main.py -- FILE`), else the reference."""
    paths = [a for a in argv if a.endswith(".toml")]
    if not paths:
        return Base(), []
    try:
        return controls.base_from_path(paths[0]), []
    except (OSError, sim.ScenarioError) as e:
        return Base(), [f"`{paths[0]}` could not be used ({e}); showing the reference case."]


def init(argv: list[str]) -> None:
    """Settings for a new session: the URL's if it has any, else the command line's."""
    if KEY in st.session_state:
        return
    params = st.query_params.to_dict()
    disputed, problems = dispute_query.decode(params)  # the Dispute page's own inputs
    params = {k: v for k, v in params.items() if k not in dispute_query.PARAMS}
    base, notices = start_base(argv)
    overrides: dict[str, Any] = {}
    if params.keys() & ({"preset", "scenario"} | {c.key for c in CONTROLS}):
        from_url, overrides, found = controls.decode_query(params)
        if params.keys() & {"preset", "scenario"}:  # else: the command line's, changed by the URL
            base, notices = from_url, []
        problems = found + problems
    # the key and the problem may quote the address: shown as text, never as markdown
    notices += [f"URL parameter `{k.replace('`', '')}` ignored: {plain(m)}" for k, m in problems]
    st.session_state[KEY] = {"base": base, "overrides": overrides, "notices": notices}
    if disputed:
        st.session_state[dispute_query.STORE] = disputed


def script_args() -> list[str]:
    """Arguments after `--` under `streamlit run app/main.py` (or serve.py); none otherwise."""
    return sys.argv[1:] if Path(sys.argv[0]).name in ("main.py", "serve.py") else []


def prepare(argv: list[str] | None = None) -> None:
    """Settings in place, widget changes taken in, the URL up to date: every page calls this.

    main.py calls it too; a page calls it again so that it stands alone (AppTest may run it).
    """
    init(script_args() if argv is None else argv)
    pull_widgets()
    from app import history_editor  # it reads this module's settings

    history_editor.pull()
    sync_url()


def state() -> dict[str, Any]:
    return st.session_state[KEY]


def base_scenario() -> sim.Scenario:
    return _base_scenario(state()["base"])


@functools.lru_cache(maxsize=16)
def _base_scenario(base: Base) -> sim.Scenario:
    return base.scenario()


def base_defaults() -> dict[str, Any]:
    return controls.defaults(base_scenario())


def pull_widgets() -> None:
    """Copy the values of widgets changed in the browser into the settings."""
    d, overrides = base_defaults(), state()["overrides"]
    for c in CONTROLS:
        key = W + c.key
        if key not in st.session_state:
            continue
        value = controls.norm(st.session_state[key], c)
        if value == d.get(c.key):
            overrides.pop(c.key, None)
        else:
            overrides[c.key] = value


def sync_url() -> None:
    """Mirror the settings in the query string, so the address shares the same scenario (and
    the Dispute page's inputs, where they differ from its defaults)."""
    params = controls.encode_query(state()["base"], state()["overrides"])
    params.update(dispute_query.encode(st.session_state.get(dispute_query.STORE, {})))
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)


def _clear_widgets() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(W)]:
        if key != PRESET:
            del st.session_state[key]


def replace_base(base: Base) -> None:
    """Start over from another scenario: its own values in every control."""
    state().update(base=base, overrides={})
    _clear_widgets()


def _on_preset() -> None:
    choice = st.session_state[PRESET]
    if choice != UPLOADED:
        replace_base(Base(preset=choice))


def _on_reset() -> None:
    replace_base(state()["base"])


def current() -> tuple[sim.Scenario | None, list[tuple[str, str, str]]]:
    """The scenario the settings describe, or the problems that keep it from validating."""
    try:
        # as run today unless it has its own `today`: the files it saves carry the day
        return sim.with_today(controls.build_scenario(base_scenario(), state()["overrides"])), []
    except sim.ScenarioError as e:
        return None, e.problems


# the characters that can start a link, an image, an autolink, HTML, LaTeX, a colour or a
# Material icon in Streamlit's markdown; "www." would be autolinked, so its dot is escaped too
_ACTIVE = re.compile(r"([\\`*\[\]()<>!$~|:{}#@])|(?<=www)(\.)", re.IGNORECASE)


def plain(text: str) -> str:
    """Untrusted text (a scenario's name or description, a key from a file) for st.markdown, shown
    as typed: no link, image, autolink, HTML, colour or LaTeX can come of it."""
    return _ACTIVE.sub(lambda m: "\\" + m.group(0), text)


def problems_markdown(problems: list[tuple[str, str, str]]) -> str:
    """One bullet per problem: the dotted key, then what is wrong (both shown as plain text)."""
    return "\n".join(
        f"- `{(key or 'scenario').replace('`', '')}`: {plain(message)}"
        for _, key, message in problems
    )


# -- the cached run ----------------------------------------------------------------------


def view_for(toml: str) -> results.View:
    """The run of a scenario, within the session budget (`runner.budget_problems`): a scenario
    over it, from any source, raises `sim.ScenarioError` naming the key, before anything runs."""
    problems = runner.budget_problems(sim.loads_scenario(toml, "settings"))
    if problems:
        raise sim.ScenarioError(problems)
    view = _cached_view(toml)
    shown = st.session_state.setdefault(SEEN, [])  # for step_ahead: not simulated again
    if toml not in shown:
        shown.append(toml)
        del shown[:-SEEN_KEPT]
    return view


# A View holds no per-path arrays: at most 12 arms x 6 metrics x 520 weeks of bands (and the
# chart specs built from them), a few MB, and its TOML is at most controls.MAX_PACKED; so this
# cache is bounded in bytes as well as entries (about 24 x 5 MB at the very worst).
@st.cache_data(max_entries=SEEN_KEPT, show_spinner=False)
def _cached_view(toml: str) -> results.View:
    """One run per distinct scenario: keyed on the canonical TOML, so equal settings share it;
    settings simulated ahead (app/prefetch.py) are taken from there."""
    view = prefetch.take(toml)
    return view if view is not None else results.compute_view(toml)


# -- sidebar ------------------------------------------------------------------------------


def _preset_label(stem: str) -> str:
    if stem == UPLOADED:
        return stem
    return _preset_names().get(stem, stem)


@functools.lru_cache(maxsize=1)
def _preset_names() -> dict[str, str]:
    return {stem: sim.load_scenario(path).name for stem, path in PRESETS.items()}


def _seed(c: Control, value: Any, options: tuple[Any, ...]) -> None:
    """Give a widget its value from the settings the first time it is drawn."""
    key = W + c.key
    if key in st.session_state:
        return
    if c.kind == "multiselect":
        value = [v for v in value if v in options]
    st.session_state[key] = value


def _bounds(c: Control, value: Any) -> tuple[Any, Any]:
    """The control's range, widened to hold a value a scenario file may carry."""
    lo, hi = c.lo, c.hi
    if isinstance(value, int | float):
        lo, hi = min(lo, value), max(hi, value)
    cast = int if c.integer else float
    return cast(lo), cast(hi)


def big_run(sc: sim.Scenario | None) -> bool:
    """A run shown with progress and Cancel (app/long_runs.py): the page runs it whole, not in
    its figures' fragment, since a click inside a fragment (Cancel) does not stop a script run."""
    return sc is not None and runner.cells(sc) > runner.BIG_CELLS


def _changed(key: str) -> None:
    """A control changed: rerun only the page's figures, not the sidebar that holds it (its
    widgets are as the browser shows them already); the whole page for a big run, or when the
    last run drew no figures' fragment."""
    before = state()["overrides"].get(key, base_defaults().get(key))
    pull_widgets()
    after = state()["overrides"].get(key, base_defaults().get(key))
    st.session_state[LAST_STEP] = (key, before, after)
    if big_run(current()[0]):
        return
    try:
        st.rerun(FIGURES)
    except StreamlitAPIException:  # no such fragment on the page now
        return


def step_ahead() -> None:
    """After a numeric control's change, simulate ahead (app/prefetch.py) the settings one notch
    further in the same direction, then one notch back (unless it came from there): where a
    person stepping it goes next."""
    last = st.session_state.pop(LAST_STEP, None)  # once per change
    if last is None or not prefetch.enabled():
        return
    key, before, after = last
    c = BY_KEY[key]
    if c.step is None or not _numbers(before, after) or before == after:
        return
    lo, hi = _bounds(c, after)
    sign = 1 if after > before else -1
    tomls = []
    for value in (after + sign * c.step, after - sign * c.step):
        # one notch back is where it came from after a one-notch step: cached already
        if lo <= value <= hi and not math.isclose(value, before):
            toml = _settings_toml({**state()["overrides"], key: controls.norm(value, c)})
            if toml is not None and toml not in st.session_state.get(SEEN, ()):
                tomls.append(toml)
    prefetch.ahead(tomls)


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _settings_toml(overrides: dict[str, Any]) -> str | None:
    """The canonical TOML the page would run for these overrides (as `current` builds it), if
    they make a scenario small enough to simulate ahead."""
    d = base_defaults()
    overrides = {k: v for k, v in overrides.items() if v != d.get(k)}
    try:
        sc = sim.with_today(controls.build_scenario(base_scenario(), overrides))
    except sim.ScenarioError:
        return None
    return sim.dumps_scenario(sc) if prefetch.wanted(sc) else None


def _widget(c: Control, value: Any, options: tuple[Any, ...]) -> None:
    _seed(c, value, options)
    key, label, help_ = W + c.key, c.label, c.help
    on = {"on_change": _changed, "args": (c.key,)}
    if c.kind == "multiselect":
        st.multiselect(label, options, key=key, help=help_, **on)
    elif c.kind == "select":
        st.selectbox(label, c.options, key=key, help=help_, **on)
    elif c.kind == "radio":
        st.radio(label, c.options, key=key, help=help_, horizontal=True, **on)
    else:
        lo, hi = _bounds(c, value)
        step = int(c.step) if c.integer else float(c.step)
        if c.kind == "slider":
            st.slider(label, min_value=lo, max_value=hi, step=step, key=key, help=help_, **on)
        else:
            # "%g" shows 0.136 as 0.136 where Streamlit's default "%0.2f" would show 0.14
            fmt = c.fmt or (None if c.integer else "%g")
            st.number_input(
                label, min_value=lo, max_value=hi, step=step, key=key, help=help_, format=fmt, **on
            )


def _preset_picker() -> None:
    base = state()["base"]
    options = [*PRESETS, *([UPLOADED] if base.toml is not None else [])]
    st.session_state[PRESET] = base.preset if base.toml is None else UPLOADED
    st.selectbox(
        "Preset",
        options,
        key=PRESET,
        format_func=_preset_label,
        on_change=_on_preset,
        help="A ready-made question from scenarios/; changing it resets every control to the "
        "preset's values. Upload your own on the Scenario page.",
    )


def sidebar() -> None:
    """Every control, grouped by section, each seeded from the settings."""
    sc = base_scenario()
    d = base_defaults()
    values = {**d, **state()["overrides"]}
    arms = controls.arm_options(sc)
    with st.sidebar:
        _preset_picker()
        if sc.description:
            st.caption(plain(sc.description))
        for section in SECTIONS:
            if section == controls.DISPUTE:  # her contracts: one table (app/history_editor.py)
                from app import history_editor

                st.subheader(section)
                history_editor.render("sidebar")
                continue
            shown = [c for c in CONTROLS if c.section == section and _applies(c, d)]
            box = st.expander(section) if section in ADVANCED else st.container()
            with box:
                if section not in ADVANCED:
                    st.subheader(section)
                for c in shown:
                    _widget(c, values[c.key], arms if c.kind == "multiselect" else c.options)
        st.button("Reset to the preset's values", on_click=_on_reset, key="reset")


def _applies(c: Control, d: dict[str, Any]) -> bool:
    """Controls of the disputed contract need one (a scenario may have none); a browser widget
    cannot hold a seed beyond 2**53 (the file keeps it)."""
    value = d.get(c.key)
    if isinstance(value, int) and abs(value) > controls.JS_MAX_INT:
        return False
    return c.optional or value is not None


def notices() -> list[str]:
    """Messages for the user about the URL or the command line, shown once."""
    out = state()["notices"]
    state()["notices"] = []
    return out


def uploaded_base(name: str, data: bytes) -> tuple[Base | None, list[tuple[str, str, str]]]:
    """A base scenario from an upload, or the problems by dotted key (nothing changes then)."""
    if Path(name).suffix.lower() != ".toml":
        return None, [(name, "", "only TOML scenario files (.toml) can be uploaded")]
    if len(data) > MAX_UPLOAD:
        size = f"{len(data) / 1024:.0f} KB"
        return None, [(name, "", f"{size} is over the {MAX_UPLOAD // 1024} KB limit")]
    try:
        sc = sim.loads_scenario(data, name)
    except sim.ScenarioError as e:
        return None, e.problems
    return Base(preset=None, toml=sim.dumps_scenario(sc)), []
