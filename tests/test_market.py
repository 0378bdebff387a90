"""The hiring market: the tabulated win probability against the exact mean over the field."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.market import build_market, solve_intercept


@pytest.fixture(scope="module")
def market():
    return build_market(sim.Scenario())


def test_grid_win_probability_equals_the_exact_field_mean(market):
    for v in np.linspace(-6.0, 6.0, 61):
        # linear interpolation on a grid of step 0.018: error h^2/8 * |q''|, a few 1e-6 at most
        assert market.win_prob(np.array([v]))[0] == pytest.approx(
            market.exact_win_prob(v), rel=1e-4, abs=5e-6
        )


def test_outside_option_leaves_half_the_jobs_unfilled(market):
    # per job, the outside option's share is exp(V_0) / D_j
    no_hire = np.mean(np.exp(market.outside_utility - market.log_denominators))
    assert no_hire == pytest.approx(0.5, abs=1e-9)


def test_win_probability_rises_with_utility(market):
    q = market.win_prob(np.linspace(-20, 20, 2001))
    assert np.all(np.diff(q) >= 0) and 0 <= q[0] < q[-1] <= 1


def test_known_win_rate_is_reproduced(market):
    solved = solve_intercept(market, v_today=-1.3, win_rate=0.05)
    assert solved.win_prob(np.array([-1.3]))[0] == pytest.approx(0.05, abs=1e-6)
