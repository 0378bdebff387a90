"""Dashboard tests through Streamlit's AppTest, plus its pure pieces: controls, URL, calculator."""

from __future__ import annotations

import datetime
import json
import math
import re
import tomllib

import numpy as np
import pytest
import streamlit as st
from helpers import REFERENCE, ROOT, reference_data
from streamlit.testing.v1 import AppTest

import sim
from app import (
    calculator,
    charts,
    controls,
    dates,
    history_editor,
    history_table,
    results,
    runner,
    session,
)
from app.controls import CONTROLS, Base
from app.docs import markdown_money
from app.export import chart_bytes

MAIN = str(ROOT / "app" / "main.py")
PAGES = (
    "views/compare.py",
    "views/calculator.py",
    "views/dispute.py",
    "views/scenario.py",
    "views/about.py",
)
SMALL = {"run.paths": "300", "run.weeks": "30"}  # the point here is the wiring, not the figures


def app(**params: str) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    for key, value in {**SMALL, **params}.items():
        at.query_params[key] = value
    return at.run()


def widget(at: AppTest, key: str):
    """The sidebar widget of a control, whatever its kind. A control's change reruns only the
    page's figures (session.FIGURES), after which AppTest's tree holds no sidebar (a browser
    keeps it): a full run draws it again."""
    for attempt in range(2):
        for finder in (at.slider, at.number_input, at.multiselect, at.radio, at.selectbox):
            try:
                return finder(key=session.W + key)
            except KeyError:
                continue
        if attempt == 0 and not at.sidebar:
            at.run()
    raise KeyError(key)


def scenario_on_page(at: AppTest) -> sim.Scenario:
    """The TOML the Scenario page offers for download, read back."""
    at.switch_page("views/scenario.py").run()
    assert not at.exception
    return sim.loads_scenario(at.code[0].value, "page")


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def edit_history(at: AppTest, edits: dict) -> AppTest:
    """Type into the table of contracts as the browser does: its widget's edits (Streamlit's
    form: edited_rows by row, added_rows, deleted_rows), then a rerun."""
    key = at.session_state[history_editor.STATE]["mounted"]
    at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **edits}
    return at.run()


# -- pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(page: str) -> None:
    at = app()
    at.switch_page(page).run()
    assert not at.exception
    assert not at.error
    assert at.title


def test_compare_shows_the_headline_figures() -> None:
    at = app()
    assert not at.exception
    metrics = [(m.label, m.value) for m in at.metric]
    labels = [label for label, _ in metrics]
    for label in ("Stars now", "Job Success Score now", "Chance one proposal wins"):
        assert labels.count(label) == 2  # one per arm
    for label in ("Jobs by week 30", "Net earnings by week 30", results.RECOVERY_LABEL):
        assert label in labels
    stars = [value for label, value in metrics if label == "Stars now"]
    assert stars == ["4.20", "5.00"]  # the reference case: (5.0, 3.4) kept, 5.0 excluded
    # MODEL.md: 6 more for a 4.8 mean; one contract every 4 weeks puts the sixth in week 24
    assert ("5-star contracts to 4.8", "6") in metrics
    # with their dates: the page runs the scenario as of today (its `today` left empty)
    day = {w: dates.day(dates.on(datetime.date.today(), w)) for w in (24, 26)}
    expected = f"by week 24 ({day[24]}); to a 90% JSS: 6, by week 26 ({day[26]})"
    assert any(c.value.startswith(expected) for c in at.caption)
    assert any("Known limits" in i.value for i in at.info)


def test_about_page_states_the_limits() -> None:
    at = app()
    at.switch_page("views/about.py").run()
    text = " ".join(w.value for w in at.warning)
    assert "private" in text
    assert "not a prediction of one person's income" in text


def test_every_control_says_where_its_default_comes_from() -> None:
    for c in CONTROLS:
        text = c.help.lower()
        sourced = re.search(r"\[[plda]\b", text) is not None
        assert sourced or "not a model assumption" in text or "your case" in text, c.key


# -- widgets -> scenario -------------------------------------------------------------------


def test_widgets_map_to_the_right_scenario() -> None:
    at = app()
    edit_history(at, {"edited_rows": {1: {"availability": 2.0}, 0: {"value": 450.0}}})
    widget(at, "freelancer.hourly_rate").set_value(25.0)
    widget(at, "arms").set_value(["kept", "excluded", "whitby filter"])
    widget(at, "exclusion.delay").set_value(2)
    widget(at, "signals.shown").set_value("stars")
    widget(at, "hiring.b_stars").set_value(0.3)
    widget(at, "hiring.b_jss.1").set_value(-0.5)
    at.run()
    assert not at.exception and not at.error

    data = reference_data()
    data["run"].update(paths=300, weeks=30)
    data["history"][1]["criteria"]["availability"] = 2.0
    data["history"][0]["value"] = 450.0
    data["freelancer"]["hourly_rate"] = 25.0
    data["arms"][1]["delay_weeks"] = 2
    data["arms"].append({"name": "whitby filter", "rule": "whitby", "q": 0.01})
    data["signals"] = {"shown": "stars"}
    data["hiring"] = {"b_stars": 0.3, "b_jss": [0.0, -0.5, -0.6, -1.0]}
    data["uncertainty"] = {"on": True}  # the dashboard draws the assumptions by default
    assert scenario_on_page(at) == sim.with_today(sim.Scenario.model_validate(data))  # as run today


def with_uncertainty(sc: sim.Scenario) -> sim.Scenario:
    """The scenario as the dashboard runs it by default: assumption uncertainty on."""
    return sc.model_copy(update={"uncertainty": sc.uncertainty.model_copy(update={"on": True})})


def test_untouched_widgets_give_the_preset_itself() -> None:
    at = app(preset="support-queue-six-weeks")
    expected = sim.load_scenario(controls.PRESETS["support-queue-six-weeks"])
    expected = sim.with_today(with_uncertainty(sim.with_run(expected, paths=300, weeks=30)))
    assert scenario_on_page(at) == expected


def test_disputed_contract_and_earlier_stars_rebuild_the_history() -> None:
    sc = sim.load_scenario(REFERENCE)
    built = controls.build_scenario(sc, {"disputed.contract": 4, "earlier.stars": 4.5})
    assert [h.stars for h in built.history[:3]] == [4.5, 4.5, 4.5]
    assert built.history[3].flagged and built.history[3].criteria is not None
    ages = [h.ended_weeks_ago for h in built.history]
    assert ages == sorted(ages, reverse=True)  # still oldest first
    first = controls.build_scenario(sc, {"disputed.contract": 1})
    assert len(first.history) == 1 and first.history[0].flagged


def test_five_star_share_keeps_the_other_levels_in_proportion() -> None:
    sc = sim.load_scenario(REFERENCE)
    q = controls.build_scenario(sc, {"freelancer.five_star": 0.7}).freelancer.quality
    assert q[4] == 0.7 and math.isclose(sum(q), 1.0)
    assert math.isclose(q[2] / q[0], sc.freelancer.quality[2] / sc.freelancer.quality[0])


@pytest.mark.parametrize(
    ("key", "value", "dotted", "message"),
    [
        ("jss.fail_below", 4.8, "jss", "fail_below must not exceed success_at"),
        ("arms", [], "arms", "at least 1 item"),
    ],
)
def test_invalid_combination_names_the_dotted_key(key, value, dotted, message) -> None:
    at = app()
    widget(at, key).set_value(value)
    at.run()
    assert not at.exception
    assert f"`{dotted}`" in errors(at) and message in errors(at)
    assert f"**{controls.BY_KEY[key].label}**" in errors(at)  # the control, by its name
    assert not at.metric  # no figures from settings that do not validate


def test_jss_thresholds_are_named_and_in_sight() -> None:
    at = app()
    widget(at, "jss.fail_below").set_value(4.8).run()
    text = errors(at)
    for key in ("jss.fail_below", "jss.success_at"):  # both controls, by the names they show
        assert f"**{controls.BY_KEY[key].label}**" in text
        # not in a collapsed section: no expander of the sidebar holds it
        for expander in at.sidebar.expander:
            with pytest.raises(KeyError):
                expander.number_input(key=session.W + key)
        assert widget(at, key) is not None


def test_a_control_change_reruns_only_the_figures() -> None:
    """The sidebar is not drawn again (the browser shows it as it is); the figures, the charts
    and the address bar follow the change."""
    at = app()
    before = [m.value for m in at.metric]
    charts = [c.proto.spec for c in at.get("arrow_vega_lite_chart")]
    widget(at, "freelancer.hourly_rate").set_value(25.0).run()
    assert not at.exception
    assert not at.sidebar
    assert [m.value for m in at.metric] != before
    assert len(at.get("arrow_vega_lite_chart")) == len(charts)
    assert at.query_params["freelancer.hourly_rate"] == "25"
    assert widget(at, "freelancer.hourly_rate").value == 25.0  # a full run draws it as set


def test_a_change_to_a_big_run_reruns_the_whole_page(monkeypatch) -> None:
    """A big run shows Cancel, which must stop the script run: a click inside a fragment would
    not, so the page runs whole (the sidebar drawn again)."""
    at = app()
    monkeypatch.setattr(runner, "BIG_CELLS", 1000)  # this page's 300 x 30 x 2 is now big
    widget(at, "freelancer.hourly_rate").set_value(25.0).run()
    assert not at.exception
    assert at.sidebar  # a whole-page run
    assert at.query_params["freelancer.hourly_rate"] == "25"


def test_one_change_costs_one_run() -> None:
    st.cache_data.clear()
    at = app()
    runs = results.RUNS["count"]
    widget(at, "freelancer.hourly_rate").set_value(25.0).run()
    assert results.RUNS["count"] == runs + 1
    widget(at, "freelancer.hourly_rate").set_value(20.0).run()  # back to one already computed
    at.switch_page("views/about.py").run()
    at.switch_page("views/compare.py").run()
    assert results.RUNS["count"] == runs + 1
    assert not at.exception


# -- URL ------------------------------------------------------------------------------------


def test_url_holds_the_preset_and_only_the_changed_keys() -> None:
    at = app()
    assert dict(at.query_params) == {"preset": "second-job-retaliation", **SMALL}
    widget(at, "freelancer.hourly_rate").set_value(25.0).run()
    assert at.query_params["freelancer.hourly_rate"] == "25"


def test_url_restores_the_settings_and_figures() -> None:
    params = {
        "preset": "support-queue-six-weeks",
        "disputed.stars": "2.5",
        "market.competitors": "40",
    }
    first, second = app(**params), app(**params)
    # an earlier address's history control is read into the table of contracts
    assert "disputed.stars" not in first.query_params and "history" in first.query_params
    assert widget(first, "market.competitors").value == 40
    assert [(m.label, m.value) for m in first.metric] == [(m.label, m.value) for m in second.metric]
    on_page = scenario_on_page(first)
    assert on_page.market.competitors == 40 and on_page.history_stars()[-1] == 2.5


def test_bad_url_parameters_are_reported_and_ignored() -> None:
    at = app(**{"run.weeks": "many", "colour": "red"})
    text = " ".join(w.value for w in at.warning)
    assert "`run.weeks`" in text and "`colour`" in text
    assert not at.exception
    assert scenario_on_page(at).run.weeks == 104  # the preset's own horizon


def test_query_encoding_round_trips() -> None:
    base = Base(preset=None, toml=REFERENCE.read_text())
    rows = history_table.rows_from_history(sim.load_scenario(REFERENCE).history)
    rows[0].update(ended=datetime.date(2026, 10, 1), ended_weeks_ago=None, value=450.0)
    history = history_table.history_text(history_table.check_rows(rows)[0])
    overrides = {
        "history": history,
        "today": datetime.date(2026, 11, 29),
        "arms": ("kept", "whitby filter"),
        "run.paths": 500,
    }
    params = controls.encode_query(base, overrides)
    assert params["today"] == "2026-11-29" and "2026-10-01" not in params["history"]  # packed
    assert "preset" not in params and len(params["scenario"]) < len(REFERENCE.read_text())
    assert controls.decode_query(params) == (base, overrides, [])


def test_command_line_scenario_is_the_starting_point(tmp_path) -> None:
    assert session.start_base(["scenarios/support-queue-six-weeks.toml"]) == (
        Base(preset="support-queue-six-weeks"),
        [],
    )
    mine = tmp_path / "mine.toml"
    mine.write_text(REFERENCE.read_text().replace("Second-job retaliation", "Mine"))
    base, notes = session.start_base([str(mine)])
    assert base.scenario().name == "Mine" and not notes
    base, notes = session.start_base([str(tmp_path / "missing.toml")])
    assert base == Base() and "could not be used" in notes[0]


# -- upload -------------------------------------------------------------------------------


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.switch_page("views/scenario.py").run()
    at.file_uploader(key="upload").set_value((name, content, "application/toml"))
    return at.run()


def test_bad_upload_shows_its_errors_and_keeps_the_settings() -> None:
    at = app()
    widget(at, "freelancer.hourly_rate").set_value(25.0).run()
    bad = REFERENCE.read_text().replace("hourly_rate = 20.0", "hourly_rat = 20.0")
    bad = bad.replace("paths = 10000", "paths = -5")
    _upload(at, "bad.toml", bad.encode())
    assert not at.exception
    assert "`freelancer.hourly_rat`: unknown key" in errors(at)
    assert "`run.paths`" in errors(at)
    assert "unchanged" in errors(at)
    assert sim.loads_scenario(at.code[0].value).freelancer.hourly_rate == 25.0
    at.switch_page("views/compare.py").run()
    assert widget(at, "freelancer.hourly_rate").value == 25.0
    assert not at.error


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("big.toml", b"# " + b"x" * (256 * 1024), "over the 256 KB limit"),
        ("broken.toml", b"name = ", "not valid TOML"),
    ],
)
def test_unusable_uploads_are_refused(name: str, content: bytes, message: str) -> None:
    at = _upload(app(), name, content)
    assert message in errors(at) and not at.exception


def test_only_toml_files_are_accepted() -> None:
    # Streamlit's uploader filters by extension itself; this is the check behind it
    base, problems = session.uploaded_base("scenario.json", b"{}")
    assert base is None and "only TOML" in problems[0][2]


def test_the_address_reopens_an_upload() -> None:
    """After an upload, the URL holds it (and not the controls changed before it): opening that
    address in a new session shows the uploaded scenario."""
    text = REFERENCE.read_text().replace("hourly_rate = 20.0", "hourly_rate = 30.0")
    text = text.replace("paths = 10000", "paths = 300")
    at = app(**{"freelancer.capacity": "3"})
    _upload(at, "mine.toml", text.encode())
    params = dict(at.query_params)
    assert "scenario" in params and "preset" not in params and "freelancer.capacity" not in params
    again = AppTest.from_file(MAIN, default_timeout=60)
    for key, value in params.items():
        again.query_params[key] = value
    again.run()
    assert not again.exception
    assert widget(again, "freelancer.hourly_rate").value == 30.0
    assert widget(again, "freelancer.capacity").value == 2
    assert scenario_on_page(again) == sim.with_today(with_uncertainty(sim.loads_scenario(text)))


def test_good_upload_becomes_the_base() -> None:
    text = REFERENCE.read_text().replace("hourly_rate = 20.0", "hourly_rate = 30.0")
    text = text.replace("paths = 10000", "paths = 300")
    at = _upload(app(), "mine.toml", text.encode())
    assert not at.error and at.success
    at.switch_page("views/compare.py").run()
    assert widget(at, "freelancer.hourly_rate").value == 30.0
    assert at.selectbox(key=session.PRESET).value == session.UPLOADED
    assert "scenario" in at.query_params and "preset" not in at.query_params


# -- calculator and exports ---------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(controls.PRESETS))
def test_calculator_agrees_with_the_engine_today(preset: str) -> None:
    sc = sim.load_scenario(controls.PRESETS[preset])
    table = calculator.signals_today(sc).set_index("rule")
    arms = calculator.rules_for(sc)[:12]
    engine = sim.run(sim.validate_scenario({**sc.model_dump(), "arms": arms}), paths=1, weeks=1)
    for arm in engine.arms:
        row = table.loc[arm]
        stars, jss = engine.bands(arm, "stars")["q50"][0], engine.bands(arm, "jss")["q50"][0]
        assert (row["stars"] is None and math.isnan(stars)) or row["stars"] == stars, arm
        assert (math.isnan(jss) and pd_missing(row["JSS"])) or row["JSS"] == jss, arm
        assert row["win probability"] == pytest.approx(engine.bands(arm, "win_prob")["mean"][0])
        rising = engine.bands(arm, "rising_talent")["mean"][0] == 1
        assert (row["badge"] == "Rising Talent") == rising, arm


def pd_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def test_history_table_round_trips_and_reports_bad_rows() -> None:
    for path in (REFERENCE, REFERENCE.with_name("flagged-client-rule.toml")):
        sc = sim.load_scenario(path)
        entries, problems = history_table.check_rows(history_table.rows_from_history(sc.history))
        # the client's record travels with the row (issue 11, finding 8)
        assert not problems and sim.validate_scenario({**sc.model_dump(), "history": entries}) == sc
    rows = history_table.rows_from_history(sim.load_scenario(REFERENCE).history)
    rows[1]["skills"] = None  # five criteria of six
    _, problems = history_table.check_rows(rows)
    assert [(p.row, p.column) for p in problems] == [(2, "criteria")]
    assert "skills" in problems[0].message


def test_calculator_page_shows_every_rule() -> None:
    at = app()
    at.switch_page("views/calculator.py").run()
    assert not at.exception
    shown = at.dataframe[-1].value  # after the editable table of contracts
    assert {"kept", "excluded", "whitby filter", "last 104 weeks"} <= set(shown["rule"])


def test_exports_are_what_they_claim() -> None:
    sc = sim.with_run(sim.load_scenario(REFERENCE), paths=300, weeks=20)
    view = results.compute_view(sim.dumps_scenario(sc))
    assert chart_bytes(view.specs["stars"], "png").startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in chart_bytes(view.specs["stars"], "svg")[:200]
    html = chart_bytes(view.specs["earnings"], "html")
    assert b"cdn.jsdelivr" not in html  # self-contained: opens offline
    bands = view.bands_csv().decode().splitlines()
    assert bands[0] == "arm,metric,week,q05,q25,q50,q75,q95,mean"
    numbers = [c for line in bands[1:] for c in line.split(",")[2:] if c]
    assert all(c == format(float(c), ".10g") for c in numbers)  # 0, not 0.0; 10 digits at most
    assert json.loads(view.summary_json())["scenario_sha256"] == sc.sha256()
    assert sim.loads_scenario(view.scenario_toml().decode()) == sc  # what `repsim run` reads
    assert tomllib.loads(view.toml)["run"]["paths"] == 300


def test_dashboard_specs_draw_what_altair_draws() -> None:
    """The dashboard's fast path (cached templates, data frames) and Altair's own charts give the
    same SVG: what the screen shows, what an export holds and what `repsim run` writes agree."""
    sc = sim.load_scenario(ROOT / "scenarios" / "statistical-filters.toml")  # five arms
    result = sim.run(sc, paths=400, weeks=30)
    fast, altair = charts.build_specs(result), charts.build_charts(result)
    assert fast.keys() == altair.keys()
    for name in fast:
        assert chart_bytes(fast[name], "svg") == chart_bytes(altair[name], "svg"), name


def test_docs_keep_dollars_as_money_outside_code() -> None:
    text = "Costs $1,600 and `x = $y`, then\n```\nprice = $20\n```\nand $5."
    assert markdown_money(text) == (
        "Costs \\$1,600 and `x = $y`, then\n```\nprice = $20\n```\nand \\$5."
    )


def test_preset_picker_starts_over_from_the_preset() -> None:
    at = app()
    widget(at, "freelancer.hourly_rate").set_value(25.0).run()
    at.run()  # AppTest's tree has the sidebar again (the change reran only the figures)
    at.selectbox(key=session.PRESET).set_value("support-queue-six-weeks").run()
    assert not at.exception
    assert widget(at, "arms").value == ["kept", "excluded after 6 weeks", "excluded at once"]
    assert widget(at, "exclusion.delay").value == 6
    assert widget(at, "freelancer.hourly_rate").value == 20.0
    assert dict(at.query_params) == {"preset": "support-queue-six-weeks"}


def test_reset_restores_the_preset_values() -> None:
    at = app()
    widget(at, "freelancer.hourly_rate").set_value(25.0).run()
    at.run()  # AppTest's tree has the sidebar again (the change reran only the figures)
    at.button(key="reset").click().run()
    assert widget(at, "freelancer.hourly_rate").value == 20.0
    assert "freelancer.hourly_rate" not in at.query_params


def test_the_first_rule_picked_is_the_reference() -> None:
    at = app(arms="excluded,kept")
    assert not at.exception
    assert [a.name for a in scenario_on_page(at).arms] == ["excluded", "kept"]


# -- charts: colours by rule, small multiples, recovery per rule, sized to the column ----------

NINE = tuple(controls.CATALOG)  # every rule of the catalog: kept first


def nine_rules(paths: int = 300, weeks: int = 20) -> sim.Result:
    sc = sim.load_scenario(REFERENCE)
    data = controls.scenario_data(sc, {"arms": NINE})
    return sim.run(sim.validate_scenario(data), paths=paths, weeks=weeks)


def _colour_ranges(spec: dict) -> dict[str, str]:
    """Every (rule, colour) pair the colour scales of a Vega-Lite spec give, anywhere in it."""
    found: dict[str, str] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            scale = node.get("scale") if node.get("field") == "arm" else None
            if isinstance(scale, dict) and "range" in scale:
                for arm, colour in zip(scale["domain"], scale["range"], strict=True):
                    assert found.setdefault(arm, colour) == colour, arm  # one colour per rule
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found


def test_each_rule_has_its_own_colour_by_name_on_every_chart() -> None:
    result = nine_rules()
    specs = charts.build_specs(result)
    colours = charts.arm_colours(result.arms)
    assert len(set(colours.values())) == len(NINE)  # nine rules, nine colours
    for name, spec in specs.items():
        assert _colour_ranges(spec).items() <= colours.items(), name
    # by name, not by place: the same rules in another order keep their colours, and a rule
    # keeps its colour among other rules
    assert charts.arm_colours(tuple(reversed(NINE))) == colours
    assert charts.arm_colours(("excluded", "beta reputation")) == {
        "excluded": colours["excluded"],
        "beta reputation": colours["beta reputation"],
    }
    # names outside the catalog, or two names for one rule, still get distinct colours
    mixed = ("kept", "excluded", "excluded at once", "my rule", "my other rule")
    assert len(set(charts.arm_colours(mixed).values())) == len(mixed)


def test_more_than_three_rules_draw_one_panel_per_rule() -> None:
    result = nine_rules()
    specs = charts.build_specs(result)
    for name in ("stars", "jss", "win_prob", "earnings", "recovery"):
        panels = charts.screen_panels(specs[name])
        assert len(panels) == len(NINE) - 1, name  # each rule against kept
        for rule, views in zip(NINE[1:], panels, strict=True):
            shown = {a for v in views for d in v["datasets"].values() for a in d["arm"]}
            expected = {rule} if name == "recovery" else {"kept", rule}
            assert shown == expected, (name, rule)
    legend = _colour_ranges(specs["ratings_needed"])  # one chart: every rule in its legend
    assert set(legend) == set(NINE)
    spec = specs["ratings_needed"]
    assert spec["config"]["legend"]["labelLimit"] == 0 and spec["config"]["legend"]["columns"]


def test_recovery_is_drawn_per_rule_and_sums_to_one() -> None:
    result = nine_rules(weeks=30)
    frame = charts.recovery_frame(result)
    for arm in NINE[1:]:
        rows = frame[frame["arm"] == arm]
        assert rows["share"].sum() == pytest.approx(1.0)
        never = rows[rows["weeks"] == "never"]["share"].sum()
        assert never == pytest.approx(float(np.mean(result.weeks_to_recover(arm) < 0)))
    spec = charts.build_specs(result)["recovery"]
    for views in charts.screen_panels(spec):
        (view,) = views
        assert view["encoding"]["y"].get("stack", "none") is None  # bars from zero, never stacked


def test_charts_on_screen_take_their_column_width() -> None:
    specs = charts.build_specs(nine_rules())
    for name, spec in specs.items():
        for views in charts.screen_panels(spec):
            for view in views:
                assert view["width"] == "container", name
                assert view["autosize"]["type"] == "fit-x", name
                assert not any(k in view for k in charts.COMPOSITE), name


# -- recovery in words --------------------------------------------------------------------------


def words(median, never, weeks=104) -> results.RecoveryWords:
    rec = {"median": median, "share_not_recovered": never}
    return results.recovery_words(rec, weeks, "kept", "beta reputation")


def test_a_rule_with_no_shortfall_says_so_in_words() -> None:
    w = words(0, 0.14)  # the beta reputation: most futures never fall short
    assert w.value == "no shortfall"
    assert w.note.startswith("in most futures; in 14% of futures it falls below 95%")
    assert w.note.endswith("is not back within 104 weeks")
    assert "never falls below 95%" in w.clause and "in 14% it does" in w.clause
    for text in (w.value, w.note, w.clause):
        assert not re.search(r"\b0 weeks\b|take 0|week 0\b", text)
    none = words(0, 0.0)
    assert none.value == "no shortfall" and "in no future" in none.note
    assert "nothing to recover" in none.clause


def test_the_comparison_sentence_follows_the_figures() -> None:
    def summary(jobs: float, money: float, median, never: float) -> dict:
        rec = {"median": median, "share_not_recovered": never}
        diff = {"jobs": {"mean": jobs}, "earnings": {"mean": money}, "weeks_to_recover": rec}
        return {"reference": "kept", "weeks": 104, "differences": {"beta reputation": diff}}

    text = results.comparison_sentence(summary(-2.6, -3022.4, 0, 0.14), "beta reputation")
    assert text.startswith("With **beta reputation** instead of **kept**, the freelancer has ")
    assert "2.6 fewer jobs and \\$3,022 less in net earnings by week 104" in text
    assert "never falls below 95% of beta reputation's; in 14% it does" in text
    same = results.comparison_sentence(summary(-0.04, -0.3, 0, 0.0), "beta reputation")
    assert "as many jobs and the same net earnings" in same and "fewer" not in same
    assert "nothing to recover" in same
    assert results._num(-0.04, "+.1f") == "+0.0" and results._money(-0.3) == "+$0"


def test_recovery_words_follow_the_figures() -> None:
    late = words(76, 0.32)
    assert late.value == "76 weeks" and late.note == "32% of futures are not back within 104 weeks"
    assert "by week 76" in late.clause and "in 32% of futures it is not back" in late.clause
    assert words(1, 0.0).value == "1 week"
    assert "every future is back" in words(5, 0.0).clause
    most = words(None, 0.71)
    assert most.value == "> 104 weeks" and "71% of futures" in most.note
    assert words(None, 0.999).note.startswith("over 99%")  # never "100%" unless all
    assert words(3, 0.001).note.startswith("under 1%")  # never "0%" for a few futures


def test_recovery_words_use_a_lasting_figure_when_the_summary_has_one() -> None:
    # Result.summary()'s form: the lasting figure, and the first week back under "first"
    rec = {
        "median": 60,
        "share_not_recovered": 0.3,
        "first": {"median": 20, "share_not_recovered": 0.1},
    }
    w = results.recovery_words(rec, 104, "kept", "excluded")
    assert w.value == "60 weeks"  # the headline follows the lasting figure
    assert (
        w.note
        == "30% of futures are not back for good within 104 weeks; first back by week 20 (median)"
    )
    assert "back for good to 95% of excluded's" in w.clause and "by week 60" in w.clause


def test_the_compare_page_tells_recovery_as_the_figures_do() -> None:
    at = app(arms="kept,beta reputation")
    assert not at.exception
    figures = dict((m.label, m.value) for m in at.metric)
    text = " ".join(m.value for m in at.markdown)
    rec = results.recovery_words(
        sim.run(scenario_on_page(at)).summary()["differences"]["beta reputation"][
            "weeks_to_recover"
        ],
        30,
        "kept",
        "beta reputation",
    )
    assert figures[results.RECOVERY_LABEL] == rec.value
    assert rec.clause in text


def test_each_view_on_screen_carries_only_the_data_it_draws() -> None:
    """The browser updates every dataset a view carries on a redraw: one it does not draw is an
    error ("Unrecognized data set")."""
    for result in (nine_rules(), sim.run(sim.load_scenario(REFERENCE), paths=300, weeks=20)):
        for name, spec in charts.build_specs(result).items():
            for views in charts.screen_panels(spec):
                for view in views:
                    drawing = {k: v for k, v in view.items() if k != "datasets"}
                    drawn = set(re.findall(r"'data': \{'name': '(\w+)'", str(drawing)))
                    assert drawn and set(view["datasets"]) == drawn, name


def test_dispute_sentence_gives_range_ends_to_two_significant_figures() -> None:
    """Both ranges in the Dispute page's sentence are rounded alike (two significant figures)."""
    at = app()
    at.switch_page("views/dispute.py").run()
    text = next(m.value for m in at.markdown if "reporting the feedback is worth" in m.value)
    ends = re.findall(r"between -?\\?\$([\d,]+) and -?\\?\$([\d,]+)", text)
    assert len(ends) >= 2, text
    for pair in ends:
        for end in pair:
            digits = end.replace(",", "").lstrip("0")
            assert len(digits.rstrip("0")) <= 2, (end, text)


def test_recovery_words_state_the_range_over_assumptions_only_when_they_were_drawn() -> None:
    rec = {"median": None, "share_not_recovered": 0.75, "first": {"median": 93.0}}
    fixed = results.recovery_words({**rec, "assumptions90": None}, 104, "kept", "excluded")
    assert "assumptions" not in fixed.note + fixed.clause
    drawn = {**rec, "assumptions90": {"median": [None, None], "share_not_recovered": [0.55, 0.92]}}
    words = results.recovery_words(drawn, 104, "kept", "excluded")
    for text in (words.note, words.clause):
        assert "between 55% and 92% of futures are not back for good within 104 weeks" in text
    back = {
        **rec,
        "median": 40.0,
        "assumptions90": {"median": [12.0, None], "share_not_recovered": [0.1, 0.6]},
    }
    words = results.recovery_words(back, 104, "kept", "excluded")
    assert (
        "back for good by week 12 at best and are not back for good within 104 weeks at worst"
        in words.note
    )
