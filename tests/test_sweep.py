"""sim.sweep: key and value syntax, the grid, per-point seeds, and executor-independent results."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from helpers import small

import sim
from sim import sweep as sw


def problems(fn: Callable[[], Any]) -> list[tuple[str, str]]:
    with pytest.raises(sim.ScenarioError) as e:
        fn()
    assert all(source == "--set" for source, _, _ in e.value.problems)
    return [(key, msg) for _, key, msg in e.value.problems]


@pytest.fixture
def tiny() -> sim.Scenario:
    return small(paths=200, weeks=8)


def test_keys_are_dotted_names_with_zero_based_indices():
    assert sw.parse_key("freelancer.proposals_per_week") == ("freelancer", "proposals_per_week")
    assert sw.parse_key("arms[1].delay_weeks") == ("arms", 1, "delay_weeks")
    assert sw.parse_key(" history[1].stars ") == ("history", 1, "stars")
    assert sw.parse_key("freelancer.quality[4]") == ("freelancer", "quality", 4)
    assert sw.format_key(("arms", 1, "delay_weeks")) == "arms[1].delay_weeks"
    for bad in ("", "arms[-1].x", "arms.[1]", ".a", "a..b", "a b", "a[1"):
        assert problems(lambda bad=bad: sw.parse_key(bad))[0][1].startswith("not a key")


def test_values_are_toml_scalars_and_bare_words_are_strings():
    assert sw.parse_values("5,10") == [5, 10]
    assert [type(v) for v in sw.parse_values("5, 2.5, true")] == [int, float, bool]
    assert sw.parse_values("mean, median, 'beta'") == ["mean", "median", "beta"]
    assert sw.parse_values('"a,b",[1, 2],{ x = 1 }') == ["a,b", [1, 2], {"x": 1}]
    assert sw.parse_assignment("arms[01].delay_weeks=0,6") == ("arms[1].delay_weeks", [0, 6])
    assert problems(lambda: sw.parse_assignment("freelancer.capacity"))[0][1].startswith("expected")
    assert problems(lambda: sw.parse_values("1,,2", "k")) == [("k", "empty value")]
    assert "not a TOML value" in problems(lambda: sw.parse_values("[1,", "k"))[0][1]


def test_assignments_list_every_problem_in_the_order_given():
    assert sw.parse_assignments(["arms[01].delay_weeks=0,6", "run.weeks=8"]) == {
        "arms[1].delay_weeks": [0, 6],
        "run.weeks": [8],
    }

    def one_value(key: str, values: list[Any]) -> str | None:
        return None if len(values) == 1 else "takes one value"

    texts = ["a..b=1", "run.weeks=8,9", "run.weeks=8", "run.weeks=9", "freelancer.capacity"]
    found = problems(lambda: sw.parse_assignments(texts, one_value))
    assert [(key, msg.split(":")[0]) for key, msg in found] == [
        ("a..b", "not a key"),
        ("run.weeks", "takes one value"),  # refused: the next run.weeks is the first one given
        ("run.weeks", "given twice; list every value in one --set"),
        ("freelancer.capacity", "expected KEY=V1,V2,..."),
    ]


def test_grid_is_cartesian_last_key_fastest_with_spawned_seeds(tiny):
    grid = {"freelancer.proposals_per_week": [5, 10], "arms[1].delay_weeks": [0, 3, 6]}
    points = sw.grid_points(tiny, grid, seed=7)
    assert [p.index for p in points] == list(range(6))
    assert [tuple(p.values.values()) for p in points] == [
        (5, 0), (5, 3), (5, 6), (10, 0), (10, 3), (10, 6)
    ]  # fmt: skip
    children = np.random.SeedSequence(7).spawn(6)
    expected = [int(c.generate_state(1, np.uint64)[0]) >> 1 for c in children]
    assert [p.seed for p in points] == expected == sw.point_seeds(7, 6)
    assert len(set(expected)) == 6 and all(0 <= s < 2**63 for s in expected)
    assert all(p.scenario.run.seed == p.seed for p in points)
    assert points[4].scenario.freelancer.proposals_per_week == 10
    assert points[4].scenario.arms[1].delay_weeks == 3
    assert points[4].scenario.run.paths == 200  # the rest of the scenario is untouched
    # the base seed defaults to the scenario's; spawn children do not depend on the grid's size
    assert (
        sw.grid_points(tiny, {"freelancer.capacity": [1]})[0].seed
        == sw.point_seeds(tiny.run.seed, 9)[0]
    )


def test_nested_values_and_history_entries(tiny):
    q = [0.1, 0.1, 0.1, 0.1, 0.6]
    (p,) = sw.grid_points(tiny, {"freelancer.quality": [q], "history[0].stars": [3]})
    assert p.scenario.freelancer.quality == tuple(q)
    assert p.scenario.history[0].stars == 3.0  # an integer is fine for a number


def test_an_arm_rule_can_be_swept_and_keeps_only_its_own_settings(tiny):
    points = sw.grid_points(tiny, {"arms[1].rule": ["keep", "whitby", "exclude_flagged"]})
    rules = [p.scenario.arms[1].rule for p in points]
    assert rules == ["keep", "whitby", "exclude_flagged"]
    assert points[1].scenario.arms[1].q == 0.01  # the new rule's default


@pytest.mark.parametrize(
    ("grid", "key", "message"),
    [
        ({"freelancer.nope": [1]}, "freelancer.nope", "unknown key; freelancer has capacity"),
        ({"nope": [1]}, "nope", "unknown key; the scenario has"),
        ({"arms[0].delay_weeks": [1]}, "arms[0].delay_weeks", "unknown key; arms[0] has"),
        ({"arms[9].delay_weeks": [1]}, "arms[9].delay_weeks", "no such entry: arms has 2"),
        ({"freelancer[0]": [1]}, "freelancer[0]", "is not an array"),
        ({"freelancer.capacity": ["two"]}, "freelancer.capacity", 'expected an integer, got "two"'),
        ({"freelancer.capacity": [1.5]}, "freelancer.capacity", "expected an integer, got 1.5"),
        ({"freelancer.capacity": [True]}, "freelancer.capacity", "expected an integer, got true"),
        ({"freelancer.hourly_rate": ["x"]}, "freelancer.hourly_rate", "expected a number"),
        ({"signals.aggregator": [1]}, "signals.aggregator", "expected a string, got 1"),
        ({"freelancer.capacity": []}, "freelancer.capacity", "give at least one value"),
        ({"run.seed": [1]}, "run.seed", "change that with --seed"),
        ({"freelancer.capacity": [1, 99]}, "freelancer.capacity", "less than or equal to 10"),
        ({"arms[1].rule": ["nope"]}, "arms[1].rule", "unknown rule 'nope'"),
        ({"signals.aggregator": ["bogus"]}, "signals.aggregator", "got 'bogus'"),
    ],
)
def test_bad_grids_name_the_key(tiny, grid, key, message):
    found = problems(lambda: sw.grid_points(tiny, grid))
    assert any(k == key and message in m for k, m in found), found


def test_every_problem_is_listed_once(tiny):
    grid = {"freelancer.capacity": [0, 99], "freelancer.nope": [1], "market.competitors": [-1]}
    found = problems(lambda: sw.grid_points(tiny, grid))
    assert [k for k, _ in found] == ["freelancer.nope"]  # keys are checked before values
    found = problems(
        lambda: sw.grid_points(tiny, {"market.competitors": [-1], "arms[1].delay_weeks": [0, 1]})
    )
    assert found == [("market.competitors", "Input should be greater than or equal to 0 (got -1)")]


def test_too_many_points_is_refused(tiny, monkeypatch):
    monkeypatch.setattr(sw, "MAX_POINTS", 3)
    found = problems(
        lambda: sw.grid_points(tiny, {"freelancer.capacity": [1, 2], "arms[1].delay_weeks": [0, 1]})
    )
    assert found == [("", "2 x 2 = 4 points; at most 3")]


class LastFirst(Executor):
    """Holds every task until a result is wanted, then runs them last submitted first."""

    def __init__(self) -> None:
        self.pending: list[tuple[Future, Callable[..., Any], tuple[Any, ...]]] = []

    def submit(self, fn, /, *args, **kwargs):
        executor = self

        class Lazy(Future):
            def result(self, timeout=None):
                executor.drain()
                return super().result(timeout)

        future = Lazy()
        self.pending.append((future, fn, args))
        return future

    def drain(self) -> None:
        while self.pending:
            future, fn, args = self.pending.pop()
            future.set_result(fn(*args))


def test_results_do_not_depend_on_the_executor_or_completion_order(tiny):
    grid = {"arms[1].delay_weeks": [0, 4], "freelancer.proposals_per_week": [3, 12]}
    ticks: list[tuple[int, int]] = []
    serial = sw.sweep(tiny, grid, seed=3, progress=lambda d, t: ticks.append((d, t)))
    assert ticks == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = sw.sweep(tiny, grid, pool, seed=3)
    reversed_ = sw.sweep(tiny, grid, LastFirst(), seed=3)
    assert serial == threaded == reversed_
    assert [r["index"] for r in serial] == [0, 1, 2, 3]
    # each point is exactly a plain run of its own scenario
    points = sw.grid_points(tiny, grid, seed=3)
    assert serial[2]["summary"] == sim.run(points[2].scenario).summary()
    assert serial[2]["values"] == {"arms[1].delay_weeks": 4, "freelancer.proposals_per_week": 3}


def test_a_failing_point_surfaces_its_error(tiny, monkeypatch):
    def boom(sc, *a, **k):
        raise RuntimeError("engine broke")

    monkeypatch.setattr(sim, "run", boom)
    with pytest.raises(RuntimeError, match="engine broke"):
        sw.sweep(tiny, {"freelancer.capacity": [1, 2]})


def test_table_has_one_row_per_point_with_headline_figures(tiny):
    results = sw.sweep(tiny, {"arms[1].delay_weeks": [0, 4]}, seed=1)
    columns, rows = sw.sweep_table(results)
    assert columns == [
        "point",
        "arms[1].delay_weeks",
        "seed",
        "excluded.earnings_diff",
        "excluded.earnings_diff_ci90_low",
        "excluded.earnings_diff_ci90_high",
        "excluded.jobs_diff",
        "excluded.weeks_to_recover_median",
        "excluded.share_not_recovered",
        "excluded.first_back_median",
        "excluded.share_never_back",
    ]
    assert [r["point"] for r in rows] == [0, 1]
    d = results[1]["summary"]["differences"]["excluded"]
    assert rows[1]["excluded.earnings_diff"] == d["earnings"]["mean"]
    assert rows[1]["excluded.earnings_diff_ci90_high"] == d["earnings"]["ci90"][1]
    assert rows[1]["excluded.share_not_recovered"] == d["weeks_to_recover"]["share_not_recovered"]
    assert sw.sweep_table([]) == (["point", "seed"], [])


def test_serial_executor_is_a_real_executor():
    with sw.SerialExecutor() as ex:
        assert ex.submit(pow, 2, 5).result() == 32
        failed = ex.submit(int, "x")
        assert isinstance(failed.exception(), ValueError)
        assert list(ex.map(abs, [-1, -2])) == [1, 2]


@pytest.mark.parametrize("workers", [2, 3, 4])
@pytest.mark.parametrize("paths", [256, 1000, 10_000, 100_000, 1_000_000])
@pytest.mark.parametrize("chunk", [256, 4096, 16_384])
def test_balanced_chunks_give_every_worker_as_many_chunks(paths, chunk, workers):
    from sim.engine import BLOCK
    from sim.parallel import balanced_chunk_paths

    size = balanced_chunk_paths(paths, chunk, workers)
    assert size % BLOCK == 0 and BLOCK <= size <= chunk
    # every size allowed, by brute force: the fewest chunks that a multiple of workers can be
    counts = {-(-paths // s) for s in range(BLOCK, chunk + 1, BLOCK)}
    balanced = [c for c in counts if c % workers == 0]
    if balanced:
        assert -(-paths // size) == min(balanced), size


class Recording(ThreadPoolExecutor):
    """A thread pool that remembers the size of every chunk it is given."""

    def __init__(self, workers: int) -> None:
        super().__init__(max_workers=workers)
        self.sizes: list[int] = []

    def submit(self, fn, /, *args, **kwargs):
        self.sizes.append(args[-2])  # a chunk task takes (..., first, n, market)
        return super().submit(fn, *args, **kwargs)


def test_a_run_on_an_executor_balances_its_chunks_and_gives_the_serial_result():
    sc = small(paths=2000, weeks=12)
    serial = sim.run(sc, chunk_paths=768)  # 3 chunks: one worker of two would get two
    with Recording(2) as pool:
        parallel = sim.run(sc, executor=pool, chunk_paths=768)
    assert len(pool.sizes) % 2 == 0 and sum(pool.sizes) == 2000
    assert max(pool.sizes) <= 768 and max(pool.sizes) - min(pool.sizes) <= 256
    assert parallel.summary() == serial.summary()
    for arm in serial.arms:
        for m in ("stars", "jss", "win_prob", "earnings"):
            for key, band in serial.bands(arm, m).items():
                np.testing.assert_array_equal(band, parallel.bands(arm, m)[key])
    with Recording(3) as pool:  # told the worker count: three of them
        sim.run(sc, executor=pool, chunk_paths=768, workers=3)
    assert len(pool.sizes) % 3 == 0


def test_a_dask_executor_gets_the_market_once_and_the_serial_result():
    pytest.importorskip("distributed")
    from dask.distributed import Client

    sc = small(paths=1024, weeks=6)
    serial = sim.run(sc)
    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as c:
        scattered = []
        scatter = c.scatter

        def spy(value, **kwargs):
            scattered.append(type(value).__name__)
            return scatter(value, **kwargs)

        c.scatter = spy
        parallel = sim.run(sc, executor=c.get_executor(), chunk_paths=256)
    assert scattered == ["HiringMarket"]  # once, not once a chunk
    assert parallel.summary() == serial.summary()


def test_today_and_contract_dates_are_swept_as_dates_and_dates_elsewhere_are_named(tiny):
    """`--set today=...` takes TOML dates (it was refused as "not a scenario setting"); a date
    at any other key is refused by that key."""
    days = sw.parse_values("2026-01-01, 2026-03-01", "today")
    assert days == [datetime.date(2026, 1, 1), datetime.date(2026, 3, 1)]
    points = sw.grid_points(tiny, {"today": days}, seed=1)
    assert [p.scenario.today for p in points] == days
    assert problems(lambda: sw.parse_values("2026-01-01", "run.weeks")) == [
        ("run.weeks", "dates and times are not scenario settings")
    ]
    assert sw.parse_values("2026-01-01", "history[1].ended") == [datetime.date(2026, 1, 1)]
