"""The engine's week-by-week recovery (`RecoveryClock`) against `weeks_to_recover`."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.recovery import RECOVERY_SHARE, RecoveryClock, weeks_to_recover

# win probabilities on a coarse grid, so that ties and shortfalls at exactly 95% are common
Q = st.sampled_from([0.0, 0.019, 0.02, 0.0475, 0.05, 0.1, 0.5, 1.0])


def _clock(reference: np.ndarray, arm: np.ndarray) -> np.ndarray:
    clock = RecoveryClock(reference.shape[1])
    for t in range(reference.shape[0]):
        clock.step(reference[t], arm[t])
    return clock.weeks()


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(st.integers(1, 12), st.integers(1, 9)).flatmap(
        lambda shape: st.tuples(arrays(float, shape, elements=Q), arrays(float, shape, elements=Q))
    )
)
def test_week_by_week_equals_the_whole_arrays(qs) -> None:
    reference, arm = qs
    assert np.array_equal(_clock(reference, arm), weeks_to_recover(reference, arm))


def test_a_worked_path() -> None:
    """Short in weeks 1 and 3 (below 95% of the arm), back in week 2 and from week 4 on."""
    arm = np.full((6, 1), 0.1)
    reference = np.array([[0.1], [0.05], [0.1], [0.09], [0.1], [0.1]])
    assert RECOVERY_SHARE * 0.1 > 0.09
    assert _clock(reference, arm).ravel().tolist() == [2, 4]
    still_short = reference.copy()
    still_short[-1] = 0.0  # the last week short: never back for good
    assert _clock(still_short, arm).ravel().tolist() == [2, -1]
    assert _clock(arm, arm).ravel().tolist() == [0, 0]  # never short
