"""Figures remembered per scenario for the dashboard's redraw: a changed setting gives new ones."""

from __future__ import annotations

from helpers import reference_data, small

import sim
from app import results
from sim import needed


def _two() -> tuple[sim.Scenario, sim.Scenario]:
    """The reference case, and the same with contracts every 12 weeks and one more 5-star
    contract in its history: other ratings needed, today and in time."""
    data = reference_data()
    other = reference_data()
    other["market"] = {**other.get("market", {}), "contract_weeks": 12.0}
    other["history"].insert(
        0, {"client": "an earlier client", "stars": 5.0, "value": 900.0, "ended_weeks_ago": 20}
    )
    return small(data, paths=256, weeks=60), small(other, paths=256, weeks=60)


def test_a_changed_setting_gives_new_ratings_needed() -> None:
    a, b = _two()
    for public, direct in (
        (needed.ratings_needed_in_time, needed._ratings_needed_in_time),
        (needed.ratings_needed_today, needed._ratings_needed_today),
    ):
        first = public(a)
        assert public(a) == first == direct(a)  # remembered: the same figures
        changed = public(b)
        assert changed == direct(b)  # computed for the new settings, not the remembered ones
        assert changed != first
        assert public(a) == first  # and the first scenario's are still its own


def test_a_caller_that_changes_its_copy_changes_nothing_remembered() -> None:
    a, _ = _two()
    got = needed.ratings_needed_in_time(a)
    arm = next(iter(got))
    got[arm]["targets"].clear()
    got[arm]["contract_weeks"] = -1
    assert needed.ratings_needed_in_time(a) == needed._ratings_needed_in_time(a)


def test_the_dashboards_view_has_each_scenarios_own_figures() -> None:
    """compute_view works out the scenario's own figures beside the run: each view's are those
    of its own settings, the same as a run's summary without the dashboard."""
    a, b = _two()
    for sc in (a, b, a):
        view = results.compute_view(sim.dumps_scenario(sc))
        alone = sim.run(sc).summary()
        assert view.summary["ratings_needed_in_time"] == alone["ratings_needed_in_time"]
        assert view.summary["ratings_needed"] == alone["ratings_needed"]
        assert view.summary == alone
        if sc.uncertainty.on:
            assert view.win_prob_now == {t.arm: t.win_prob for t in sim.engine.signals_today(sc)}
