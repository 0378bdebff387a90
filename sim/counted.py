"""Counted feedback: the sums the stars and the JSS read, as feedback arrives, ages, leaves."""

from __future__ import annotations

import numpy as np

from . import reputation
from .scenario import job_ring_weeks

__all__ = ["CountedFeedback", "arrival_rounds"]


class CountedFeedback:
    """`ArmKernel`'s counted feedback (sim/engine.py): what counts in the stars (``hist``, the
    star sums) and in the JSS (``hist_jss``, the JSS window sums), added as feedback arrives and
    removed as the rule (`RuleEvents`) or a JSS window drops it.

    Reads the kernel's plan, draws (``d``), arms, rows and the contract ledger's feedback due
    (`ContractLedger._feedback_due`); marks the rows whose signals must be recomputed.
    """

    def _init_counted(self) -> None:
        plan, arm, arms, n = self.plan, self.arm, self.arms, self.n
        sc, h = plan.sc, plan.h_stars.shape[0]
        self.value_weighted = sc.signals.weighting == "value"
        self.aggregator = sc.aggregator_of(arm)
        self.forgetting = sc.signals.forgetting if self.aggregator == "beta" else 1.0
        # counted feedback: future contracts by star level, history one by one
        self.cnt5 = np.zeros((n, 5))
        self.wsum5 = np.zeros((n, 5))
        self.dsum5 = np.zeros((n, 5)) if self.forgetting < 1.0 else None
        # and the same future feedback's totals: reviews, weight, weight x stars, stars
        self.totals = np.zeros((4, n))
        self.hist = np.broadcast_to(plan.h_has_feedback, (n, h)).copy()  # counted in the stars
        # counted in the JSS: the same array unless a rule removes feedback from the JSS only
        self.jss_only = any(getattr(a, "scope", "all") == "jss" for a in arms)
        self.hist_jss = self.hist.copy() if self.jss_only else self.hist
        # Signals are recomputed only on rows whose inputs changed: `touched` rows had feedback
        # counted or removed this week, `jss_touched` since the last JSS update (or had a
        # contract leave a window); `everything` asks for every row (the first week, history
        # removed, rules that change every row). docs/simulation.md: the values are the same.
        self.touched = np.zeros(n, dtype=bool)
        self.jss_touched = np.zeros(n, dtype=bool)
        self.everything = self.jss_everything = True
        # Job Success Score: counted future contracts by end week (a ring of buckets) and running
        # sums per window. Rules that must know star levels later (whitby filters levels, the
        # last-weeks window removes them) keep [JSS weight, contracts] per level; the others keep
        # only [success minus failure weight, total weight, contracts]. The sums are exact in any
        # order: JSS weights are 1, 1.25 or 1.5 and counts are small integers.
        last_weeks = getattr(arm, "last_weeks", None) or 0
        self.by_level = arm.rule == "whitby" or last_weeks > 0
        jss = sc.jss
        self.success5 = (self.levels >= jss.success_at).astype(float)
        self.fail5 = (self.levels < jss.fail_below).astype(float)
        if self.by_level:
            eye = np.eye(5)
            # per level l: column 2l takes the JSS weight (times jw), 2l+1 the count (added below)
            self.stat_of_level = np.stack([eye, np.zeros((5, 5))], axis=2).reshape(5, 10)
            self.count_of_level = np.zeros((5, 10))
            self.count_of_level[np.arange(5), np.arange(5) * 2 + 1] = 1.0
        else:
            self.stat_of_level = np.stack(
                [self.success5 - self.fail5, np.ones(5), np.zeros(5)], axis=1
            )  # times jw
            self.count_of_level = np.zeros((5, 3))
            self.count_of_level[:, 2] = 1.0
        stats = self.stat_of_level.shape[1]
        self.count_stats = np.flatnonzero(self.count_of_level.any(axis=0))  # contracts per level
        # a contract's JSS statistics by star level and duration (its value sets its weight)
        jw = reputation.jss_weight(plan.gross * np.arange(plan.weeks + 2))
        self.stat_table = (
            self.stat_of_level[:, None, :] * jw[None, :, None] + self.count_of_level[:, None, :]
        )
        # The ring must outlast every window a contract can leave within the horizon, the
        # last-weeks rule and the feedback delay, so that a bucket is reused only once nothing
        # can still arrive in it or age out of it. (A contract ends at week 0 or later: it
        # never leaves a window as long as the horizon.)
        self.rj = job_ring_weeks(plan.sc, last_weeks)
        # float32: a bucket holds a row's contracts of one end week (a few quarters and counts),
        # exact in float32 and in the float64 sums it joins; half the memory to clear and add
        self.buckets = np.zeros((self.rj, stats, n), dtype=np.float32)
        # A window's sums are everything counted (`counted_sums`) minus what has left that
        # window (`left_sums`): an arrival, inside every window, then touches one sum, not one
        # per window. Exact: the sums are of quarters and small integers.
        self.counted_sums = np.zeros((stats, n))
        self.left_sums = np.zeros((len(plan.windows), stats, n))
        self.min_window = min(plan.windows)
        self.value_buckets = np.zeros((self.rj, n, 5)) if last_weeks else None
        self._init_rule()
        self.last_hist = self.hist.copy()
        self.last_hist_jss = self.hist_jss.copy() if self.jss_only else self.last_hist
        # History's part of the JSS joins the running sums (exact, as for future contracts)
        # unless the rule filters levels or history clients repeat (distinct clients do not
        # add up): then it is computed from the mask when needed.
        self.fold_history = not self.by_level and plan.h_client_groups is None
        if self.fold_history and h:
            self.h_stat = self._history_stats()
            counted = self.hist_jss.astype(float)
            self.counted_sums += (counted @ self.h_stat).T
            for wi, weeks in enumerate(plan.windows):
                self.left_sums[wi] += ((counted * (plan.h_age >= weeks)) @ self.h_stat).T

    # -- counted future feedback: add and remove ------------------------------------------------
    def _update(
        self,
        idx: np.ndarray,
        k: np.ndarray,
        end: np.ndarray,
        t: int,
        sign: float,
        stars: bool = True,
        jss: bool = True,
    ) -> None:
        """Add (sign 1) or remove (-1) the feedback of contracts ``k`` on paths ``idx`` (a path
        may repeat: every sum is a scatter-add), which ended in weeks ``end``, in the stars'
        sums (``stars``) and the JSS's (``jss``)."""
        d = self.d
        pos = d.position(idx, k)
        level = d.attr("stars", pos) - 1
        duration = d.attr("duration", pos)
        if stars:
            self._update_stars(idx, level, duration, end, t, sign)
        if jss:
            self._update_jss_sums(idx, level, duration, end, t, sign)

    def _update_stars(self, idx, level, duration, end, t: int, sign: float) -> None:
        w = self.plan.gross * duration if self.value_weighted else np.ones(idx.size)
        at5 = idx * 5 + level
        np.add.at(self.cnt5.reshape(-1), at5, sign)
        np.add.at(self.wsum5.reshape(-1), at5, sign * w)
        self.touched[idx] = True
        # reviews, weight, weight x stars, stars: one scatter-add over the four rows
        stars = level + 1.0
        at = (np.arange(4)[:, None] * self.n + idx).ravel()
        totals = np.stack([np.full(idx.size, sign), sign * w, sign * w * stars, sign * stars])
        np.add.at(self.totals.reshape(-1), at, totals.ravel())
        if self.dsum5 is not None:  # beta: unit evidence, discounted by age
            np.add.at(self.dsum5.reshape(-1), at5, sign * self.forgetting ** (t - end))
        if self.value_buckets is not None:
            recent = t - end < self.rj
            at = ((end[recent] % self.rj) * self.n + idx[recent]) * 5 + level[recent]
            np.add.at(self.value_buckets.reshape(-1), at, sign * w[recent])

    def _update_jss_sums(self, idx, level, duration, end, t: int, sign: float) -> None:
        self.jss_touched[idx] = True
        stat = self.stat_table[level, duration]
        if sign < 0:
            stat = -stat
        n, stats = self.n, stat.shape[1]
        age = t - end
        recent = age < self.rj  # older contracts have left every window: their bucket is reused
        slot = end[recent] % self.rj
        # flat positions: buckets (slot, stat, row), window sums (window, stat, row)
        at = (slot * stats)[:, None] * n + (np.arange(stats) * n) + idx[recent][:, None]
        bucketed = stat[recent].reshape(-1).astype(np.float32)  # exact: quarters and counts
        np.add.at(self.buckets.reshape(-1), at.reshape(-1), bucketed)
        stat_at = np.arange(stats) * n
        at = stat_at[:, None] + idx
        np.add.at(self.counted_sums.reshape(-1), at.reshape(-1), stat.T.reshape(-1))
        if np.all(age < self.min_window):  # arrivals: inside every window
            return
        left = self.left_sums.reshape(-1)
        for wi, weeks in enumerate(self.plan.windows):
            gone = age >= weeks  # a removal of feedback that had already left this window
            if gone.any():
                at = stat_at[:, None] + wi * stats * n + idx[gone]
                np.add.at(left, at.reshape(-1), stat[gone].T.reshape(-1))

    def _add(self, idx, k, end, t) -> None:
        self._update(idx, k, end, t, 1.0)

    def _remove(self, idx, k, end, t) -> None:
        self._update(idx, k, end, t, -1.0)

    def _age_jss_windows(self, t: int) -> None:
        """Start of week t: contracts that ended w weeks ago leave the w-week window."""
        self.buckets[t % self.rj] = 0.0
        if self.value_buckets is not None:
            self.value_buckets[t % self.rj] = 0.0
        for wi, weeks in enumerate(self.plan.windows):
            if t - weeks >= 0:
                bucket = self.buckets[(t - weeks) % self.rj]
                self.left_sums[wi] += bucket
                self.jss_touched |= bucket[self.count_stats].any(axis=0)

    def _age_out_future(self, t: int, last_weeks: int) -> None:
        """window(last_weeks): feedback on contracts that ended last_weeks ago stops counting."""
        if t - last_weeks < 0:
            return
        self.everything = True
        slot = (t - last_weeks) % self.rj
        counts = self.buckets[slot].reshape(5, 2, self.n)[:, 1].T
        self.cnt5 -= counts
        self.wsum5 -= self.value_buckets[slot]
        self.totals[0] -= counts @ np.ones(5)
        self.totals[1] -= self.value_buckets[slot] @ np.ones(5)
        self.totals[2] -= self.value_buckets[slot] @ self.levels
        self.totals[3] -= counts @ self.levels
        if self.dsum5 is not None:
            self.dsum5 -= counts * self.forgetting**last_weeks
        self.counted_sums -= self.buckets[slot]
        for wi, weeks in enumerate(self.plan.windows):
            if weeks <= last_weeks:  # these contracts had already left this window
                self.left_sums[wi] -= self.buckets[slot]
        self.buckets[slot] = 0.0
        self.value_buckets[slot] = 0.0

    # -- arriving feedback, the whitby filter, history's part of the JSS sums ---------------------
    def _arrivals(self, t: int) -> None:
        """Week t's feedback, all at once."""
        due = self._feedback_due(t)
        if due is None:
            return
        idx, k, col = due
        end = t - col % self.ring_weeks
        refused = self._refused(idx, k, end, t)
        if self.tally:
            self._tally_arrivals(idx, k, end, t, refused)
        if getattr(self.arm, "scope", "all") == "jss" and refused.any():
            # refused by the JSS only: the stars still count it
            self._update(idx[refused], k[refused], end[refused], t, 1.0, jss=False)
        keep = ~refused
        idx, k, end, col = idx[keep], k[keep], end[keep], col[keep]
        if self.arm.rule == "window" and self.arm.last_n is not None:
            # on each path, feedback arrives by source column; each arrival may push out the
            # one before it, so one arrival per path at a time
            order = np.argsort(col, kind="stable")
            idx, k, end, col = idx[order], k[order], end[order], col[order]
            for rnd in arrival_rounds(idx):
                self._add(idx[rnd], k[rnd], end[rnd], t)
                self._after_count(idx[rnd], k[rnd], end[rnd], col[rnd], t)
            return
        self._add(idx, k, end, t)
        self._after_count(idx, k, end, col, t)

    def _history_stats(self) -> np.ndarray:
        """Each history contract's JSS statistics (H, 3), as `stat_table` gives a future one's."""
        p, j = self.plan, self.plan.sc.jss
        jw = reputation.jss_weight(p.h_value)
        net = jw * ((p.h_stars >= j.success_at).astype(float) - (p.h_stars < j.fail_below))
        return np.stack([net, jw, np.ones_like(jw)], axis=1)

    def _fold_history_changes(self, t: int, hist: np.ndarray, changed: bool) -> None:
        """Keep history's part of the running JSS sums current at week t: history contracts
        that leave a window now, then (when the mask ``changed``) history feedback the rule
        removed since last week."""
        p, last = self.plan, self.last_hist_jss
        leaving = (t + p.h_age)[:, None] == np.array(p.windows)[None, :]  # at week 0: in __init__
        for h in np.flatnonzero(leaving if t > 0 else []).tolist():
            h, wi = divmod(h, len(p.windows))
            self.left_sums[wi] += self.h_stat[h][:, None] * last[:, h]
            self.jss_touched |= last[:, h]
        if not changed:
            return
        removed = last & ~hist
        for h in np.flatnonzero(removed.any(axis=0)).tolist():
            gone = removed[:, h]
            self.counted_sums -= self.h_stat[h][:, None] * gone
            for wi, weeks in enumerate(p.windows):
                if t + p.h_age[h] >= weeks:
                    self.left_sums[wi] -= self.h_stat[h][:, None] * gone
            self.jss_touched |= gone


def arrival_rounds(idx: np.ndarray) -> list[np.ndarray]:
    """Split positions into rounds in which no path repeats, keeping each path's order: round r
    holds every path's r-th entry."""
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    first = np.r_[True, sorted_idx[1:] != sorted_idx[:-1]]
    starts = np.flatnonzero(first)
    rank = np.arange(idx.size) - np.repeat(starts, np.diff(np.r_[starts, idx.size]))
    return [np.sort(order[rank == r]) for r in range(int(rank.max()) + 1)]
