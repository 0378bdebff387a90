"""The badges: Rising Talent and Top Rated, their rules' constants and the state they read."""

from __future__ import annotations

import numpy as np

from .reputation import RISING_TALENT, TOP_RATED

__all__ = ["EARNED_WEEKS", "TOP_RATED_JSS", "Badges"]

TOP_RATED_JSS, TOP_RATED_WEEKS, TOP_RATED_OF = 90.0, 13, 16
TOP_RATED_EARNED, TOP_RATED_TENURE, EARNED_WEEKS = 1000.0, 13, 52


class Badges:
    """`ArmKernel`'s badges (sim/engine.py): weeks at a JSS of 90 or more, contract-weeks
    earned in the last 52 weeks and the first contract's start, and the badge they give.

    Reads the kernel's plan, rows and JSS (`Signals`).
    """

    def _init_badges(self) -> None:
        n = self.n
        self.badge = np.zeros(n, dtype=np.int8)
        self.at90 = None  # (16, n) ring, filled at week 0
        self.earned = np.zeros((EARNED_WEEKS, n), dtype=np.int8)  # active, by week (ring)
        self.earned_sum = np.zeros(n, dtype=np.int16)  # contract-weeks in the last 52 weeks
        self.first_start = np.full(n, -1, dtype=np.int16)

    def _count_work(self, t: int, starters: np.ndarray, active: np.ndarray) -> None:
        """Week t's work: rows ``starters`` started contracts, ``active`` are held."""
        first = self.first_start[starters]
        self.first_start[starters] = np.where(first < 0, t, first)
        slot = t % EARNED_WEEKS
        self.earned_sum += active - self.earned[slot]
        self.earned[slot] = active

    def _badge(self, t: int) -> np.ndarray:
        has = ~np.isnan(self.jss)
        # a week counts towards Top Rated with a JSS of 90 or more, or with Rising Talent [P]
        # (no JSS): "not below 90" says both, NaN comparing false
        at90 = self.jss < TOP_RATED_JSS
        np.logical_not(at90, out=at90)
        if self.at90 is None:
            self.at90 = np.repeat(at90[None, :], TOP_RATED_OF, axis=0)
            self.at90_count = self.at90.sum(axis=0, dtype=np.int8)
        slot = t % TOP_RATED_OF
        self.at90_count += at90.view(np.int8) - self.at90[slot].view(np.int8)
        self.at90[slot] = at90
        p = self.plan
        hist_earned = p.h_value[(p.h_age + t) < EARNED_WEEKS].sum()
        top = self.at90_count >= TOP_RATED_WEEKS
        top &= has
        # earned_sum * gross + hist_earned >= TOP_RATED_EARNED, rounding as in float64, is
        # nondecreasing in earned_sum: the least contract-weeks that reach it, once per week
        reach = np.arange(EARNED_WEEKS * p.capacity + 1) * p.gross + hist_earned
        least = np.flatnonzero(reach >= TOP_RATED_EARNED)
        if least.size:
            top &= self.earned_sum >= least[0]
        else:
            top[:] = False
        if p.tenure0 >= 0:
            if not t + p.tenure0 > TOP_RATED_TENURE:
                top[:] = False
        else:
            top &= (self.first_start >= 0) & (t - self.first_start > TOP_RATED_TENURE)
        # Rising Talent without a JSS, Top Rated or none with one
        return np.where(has, top.view(np.int8) * np.int8(TOP_RATED), np.int8(RISING_TALENT))
