"""The rules at work week by week: history they drop, feedback they refuse or remove later."""

from __future__ import annotations

import numpy as np

from . import rules

__all__ = ["STACKABLE_RULES", "RuleEvents"]

STACKABLE_RULES = ("keep", "exclude_flagged")  # rules with no per-feedback state or decision


class RuleEvents:
    """`ArmKernel`'s rule (sim/engine.py; the rules' own formulas are in sim/rules.py): when
    and what it drops from the counted feedback (`CountedFeedback`), in the stars and the JSS
    or in the JSS only (the arm's scope).

    Reads the kernel's plan, draws (``d``), arms and rows; removes feedback through
    `CountedFeedback._update` and `_remove`.
    """

    def _init_rule(self) -> None:
        """The rule's state, and history it drops from the start (`_init_counted` calls this
        once the sums exist)."""
        p, arm = self.plan, self.arm
        if arm.rule == "flagged_client":
            mean = p.h_client_received if arm.flag_on == "received" else p.h_client_given
            counted = rules.flagged_client(mean, p.h_client_count, arm.threshold, arm.min_ratings)
            self._drop_history(self._against(~counted, p.h_stars), arm)
        elif arm.rule == "suspended_client":
            self.susp_queue = np.full(
                (arm.delay_weeks + 1, self.n, p.capacity * self.ring_weeks), -1, dtype=np.int64
            )
        elif arm.rule == "window" and arm.last_weeks is not None:
            self.hist &= p.h_age < arm.last_weeks
        elif arm.rule == "window":
            self.ring_item = np.zeros((self.n, arm.last_n), dtype=np.int64)
            self.ring_end = np.zeros((self.n, arm.last_n), dtype=np.int64)
            self.ring_pos = np.zeros(self.n, dtype=np.int64)
            self.ring_len = np.zeros(self.n, dtype=np.int64)
            for h in np.flatnonzero(p.h_has_feedback):
                self._push(self.rows, np.full(self.n, -(h + 1)), np.full(self.n, -p.h_age[h]), 0)

    def _against(self, mask: np.ndarray, stars: np.ndarray) -> np.ndarray:
        """``mask`` kept to feedback that counts against her, when the rule says only that."""
        if not getattr(self.arm, "only_against", False):
            return mask
        return mask & (stars < self.plan.sc.jss.success_at)  # NaN (no feedback): False

    def _drop_history(self, drop: np.ndarray, arm, rows: slice = slice(None)) -> None:
        """History feedback ``drop`` (H,) or (rows, H) stops counting under ``arm``'s scope."""
        if arm.scope == "all":
            self.hist[rows] &= ~drop
        if self.hist_jss is not self.hist:
            self.hist_jss[rows] &= ~drop

    def _rule_events(self, t: int) -> None:
        """Start of week t: history the rule drops now, feedback whose removal falls due now."""
        p, arm = self.plan, self.arm
        if arm.rule in STACKABLE_RULES:
            for a, stacked in enumerate(self.arms):
                if stacked.rule == "exclude_flagged" and t == stacked.delay_weeks:
                    rows = slice(a * self.paths, (a + 1) * self.paths)
                    self._drop_history(p.h_flagged, stacked, rows)
        elif arm.rule == "suspended_client":
            if t == arm.delay_weeks and self.hist.shape[1]:
                flagged_out = p.h_flagged & (self.d.path_u[:, None] < arm.probability)
                self._drop_history(self._against(p.h_suspended | flagged_out, p.h_stars), arm)
            if arm.delay_weeks > 0:
                queue = self.susp_queue[t % (arm.delay_weeks + 1)]
                idx, col = np.nonzero(queue >= 0)
                if idx.size:
                    end = t - arm.delay_weeks - col % self.ring_weeks
                    self._update(idx, queue[idx, col], end, t, -1.0, stars=arm.scope == "all")
                    queue[idx, col] = -1
        elif arm.rule == "window" and arm.last_weeks is not None:
            self.hist[:, p.h_age + t >= arm.last_weeks] = False
            self._age_out_future(t, arm.last_weeks)
        if self.removals:  # oracle, drop_below, report and review (sim/population_engine.py)
            self._removal_events(t)

    def _refused(self, idx: np.ndarray, k: np.ndarray, end: np.ndarray, t: int) -> np.ndarray:
        """Which arriving feedback the rule refuses (from what its scope covers)."""
        arm, d = self.arm, self.d
        if arm.rule == "flagged_client":
            m = self.plan.sc.market
            pos = d.position(idx, k)
            harsh = d.attr("harsh", pos)
            if arm.flag_on == "received":
                mean = np.where(harsh, m.harsh_client_mean_received, m.client_mean_received)
            else:
                mean = np.where(harsh, m.harsh_client_mean, m.client_mean_given)
            flagged = (d.attr("client_count", pos) >= arm.min_ratings) & (mean < arm.threshold)
            return self._against(flagged, d.attr("stars", pos))
        if arm.rule == "suspended_client" and arm.delay_weeks == 0:
            pos = d.position(idx, k)
            return self._against(d.attr("suspended", pos), d.attr("stars", pos))
        if arm.rule == "window" and arm.last_weeks is not None:
            return t - end >= arm.last_weeks
        if self.removals:
            return self._refused_now(idx, k)
        return np.zeros(idx.size, dtype=bool)

    def _after_count(
        self, idx: np.ndarray, k: np.ndarray, end: np.ndarray, col: np.ndarray, t: int
    ) -> None:
        """After feedback is counted: what the rule must remember to remove it later."""
        arm = self.arm
        if self.removals:
            self._queue_removals(idx, k, col, t)
        elif arm.rule == "suspended_client" and arm.delay_weeks > 0:
            pos = self.d.position(idx, k)
            susp = self._against(self.d.attr("suspended", pos), self.d.attr("stars", pos))
            slot = (t + arm.delay_weeks) % (arm.delay_weeks + 1)
            self.susp_queue[slot, idx[susp], col[susp]] = k[susp]
        elif arm.rule == "window" and arm.last_n is not None:
            self._push(idx, k, end, t)

    def _push(self, idx: np.ndarray, item: np.ndarray, end: np.ndarray, t: int) -> None:
        """Append to the last-n ring; a full ring pushes out (removes) its oldest feedback."""
        pos = self.ring_pos[idx]
        full = self.ring_len[idx] == self.arm.last_n
        if full.any():
            old_idx, old_pos = idx[full], pos[full]
            old_item = self.ring_item[old_idx, old_pos]
            old_end = self.ring_end[old_idx, old_pos]
            hist = old_item < 0
            self.hist[old_idx[hist], -old_item[hist] - 1] = False
            fut = ~hist
            if fut.any():
                self._remove(old_idx[fut], old_item[fut], old_end[fut], t)
                if self.tally:
                    self._tally_pushed_out(old_idx[fut], old_item[fut], old_end[fut], t)
        self.ring_len[idx] = np.minimum(self.ring_len[idx] + 1, self.arm.last_n)
        self.ring_item[idx, pos] = item
        self.ring_end[idx, pos] = end
        self.ring_pos[idx] = (pos + 1) % self.arm.last_n

    def _counted(self, t: int):
        """Counted feedback after the whitby filter: (cnt5, wsum5, dsum5, history counted in the
        stars, history counted in the JSS, level mask)."""
        cnt5, wsum5, dsum5, hist = self.cnt5, self.wsum5, self.dsum5, self.hist
        if self.arm.rule != "whitby":
            return cnt5, wsum5, dsum5, hist, self.hist_jss, None
        p = self.plan
        values = np.concatenate([self.levels, np.nan_to_num(p.h_stars, nan=3.0)])
        counts = np.concatenate([cnt5, hist.astype(float)], axis=1)
        kept = rules.whitby_filter_counts(
            values, counts, q=self.arm.q, binary_threshold=self.arm.binary_threshold
        )
        lev = kept[:, :5].astype(float)
        self.levels_kept = lev  # the population's tallies read it (PopulationKernel)
        hist = hist & kept[:, 5:]
        return cnt5 * lev, wsum5 * lev, None if dsum5 is None else dsum5 * lev, hist, hist, lev
