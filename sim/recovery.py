"""Weeks to recover: when the reference's win probability is back to 95% of an arm's, per path."""

from __future__ import annotations

import numpy as np

__all__ = ["RECOVERY_SHARE", "RecoveryClock", "weeks_to_recover"]

RECOVERY_SHARE = 0.95  # recovered when the reference's win probability is 95% of the arm's


class RecoveryClock:
    """`weeks_to_recover` kept week by week, as the weeks come: three weeks per path instead of
    every week's win probability of both arms (a (weeks, paths) array each, written once and
    read once). `step` with each week's win probabilities in order, then `weeks`."""

    def __init__(self, n: int):
        self.first_short = np.full(n, -1, np.int64)  # -1: never short yet
        self.first_back = np.full(n, -1, np.int64)  # after the first shortfall; -1: not yet
        self.last_short = np.full(n, -1, np.int64)
        self.ok = np.empty(n, bool)
        self.short = np.empty(n, bool)
        self.mask = np.empty(n, bool)
        self.scratch = np.empty(n)
        self.t = 0

    def step(self, reference_q: np.ndarray, arm_q: np.ndarray) -> None:
        """The next week's win probabilities of the reference and of the arm, (paths,)."""
        t, ok, short, mask = self.t, self.ok, self.short, self.mask
        np.multiply(arm_q, RECOVERY_SHARE, out=self.scratch)  # as weeks_to_recover: 0.95 * q
        np.greater_equal(reference_q, self.scratch, out=ok)
        np.logical_not(ok, out=short)
        # back: in a week after the first shortfall (set in an earlier week: this week's new
        # shortfalls are not ok), the first such week only
        np.greater_equal(self.first_short, 0, out=mask)
        np.logical_and(mask, ok, out=mask)
        np.logical_and(mask, self.first_back < 0, out=mask)
        np.copyto(self.first_back, t, where=mask)
        np.less(self.first_short, 0, out=mask)
        np.logical_and(mask, short, out=mask)
        np.copyto(self.first_short, t, where=mask)
        np.copyto(self.last_short, t, where=short)
        self.t += 1

    def weeks(self) -> np.ndarray:
        """(2, paths): the first week back and the lasting week, as `weeks_to_recover` gives
        them for the weeks stepped so far."""
        never = self.first_short < 0
        lasting = np.where(self.last_short < self.t - 1, self.last_short + 1, -1)
        return np.stack([np.where(never, 0, self.first_back), np.where(never, 0, lasting)])


def weeks_to_recover(reference_q: np.ndarray, arm_q: np.ndarray) -> np.ndarray:
    """Per path, when the reference's win probability is back to 95% of the arm's: row 0 the
    first week back, row 1 the lasting week (from then on it stays back to the horizon); -1 never.

    Arrays are (weeks, paths); weeks are counted from today (week 0). A path that is never short
    recovers at week 0 on both counts. "First back" is the first week after the first shortfall
    (the first week the reference is below 95% of the arm) where it reaches 95% again: counting
    from the first shortfall matters when an arm's rule acts late (a support queue), as both arms
    are equal until then. "Lasting" is the week after the last shortfall, or never when the last
    week is still short.
    """
    ok = reference_q >= RECOVERY_SHARE * arm_q
    weeks = ok.shape[0]
    short = ~ok
    ever_short = short.any(axis=0)
    first_short = np.where(ever_short, np.argmax(short, axis=0), weeks)
    back = ok & (np.arange(weeks)[:, None] > first_short)
    first_back = np.where(~ever_short, 0, np.where(back.any(axis=0), np.argmax(back, axis=0), -1))
    last_short = weeks - 1 - np.argmax(short[::-1], axis=0)
    lasting = np.where(~ever_short, 0, np.where(last_short < weeks - 1, last_short + 1, -1))
    return np.stack([first_back, lasting])
