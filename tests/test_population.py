"""A population in the engine (issue 16): its schema, known answers of the rules on it, and the
single case as a population of one type."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from helpers import REFERENCE, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.assumptions import POPULATION_ASSUMPTIONS, population_default
from sim.draws import chunk_draws
from sim.engine import signals_today, trajectories
from sim.plan import make_plan
from sim.policy import policy_run, policy_scenario
from sim.policy_types import ArmOutcome
from sim.population import PopulationClients, PopulationReports, WorkerType
from sim.population_engine import population_generator
from sim.scenario import estimate_memory_bytes

FIELDS = [f for f in ArmOutcome.__dataclass_fields__]
POPULATION_TOML = (ROOT / "tests" / "population-small.toml").read_text()


def population_scenario(
    arms: list[dict] | None = None, paths: int = 512, weeks: int = 52, **population
) -> sim.Scenario:
    data = tomllib.loads(POPULATION_TOML)
    data["run"].update(paths=paths, weeks=weeks)
    for section, values in population.items():
        data["population"].setdefault(section, {}).update(values)
    if arms is not None:
        data["arms"] = arms
    return sim.validate_scenario(data, "test")


def problems(data: dict) -> set[tuple[str, str]]:
    with pytest.raises(sim.ScenarioError) as e:
        sim.validate_scenario(data, "case.toml")
    assert {source for source, _, _ in e.value.problems} == {"case.toml"}
    return {(key, message) for _, key, message in e.value.problems}


# -- schema ------------------------------------------------------------------------------------
def test_the_population_file_reads_and_its_defaults_are_the_interface():
    sc = sim.loads_scenario(POPULATION_TOML, "population-small.toml")
    assert [t.name for t in sc.population.types] == ["ordinary", "poor"]
    assert sc.population.types[1].poor
    default = sim.validate_scenario({"population": {}})
    assert [t.share for t in default.population.types] == [0.85, 0.15]
    assert default.population.clients == PopulationClients()
    assert default.population.reports == PopulationReports()
    # a scenario without a population is unchanged: same hash as before the key existed
    assert "population" not in sim.dumps_scenario(sim.Scenario())
    assert sim.loads_scenario(sim.dumps_scenario(sc)) == sc


def test_population_mistakes_name_the_dotted_key():
    bad_shares = {
        "population": {
            "types": [
                {"name": "a", "share": 0.5, "quality": [0, 0, 0, 0, 1]},
                {"name": "a", "share": 0.3, "quality": [0, 0, 0, 0.5, 0.6]},
            ]
        }
    }
    found = problems(bad_shares)
    assert (
        "population.types[1].quality",
        "the five probabilities must sum to 1 (they sum to 1.1)",
    ) in found
    bad_shares["population"]["types"][1]["quality"] = [0, 0, 0, 0.5, 0.5]
    found = problems(bad_shares)
    assert found == {
        ("population.types", "the shares must sum to 1 (they sum to 0.8: a 0.5, a 0.3)")
    }
    bad_shares["population"]["types"][1]["share"] = 0.5
    assert problems(bad_shares) == {("population.types", "names must be unique (a repeated)")}
    found = problems(
        {
            "population": {
                "clients": {"retaliation_stars": 7, "coercive_share": 1.5, "nope": 1},
                "reports": {"upheld_fair": -0.1},
            }
        }
    )
    keys = {key for key, _ in found}
    assert keys == {
        "population.clients.retaliation_stars",
        "population.clients.coercive_share",
        "population.clients.nope",
        "population.reports.upheld_fair",
    }
    assert ("population.clients.nope", "unknown key") in found
    found = problems(
        {"arms": [{"name": "a", "rule": "keep"}, {"name": "b", "rule": "drop_below", "stars": 6}]}
    )
    assert {k for k, _ in found} == {"arms[1].stars"}


def test_every_population_assumption_has_a_range_holding_its_default():
    tagged = set()
    for section, model in (("clients", PopulationClients), ("reports", PopulationReports)):
        for name, field in model.model_fields.items():
            if re.match(r"\[A\]", field.description or ""):
                tagged.add(f"population.{section}.{name}")
    assert tagged == {a.key for a in POPULATION_ASSUMPTIONS}
    for a in POPULATION_ASSUMPTIONS:
        assert a.low <= population_default(a.key) <= a.high and a.reason, a.key
    assert WorkerType.model_fields["share"].description.startswith("[A]")


# -- known answers ---------------------------------------------------------------------------
ARMS = [
    {"name": "kept", "rule": "keep"},
    {"name": "reported", "rule": "exclude_flagged", "delay_weeks": 2},
    {"name": "drop4", "rule": "drop_below", "stars": 4.0},
    {"name": "oracle", "rule": "oracle"},
    {"name": "whitby", "rule": "whitby"},
    {"name": "last3", "rule": "window", "last_n": 3},
]


@pytest.fixture(scope="module")
def default_run():
    # fair lows reported often enough that report and review removes a few
    reports = {"fair": 0.5, "upheld_fair": 0.3}
    return policy_run(population_scenario(ARMS, paths=768, weeks=52, reports=reports))


def test_keep_stops_nothing_oracle_stops_every_unfair_low_drop_below_everything(default_run):
    out = default_run.outcomes
    kept, oracle, drop4 = out["kept"], out["oracle"], out["drop4"]
    assert kept.unfair_lows.sum() > 50 and kept.fair_lows.sum() > 50  # something to stop
    assert kept.unfair_stopped.sum() == 0 and kept.fair_stopped.sum() == 0
    assert np.array_equal(oracle.unfair_stopped, oracle.unfair_lows)
    assert oracle.fair_stopped.sum() == 0 and oracle.unfair_stop_weeks.sum() == 0
    assert np.array_equal(drop4.unfair_stopped, drop4.unfair_lows)
    assert np.array_equal(drop4.fair_stopped, drop4.fair_lows)
    # report and review: some of each, each after its queue of 2 weeks
    rep = out["reported"]
    assert 0 < rep.unfair_stopped.sum() < rep.unfair_lows.sum()
    assert 0 < rep.fair_stopped.sum() < rep.fair_lows.sum()
    assert rep.unfair_stop_weeks.sum() == 2 * rep.unfair_stopped.sum()
    weeks = default_run.scenario.run.weeks
    for o in out.values():
        assert np.all(o.unfair_stopped <= o.unfair_lows) and np.all(o.fair_stopped <= o.fair_lows)
        assert np.all(o.unfair_stop_weeks >= 0)
        assert np.all(o.unfair_stop_weeks <= o.unfair_stopped * (weeks - 1))
    # the last-n window pushes some lows out, some weeks after they arrived
    last3 = out["last3"]
    assert 0 < last3.unfair_stopped.sum() < last3.unfair_lows.sum()
    assert last3.unfair_stop_weeks.sum() > 0
    # no unfair rating under the victims' counterfactual, and removing them helps on average
    wu = out[default_run.without_unfair]
    assert wu.unfair_lows.sum() == 0
    assert wu.earnings.mean() > kept.earnings.mean()
    assert oracle.earnings.mean() > kept.earnings.mean()
    # the paths: types by their shares, poor workers of lower quality
    assert 0.08 < default_run.poor.mean() < 0.22
    assert (
        default_run.quality[default_run.poor].max() < default_run.quality[~default_run.poor].min()
    )


def test_the_oracle_after_its_delay():
    sc = population_scenario(
        [{"name": "kept", "rule": "keep"}, {"name": "late", "rule": "oracle", "delay_weeks": 3}],
        paths=512,
        weeks=30,
    )
    run = policy_run(sc)
    late = run.outcomes["late"]
    # all but those arriving in the last 3 weeks stopped, each 3 weeks after it arrived
    assert 0 < late.unfair_stopped.sum() < late.unfair_lows.sum()
    assert late.unfair_stop_weeks.sum() == 3 * late.unfair_stopped.sum()
    assert late.fair_stopped.sum() == 0


def test_with_no_unfair_clients_there_are_no_unfair_lows_and_without_unfair_is_keep():
    sc = population_scenario(ARMS[:4], paths=512, weeks=40, clients={"coercive_share": 0.0})
    sc = sc.model_copy(update={"market": sc.market.model_copy(update={"harsh_client_share": 0.0})})
    run = policy_run(sc)
    for o in run.outcomes.values():
        assert o.unfair_lows.sum() == 0
    kept, wu = run.outcomes["kept"], run.outcomes[run.without_unfair]
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(kept, f), getattr(wu, f), err_msg=f)
    np.testing.assert_array_equal(run.outcomes["oracle"].earnings, kept.earnings)


@pytest.mark.parametrize("harsh", [0.0, 0.02])
def test_a_population_of_one_type_is_the_single_engine(harsh):
    """One type of her quality, no coercive clients, no reports: every arm's earnings, jobs,
    stars and JSS per path are those of `sim.engine.trajectories` at the horizon (with the
    market's harsh clients too: they are the single case's own)."""
    base = sim.validate_scenario(
        {
            "run": {"paths": 512, "weeks": 40, "chunk_paths": 256},
            "market": {"harsh_client_share": harsh},
            "arms": [
                {"name": "kept", "rule": "keep"},
                {"name": "excluded", "rule": "exclude_flagged", "delay_weeks": 1},
                {"name": "whitby", "rule": "whitby"},
                {"name": "last5", "rule": "window", "last_n": 5},
            ],
            "history": [{"client": "A", "stars": 5, "value": 400, "ended_weeks_ago": 3}],
        }
    )
    population = {
        "types": [{"name": "her", "share": 1.0, "quality": list(base.freelancer.quality)}],
        "clients": {"coercive_share": 0.0},
        "reports": {"unfair": 0.0, "fair": 0.0},
    }
    sc = base.model_copy(
        update={"population": sim.validate_scenario({"population": population}).population}
    )
    single = trajectories(base)
    run = policy_run(sc)
    for arm in base.arm_names():
        o, s = run.outcomes[arm], single[arm]
        np.testing.assert_array_equal(o.earnings, s["earnings"][-1], err_msg=arm)
        np.testing.assert_array_equal(o.jobs, s["jobs"][-1], err_msg=arm)
        np.testing.assert_array_equal(o.stars, s["stars"][-1], err_msg=arm)
        np.testing.assert_array_equal(o.jss, s["jss"][-1], err_msg=arm)
    # and the single case given as no population at all
    run0 = policy_run(base)
    for arm in base.arm_names():
        np.testing.assert_array_equal(run0.outcomes[arm].earnings, single[arm]["earnings"][-1])


def test_sim_run_reads_a_population():
    """`sim.run` on a population scenario runs the same engine: its per-path horizon values are
    the policy run's."""
    sc = population_scenario(ARMS[:3], paths=512, weeks=20)
    result = sim.run(sc)
    run = policy_run(sc)
    for arm in ("kept", "reported", "drop4"):
        np.testing.assert_array_equal(result.final[arm]["earnings"], run.outcomes[arm].earnings)
        np.testing.assert_array_equal(result.final[arm]["jobs"], run.outcomes[arm].jobs)


def test_the_same_to_the_bit_whatever_the_executor_or_the_chunk():
    sc = population_scenario(ARMS, paths=700, weeks=20)
    calls = []
    one = policy_run(sc, chunk_paths=256, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(256, 700), (512, 700), (700, 700)]
    two = policy_run(sc, chunk_paths=512)
    with ProcessPoolExecutor(2) as pool:
        three = policy_run(sc, executor=pool)
    with pytest.raises(ValueError, match="chunk_paths: must be a positive multiple of 256"):
        policy_run(sc, chunk_paths=300)
    for other in (two, three):
        np.testing.assert_array_equal(one.kind, other.kind)
        for arm, o in one.outcomes.items():
            for f in FIELDS:
                np.testing.assert_array_equal(getattr(o, f), getattr(other.outcomes[arm], f))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rule=st.sampled_from(ARMS[1:]),
    coercive=st.floats(0.0, 0.3),
    report=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32),
)
def test_identical_arms_give_identical_outcomes(rule, coercive, report, seed):
    arms = [{"name": "kept", "rule": "keep"}, {**rule, "name": "one"}, {**rule, "name": "two"}]
    sc = population_scenario(
        arms,
        paths=256,
        weeks=16,
        clients={"coercive_share": coercive},
        reports={"unfair": report},
    )
    sc = sc.model_copy(update={"run": sc.run.model_copy(update={"seed": seed})})
    run = policy_run(sc)
    for f in FIELDS:
        np.testing.assert_array_equal(
            getattr(run.outcomes["one"], f), getattr(run.outcomes["two"], f), err_msg=f
        )


def test_tallies_agree_with_a_recount_of_every_contract():
    """A scalar recount: every contract each arm won (from `trajectories`' jobs by week), its
    rating decoded from the draws, and when the rule stops it counting (the oracle and report
    and review: their delay after it arrives; a last-weeks window: that many weeks after the
    contract ended, or on arrival when it arrives later), against the tallies."""
    weeks, paths = 30, 256
    arms = [
        {"name": "kept", "rule": "keep"},
        {"name": "late", "rule": "oracle", "delay_weeks": 3},
        {"name": "recent", "rule": "window", "last_weeks": 6},
        {"name": "reported", "rule": "exclude_flagged", "delay_weeks": 2},
        {"name": "at once", "rule": "exclude_flagged"},
    ]
    sc = population_scenario(
        arms, paths=paths, weeks=weeks, clients={"coercive_share": 0.2}, reports={"fair": 0.5}
    )
    run = policy_run(sc)
    traj = trajectories(sc)
    plan = make_plan(sc)
    d = chunk_draws(plan, 0, paths)
    d.ensure(plan.ordinals)
    horizon = weeks - 1
    for arm in arms:
        name = arm["name"]
        jobs = traj[name]["jobs"].astype(np.int64)  # (weeks, paths), cumulative
        path = np.repeat(np.arange(paths), jobs[-1])
        k = np.concatenate([np.arange(j) for j in jobs[-1]])
        start = np.array(
            [np.searchsorted(jobs[:, i], kk, side="right") for i, kk in zip(path, k, strict=True)]
        )
        pos = d.position(path, k)
        end = start + d.attr("duration", pos)
        arrival = end + d.attr("delay", pos)
        received = d.attr("left", pos) & (arrival <= horizon)
        low = received & (d.attr("stars", pos) < sc.jss.fail_below)
        unfair = d.attr("truth", pos) != 0
        if name == "kept":
            stop = np.full(path.size, np.inf)
        elif name == "late":
            stop = np.where(unfair, arrival + 3, np.inf)
        elif name == "recent":
            stop = np.maximum(arrival, end + 6)
        elif name == "reported":
            stop = np.where(d.attr("upheld", pos), arrival + 2, np.inf)
        else:
            stop = np.where(d.attr("upheld", pos), arrival, np.inf)
        stopped = low & (stop <= horizon)
        o = run.outcomes[name]
        for cls, lows, stops, weeks_field in (
            (unfair, o.unfair_lows, o.unfair_stopped, o.unfair_stop_weeks),
            (~unfair, o.fair_lows, o.fair_stopped, None),
        ):
            np.testing.assert_array_equal(lows, np.bincount(path[low & cls], minlength=paths))
            np.testing.assert_array_equal(
                stops, np.bincount(path[stopped & cls], minlength=paths), err_msg=name
            )
            if weeks_field is not None:
                expect = np.bincount(
                    path[stopped & cls], (stop - arrival)[stopped & cls], minlength=paths
                )
                np.testing.assert_array_equal(weeks_field, expect, err_msg=name)
        assert stopped.any() or name == "kept"


def test_each_path_takes_its_type_from_its_own_stream():
    """The type of path i is decided by the first uniform of its block's population stream,
    (spawn key (4, block)), by the cumulative shares."""
    sc = population_scenario(ARMS[:2], paths=600, weeks=2)
    run = policy_run(sc)
    u = np.concatenate([population_generator(sc.run.seed, b).random(256) for b in range(3)])
    expect = (u[:600] >= sc.population.types[0].share).astype(np.int64)
    np.testing.assert_array_equal(run.kind, expect)
    assert np.array_equal(run.poor, expect == 1)


def test_drop_below_refuses_history_below_it_today():
    sc = sim.load_scenario(REFERENCE)  # history: 5.0 and the 3.4
    arms = [{"name": "kept", "rule": "keep"}, {"name": "drop", "rule": "drop_below", "stars": 4}]
    kept, drop = signals_today(sc, [sim.validate_scenario({"arms": arms}).arms[i] for i in (0, 1)])
    assert drop.stars == 5.0 and kept.stars < 5.0
    assert list(drop.counted_stars) == [True, False]


def test_rules_that_cannot_act_within_the_horizon_are_keep_and_drop_below_shows_no_low():
    weeks = 20
    arms = [
        {"name": "kept", "rule": "keep"},
        {"name": "too_late", "rule": "oracle", "delay_weeks": weeks},
        {"name": "queue", "rule": "exclude_flagged", "delay_weeks": weeks},
        {"name": "drop4", "rule": "drop_below", "stars": 4.0},
    ]
    run = policy_run(population_scenario(arms, paths=512, weeks=weeks))
    kept = run.outcomes["kept"]
    for name in ("too_late", "queue"):
        for f in ("earnings", "jobs", "stars", "jss"):
            np.testing.assert_array_equal(getattr(run.outcomes[name], f), getattr(kept, f))
    drop4 = run.outcomes["drop4"]
    assert np.all(np.isnan(drop4.stars) | (drop4.stars >= 4.0))
    assert np.nanmin(kept.stars) < 4.0


def test_the_documented_population_is_the_default():
    text = (ROOT / "docs" / "model.md").read_text()
    example = re.search(r"```toml\n(\[population\].*?)```", text, re.S)
    assert example is not None
    sc = sim.loads_scenario(example[1], "docs/model.md")
    assert sc.population == sim.validate_scenario({"population": {}}).population
    assert sc.population == sim.loads_scenario(POPULATION_TOML).population


def test_whitby_stops_one_star_ratings_among_many_five_stars_after_they_counted():
    """Freelancers whose work always earns 5 stars, harsh clients taking 4 off: once about
    twenty 5-stars are counted, whitby's filter drops the 1-star level: the lows that came
    earlier had counted some weeks, the later ones none. No fair low exists."""
    data = tomllib.loads(POPULATION_TOML)
    data["run"].update(paths=256, weeks=104)
    data["population"]["types"] = [{"name": "fine", "share": 1.0, "quality": [0, 0, 0, 0, 1]}]
    data["population"]["clients"]["coercive_share"] = 0.0
    data["market"] = {"harsh_client_share": 0.05, "harsh_client_shift": 4}
    data["arms"] = [{"name": "kept", "rule": "keep"}, {"name": "whitby", "rule": "whitby"}]
    run = policy_run(sim.validate_scenario(data))
    kept, whitby = run.outcomes["kept"], run.outcomes["whitby"]
    assert kept.fair_lows.sum() == 0 and whitby.fair_lows.sum() == 0
    assert 0 < whitby.unfair_stopped.sum() <= whitby.unfair_lows.sum()
    # early lows counted until enough 5-stars came; later ones were filtered on arrival (0)
    weeks = whitby.unfair_stop_weeks[whitby.unfair_stopped > 0]
    assert (weeks > 0).any() and (weeks == 0).any()
    assert whitby.earnings.mean() > kept.earnings.mean()


def test_each_contract_decoded_as_a_scalar_reference_decodes_it():
    """The population's contract attributes against a scalar decoding of the spec, contract by
    contract, from both streams drawn afresh (as tests/reference_engine.py draws a block: every
    row of every page; the population's stream: the types' uniforms, then pages of five rows)."""
    sc = population_scenario(
        ARMS[:2],
        paths=300,
        weeks=6,
        clients={"coercive_share": 0.3, "retaliation_probability": 0.6, "coercive_suspended": 0.5},
        reports={"fair": 0.5, "upheld_fair": 0.5},
    )
    m, pop = sc.market, sc.population
    plan = make_plan(sc)
    d = chunk_draws(plan, 0, sc.run.paths)
    d.ensure(plan.ordinals)
    pages = -(-plan.ordinals // 32)
    cdfs = [list(np.cumsum(t.quality)) for t in pop.types]
    for block, start in enumerate(range(0, sc.run.paths, 256)):
        g = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(sc.run.seed, spawn_key=(1, block)))
        )
        g.random((plan.weeks, plan.slots, 256), dtype=np.float32)
        g.random(256)
        main = [g.random((7, 256, 32), dtype=np.float32) for _ in range(pages)]
        h = population_generator(sc.run.seed, block)
        kind_u = h.random(256)
        extra = [h.random((5, 256, 32), dtype=np.float32) for _ in range(pages)]
        for i in range(min(256, sc.run.paths - start)):
            kind = 0 if kind_u[i] < pop.types[0].share else 1
            for k in range(plan.ordinals):
                u = [float(x) for x in main[k // 32][:, i, k % 32]]
                v = [float(x) for x in extra[k // 32][:, i, k % 32]]
                earned = next((s for s, c in enumerate(cdfs[kind], 1) if u[0] < c), 5)
                coercive = v[0] < pop.clients.coercive_share
                retaliates = coercive and v[1] < pop.clients.retaliation_probability
                harsh = not coercive and u[5] < m.harsh_client_share
                if retaliates:
                    stars = min(earned, pop.clients.retaliation_stars)
                elif harsh:
                    stars = max(earned - m.harsh_client_shift, 1)
                else:
                    stars = earned
                truth = (2 if retaliates else 1) if stars < earned else 0
                unfair = truth > 0
                r = pop.reports
                upheld = (
                    stars < sc.jss.fail_below
                    and v[3] < (r.unfair if unfair else r.fair)
                    and v[4] < (r.upheld_unfair if unfair else r.upheld_fair)
                )
                left = retaliates or u[2] < sc.signals.feedback_rate
                pos = d.position(np.array([start + i]), np.array([k]))
                got = {a: d.attr(a, pos)[0] for a in ("stars", "earned", "truth", "upheld", "left")}
                want = {
                    "stars": stars,
                    "earned": earned,
                    "truth": truth,
                    "upheld": upheld,
                    "left": left,
                }
                assert got == want, (start + i, k)
                assert d.attr("suspended", pos)[0] == (
                    coercive and v[2] < pop.clients.coercive_suspended
                )


MEASURE = """
import gc, json, resource, sys
import sim
from sim.policy import policy_run, policy_scenario
sc = sim.validate_scenario(json.loads(sys.argv[1]), "m")
gc.collect()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
policy_run(sc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(after - before)
"""


def test_a_policy_runs_measured_peak_is_within_the_runs_estimate():
    """`sim.memory`'s estimate of the scenario with the arms a policy run adds holds the
    measured peak of the policy run (a population's draws, queues and tallies included)."""
    data = tomllib.loads(POPULATION_TOML)
    data["run"].update(paths=20_000, weeks=104, chunk_paths=8192)
    data["arms"] = [*ARMS[:4], {"name": "late", "rule": "oracle", "delay_weeks": 6}]
    sc = sim.validate_scenario(data, "m")
    estimate = estimate_memory_bytes(policy_scenario(sc))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    grew = int(out.stdout.strip())
    assert grew <= estimate, f"measured {grew / 2**20:.0f} MiB > {estimate / 2**20:.0f} MiB"
