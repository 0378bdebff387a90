"""Policy lab page: which rule protects honest freelancers without hiding honest signal."""

from __future__ import annotations

import dataclasses
import functools
import html
import re

import streamlit as st

import sim
from app import policy_lab, runner, session
from app.export_row import export_row
from app.frontier_chart import (
    frontier_chart,
    not_plotted,
    screen_spec,
    series_colours,
    series_name,
)
from app.policy_command import policy_csv
from app.policy_lab import KNOBS, PRESETS, RULES, RULES_HELP, LabSettings
from sim.policy_types import RuleMeasures

STATE = "policy-lab"  # session_state: {"settings": LabSettings, "notices": [...]}
W = "lab:"  # widget keys: the rest is the knob's key
PRESET = W + "preset"
RULES_KEY = W + "rules"


# -- settings ---------------------------------------------------------------------------------


def _state() -> dict:
    if STATE not in st.session_state:
        settings, problems = policy_lab.decode_query(st.query_params.to_dict())
        notices = [f"Address parameter `{k}` ignored: {m}" for k, m in problems]
        st.session_state[STATE] = {"settings": settings, "notices": notices}
    return st.session_state[STATE]


def _settings() -> LabSettings:
    return _state()["settings"]


def _clear_widgets() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(W)]:
        if key != PRESET:
            del st.session_state[key]


def _on_preset() -> None:
    _state()["settings"] = LabSettings(preset=st.session_state[PRESET])
    _clear_widgets()


def _on_reset() -> None:
    _state()["settings"] = LabSettings(preset=_settings().preset)
    _clear_widgets()


def _pull_widgets() -> None:
    """The values of widgets changed in the browser into the settings (only those that differ
    from the preset's are kept: the address holds just those)."""
    settings = _settings()
    base = policy_lab.defaults(settings.base())
    overrides = dict(settings.overrides)
    for knob in KNOBS:
        key = W + knob.key
        if key not in st.session_state:
            continue
        value = st.session_state[key]
        value = int(value) if knob.integer else float(f"{value:.10g}")
        if value == base.get(knob.key):
            overrides.pop(knob.key, None)
        else:
            overrides[knob.key] = value
    rules = settings.rules
    if RULES_KEY in st.session_state:
        chosen = st.session_state[RULES_KEY]
        rules = tuple(r for r in RULES if r in chosen)
    _state()["settings"] = dataclasses.replace(
        settings, overrides=tuple(sorted(overrides.items())), rules=rules
    )


def _sync_url() -> None:
    """The address holds the page's settings: copy it to share this view."""
    params = policy_lab.encode_query(_settings())
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)


def _sidebar(settings: LabSettings, sc: sim.Scenario) -> None:
    values = settings.values()
    with st.sidebar:
        st.session_state[PRESET] = settings.preset
        st.selectbox(
            "Question",
            list(PRESETS),
            key=PRESET,
            format_func=lambda stem: _preset_names()[stem],
            on_change=_on_preset,
            help="A ready-made question from scenarios/policy-*.toml; changing it resets every "
            "control to its values.",
        )
        st.subheader("Population")
        shown = {k.key for k in policy_lab.shown_knobs(sc)}
        for knob in KNOBS:
            if knob.key == policy_lab.QUEUE:
                continue
            if knob.key in shown:
                _slider(knob, values[knob.key])
        st.subheader("Rules")
        if RULES_KEY not in st.session_state:
            st.session_state[RULES_KEY] = list(settings.rules)
        st.multiselect("Rules swept along the frontier", list(RULES), key=RULES_KEY,
                       help=RULES_HELP)  # fmt: skip
        queue = policy_lab.BY_KEY[policy_lab.QUEUE]
        if queue.key in shown:
            _slider(queue, values[queue.key])
        st.button("Reset to the question's values", on_click=_on_reset, key=W + "reset")


def _slider(knob: policy_lab.Knob, value: float) -> None:
    key = W + knob.key
    if key not in st.session_state:
        st.session_state[key] = int(value) if knob.integer else float(value)
    cast = int if knob.integer else float
    st.slider(
        knob.label,
        min_value=cast(min(knob.lo, value)),
        max_value=cast(max(knob.hi, value)),
        step=cast(knob.step),
        # as many decimals as the step has: a 0.005 step shows 0.055, not 0.06
        format=None if knob.integer else f"%.{max(2, len(f'{knob.step:g}') - 2)}f",
        key=key,
        help=f"{knob.help} (scenario key `{knob.key}`)"
        if knob.key != policy_lab.POOR_SHARE
        else knob.help,
    )


@functools.lru_cache(maxsize=1)
def _preset_names() -> dict[str, str]:
    return {stem: sim.load_scenario(path).name for stem, path in PRESETS.items()}


# -- the run ----------------------------------------------------------------------------------


@st.cache_data(max_entries=16, show_spinner=False)
def _frontier(toml: str, rules: tuple[str, ...]) -> list[RuleMeasures]:
    """One frontier per scenario and choice of rules, on the dashboard's worker processes."""
    from sim.frontier import frontier

    sc = sim.loads_scenario(toml, "settings")
    settings = policy_lab.frontier_settings(rules)
    return runner.on_pool(lambda ex: frontier(sc, settings=settings, executor=ex))


def _problems_markdown(problems: list[tuple[str, str, str]]) -> str:
    lines = []
    for _, key, message in problems:
        knob = policy_lab.BY_KEY.get(key)
        where = f"**{knob.label}** (`{key}`)" if knob else f"`{key or 'scenario'}`"
        lines.append(f"- {where}: {session.plain(message)}")
    return "\n".join(lines)


# -- the page ---------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "policy"


def _exports(rows: list[RuleMeasures], chart, sc: sim.Scenario) -> None:
    stem = _slug(sc.name)
    csv = (functools.partial(policy_csv, rows), f"{stem}-policy.csv")
    export_row(chart, f"{stem}-frontier", "lab-export", csv)


def render() -> None:
    settings = _settings()
    _pull_widgets()
    settings = _settings()
    _sync_url()
    st.title("Policy lab")
    for note in _state()["notices"]:
        st.warning(note)
    _state()["notices"] = []
    base = settings.base()
    try:
        sc = policy_lab.build_scenario(base, dict(settings.overrides))
        problems: list[tuple[str, str, str]] = []
    except sim.ScenarioError as e:
        sc, problems = None, e.problems
    _sidebar(settings, base if sc is None else sc)
    st.markdown(
        "Which rule protects honest freelancers from unfair low ratings (a harsh client's, a "
        "coercive client's revenge) without hiding the honest low ratings that warn clients "
        "of genuinely poor work? Each rule is measured on the same simulated population."
    )
    if sc is None:
        st.error(
            "These settings do not make a valid scenario; change the control named below.\n\n"
            + _problems_markdown(problems)
        )
        return
    st.markdown(f"**{session.plain(sc.name)}.** {session.plain(sc.description)}")
    try:
        over = policy_lab.budget_problems(sc, settings.rules)
    except sim.ScenarioError as e:
        over = e.problems
    if over:
        st.error(_problems_markdown(over))
        return
    with st.spinner(
        f"Simulating {sc.run.paths:,} freelancers over {sc.run.weeks} weeks under every rule…"
    ):
        try:
            rows = _frontier(sim.dumps_scenario(sc), settings.rules)
        except (MemoryError, sim.ScenarioError, ValueError) as e:
            st.error(f"This population could not be simulated: {e}. Your settings are kept.")
            return
    st.markdown(policy_lab.lead_sentence(rows, sc))
    chart = frontier_chart(rows)
    left, right = st.columns([3, 2])
    with right:
        _own_rules(rows)
    with left, st.container(border=True):
        st.vega_lite_chart(
            spec=screen_spec(chart),
            width="stretch",
            theme=None,
            alt="Protection against signal lost",
        )
        for note in not_plotted(rows):
            st.caption(note)
        st.caption(
            "Dots: each rule at each setting, labelled with it, joined by a line; squares: the "
            "question's own rules; bars: 90% intervals; diamonds: keep (nothing hidden) and the "
            "oracle (exactly the unfair ratings hidden). Up and to the left is better: more "
            "unfair low ratings hidden, fewer fair ones."
        )
        _exports(rows, chart, sc)
    st.subheader("Every measure")
    st.dataframe(
        policy_lab.measures_table(rows),
        hide_index=True,
        width="stretch",
        column_config=_columns(),
    )
    st.caption(
        "Protection: the share of unfair low ratings (below the JSS's 4 stars) not counting at "
        "the horizon; signal lost: the same share of fair low ones; ranking: Spearman's rank "
        "correlation of the stars or JSS shown with true quality; victims' harm: what freelancers "
        "with an unfair low rating earn less than in the same futures without it; poor workers' "
        "gain: what genuinely poor workers earn more than under the oracle; hired quality: the "
        "mean true quality of those hired. 90%: intervals over blocks of 256 freelancers."
    )
    st.caption(
        f"{sc.run.paths:,} freelancers × {sc.run.weeks} weeks · seed {sc.run.seed} · "
        f"scenario sha256 `{sc.sha256()[:16]}` · the address bar holds these settings: copy it "
        "to share this view."
    )


def _own_rules(rows: list[RuleMeasures]) -> None:
    """The question's own rules, each in words beside a square of its chart colour."""
    own = [r for r in rows if r.parameter is None]
    colours = series_colours(rows)
    st.markdown("**The question's own rules**")
    for r in own:
        name = series_name(r)
        with st.container(border=True):
            st.markdown(
                f'<span style="color:{colours[name]}">■</span> **{html.escape(name)}**: '
                + html.escape(policy_lab.rule_words(r)).replace("$", "\\$"),
                unsafe_allow_html=True,
            )


def _columns() -> dict:
    money = st.column_config.NumberColumn(format="$%.0f")
    three = st.column_config.NumberColumn(format="%.3f")
    return {
        "rule": st.column_config.TextColumn(pinned=True),
        "ranking by stars": three,
        "ranking by JSS": three,
        "victims' harm ($)": money,
        "poor workers' gain ($)": money,
        "hired quality (stars)": three,
    }


render()
