"""The weekly Monte Carlo loop: paths in chunks, arms on common random numbers (simulation.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import reputation, rules
from .draws import BLOCK, Draws, chunk_draws, iter_chunks
from .market import HiringMarket, cached_market, solve_intercept, utility
from .plan import Plan, make_plan
from .scenario import Scenario, job_ring_weeks

__all__ = ["BLOCK", "Draws", "Plan", "iter_chunks", "make_plan", "simulate_arms", "trajectories"]

METRICS = ("stars", "jss", "win_prob", "active", "jobs", "earnings", "badge")
TRACE = (*METRICS, "wins")  # `trajectories` adds wins: slots won, -1 in weeks not sending
NO_BADGE, RISING_TALENT, TOP_RATED = (
    reputation.NO_BADGE,
    reputation.RISING_TALENT,
    reputation.TOP_RATED,
)
TOP_RATED_JSS, TOP_RATED_WEEKS, TOP_RATED_OF = 90.0, 13, 16
TOP_RATED_EARNED, TOP_RATED_TENURE, EARNED_WEEKS = 1000.0, 13, 52


STACKABLE_RULES = ("keep", "exclude_flagged")  # rules with no per-feedback state or decision


def kernel_groups(sc: Scenario) -> list[list]:
    """The scenario's arms in groups that one kernel advances together, stacked row-wise.

    Arms whose rules only ever act on history (keep, exclude_flagged) and that share an
    aggregator run as one kernel with a row per (arm, path): every numpy operation then serves
    all of them at once. Every other arm runs alone.
    """
    groups: dict[object, list] = {}
    for arm in sc.arms:
        key = sc.aggregator_of(arm) if arm.rule in STACKABLE_RULES else arm.name
        groups.setdefault(key, []).append(arm)
    return list(groups.values())


class ArmKernel:
    """The state of a group of arms (`kernel_groups`) over a chunk of paths, advanced one week at
    a time. Row ``a * paths + i`` is path i under arm ``arms[a]``."""

    def __init__(self, plan: Plan, arms: list, draws: Draws, market: HiringMarket):
        arm = arms[0]
        if len(arms) > 1 and any(a.rule not in STACKABLE_RULES for a in arms):
            raise ValueError("only keep and exclude_flagged arms run stacked")
        self.plan, self.arms, self.arm, self.d, self.market = plan, arms, arm, draws, market
        sc = plan.sc
        self.paths = draws.path_u.shape[0]
        n, c, h = self.paths * len(arms), plan.capacity, plan.h_stars.shape[0]
        self.n = n  # rows
        self.rows = np.arange(n)
        self.levels = np.arange(1.0, 6.0)
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
        # history's part of the signals changes only when the rule removes history or a history
        # contract leaves a JSS window: kept with the mask (and windows) it was computed for
        self.h_xs = np.nan_to_num(plan.h_stars, nan=0.0)
        self.h_weight = plan.h_value if self.value_weighted else np.ones(h)
        self._stars_cache: tuple | None = None
        self._jss_cache: tuple | None = None
        # Signals are recomputed only on rows whose inputs changed: `touched` rows had feedback
        # counted or removed this week, `jss_touched` since the last JSS update (or had a
        # contract leave a window); `everything` asks for every row (the first week, history
        # removed, rules that change every row). docs/simulation.md: the values are the same.
        self.touched = np.zeros(n, dtype=bool)
        self.jss_touched = np.zeros(n, dtype=bool)
        self.everything = self.jss_everything = True
        self.hist_version = 0  # counts changes of the counted history (cache key)
        self.stars = np.full(n, np.nan)
        self.reviews = np.zeros(n)
        self.evidence = np.zeros(n)  # five-star-equivalent reviews: sum of (stars - 1) / 4
        self.band = np.zeros(n, dtype=np.int8)  # the JSS band clients judge (shown or implied)
        self.badge = np.zeros(n, dtype=np.int8)
        self.v = np.zeros(n)
        self.q = np.zeros(n)
        # contracts
        # small integer types (weeks <= 1040, capacity <= 10, so ordinals < 2**15): every
        # weekly pass over them moves less memory
        self.slot_end = np.full((c, n), -1, dtype=np.int16)  # -1: the slot is free
        self.slot_ord = np.zeros((c, n), dtype=np.int16)
        self.active = np.zeros(n, dtype=np.int8)
        self.next_ord = np.zeros(n, dtype=np.int16)
        self.ring_weeks = plan.delay_max + 1
        # feedback on its way: path, contract ordinal, source column (slot j, delay d: j*(D+1)+d)
        # and week of arrival, one entry per feedback
        self.due = [np.empty(0, dtype=np.int64)] * 4
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
        self.buckets = np.zeros((self.rj, stats, n))
        # A window's sums are everything counted (`counted_sums`) minus what has left that
        # window (`left_sums`): an arrival, inside every window, then touches one sum, not one
        # per window. Exact: the sums are of quarters and small integers.
        self.counted_sums = np.zeros((stats, n))
        self.left_sums = np.zeros((len(plan.windows), stats, n))
        self.min_window = min(plan.windows)
        self.value_buckets = np.zeros((self.rj, n, 5)) if last_weeks else None
        self.jss = np.full(n, np.nan)
        # badges and money
        self.at90 = None  # (16, n) ring, filled at week 0
        self.earned = np.zeros((EARNED_WEEKS, n), dtype=np.int8)  # active, by week (ring)
        self.earned_sum = np.zeros(n, dtype=np.int16)  # contract-weeks in the last 52 weeks
        self.first_start = np.full(n, -1, dtype=np.int16)
        self.jobs = np.zeros(n, dtype=np.int16)
        self.contract_weeks = np.zeros(n, dtype=np.int16)
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

    # -- rules --------------------------------------------------------------------------------
    def _init_rule(self) -> None:
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
        return np.zeros(idx.size, dtype=bool)

    def _after_count(
        self, idx: np.ndarray, k: np.ndarray, end: np.ndarray, col: np.ndarray, t: int
    ) -> None:
        arm = self.arm
        if arm.rule == "suspended_client" and arm.delay_weeks > 0:
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
        self.ring_len[idx] = np.minimum(self.ring_len[idx] + 1, self.arm.last_n)
        self.ring_item[idx, pos] = item
        self.ring_end[idx, pos] = end
        self.ring_pos[idx] = (pos + 1) % self.arm.last_n

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
        np.add.at(self.totals[0], idx, sign)
        np.add.at(self.totals[1], idx, sign * w)
        np.add.at(self.totals[2], idx, sign * w * (level + 1))
        np.add.at(self.totals[3], idx, sign * (level + 1.0))
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
        np.add.at(self.buckets.reshape(-1), at.reshape(-1), stat[recent].reshape(-1))
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

    # -- the week ------------------------------------------------------------------------------
    def _end_contracts(self, t: int) -> None:
        d, r = self.d, self.ring_weeks
        parts = []
        for j in range(self.plan.capacity):
            idx = np.flatnonzero(self.slot_end[j] == t)
            if not idx.size:
                continue
            k = self.slot_ord[j, idx]
            self.slot_end[j, idx] = -1
            self.active[idx] -= 1
            pos = d.position(idx, k)
            left = d.attr("left", pos)
            delay = d.attr("delay", pos[left])
            parts.append((idx[left], k[left], j * r + delay, t + delay))
        if parts:
            self.due = [np.concatenate([a, *(p[i] for p in parts)]) for i, a in enumerate(self.due)]

    def _arrivals(self, t: int) -> None:
        """Week t's feedback, all at once."""
        idx, k, col, week = self.due
        now = week == t
        if not now.any():
            return
        later = ~now
        self.due = [a[later] for a in self.due]
        idx, k, col = idx[now], k[now], col[now]
        end = t - col % self.ring_weeks
        refused = self._refused(idx, k, end, t)
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
        hist = hist & kept[:, 5:]
        return cnt5 * lev, wsum5 * lev, None if dsum5 is None else dsum5 * lev, hist, hist, lev

    def _history_for_stars(self, hist: np.ndarray) -> np.ndarray:
        """History's reviews, weight, weight x stars and stars per row (4, rows), for this
        history mask (`signals` counts its versions)."""
        cached = self._stars_cache
        if cached is not None and cached[0] == self.hist_version:
            return cached[1]
        hm = hist.astype(float)
        terms = np.stack(
            [
                hm.sum(axis=1),
                hm @ self.h_weight,
                hm @ (self.h_weight * self.h_xs),
                hm @ self.h_xs,
            ]
        )
        self._stars_cache = (self.hist_version, terms)
        return terms

    def _stars(self, t, cnt5, wsum5, dsum5, hist, rows) -> tuple[np.ndarray, ...]:
        """Displayed stars (NaN when nothing counts), the number of counted reviews and their
        five-star-equivalent count (sum of (stars - 1) / 4), on ``rows`` (None: every row)."""
        p, s = self.plan, self.plan.sc.signals
        agg = self.aggregator
        history = self._history_for_stars(hist)
        if cnt5 is self.cnt5:  # no filter: the running totals are these sums
            future = self.totals
        else:
            future = np.stack(
                [cnt5.sum(axis=1), wsum5.sum(axis=1), wsum5 @ self.levels, cnt5 @ self.levels]
            )
        if rows is not None:
            future, history = future.take(rows, axis=1), history.take(rows, axis=1)
        reviews, weight, weighted_stars, star_sum = future
        h_reviews, h_weight, h_weighted_stars, h_star_sum = history
        n = reviews + h_reviews
        evidence = (star_sum + h_star_sum - n) * 0.25
        with np.errstate(invalid="ignore", divide="ignore"):
            if agg in ("mean", "bayesian"):
                stars = (weighted_stars + h_weighted_stars) / (weight + h_weight)
                if agg == "bayesian":
                    m = s.prior_weight
                    stars = (n * stars + m * s.prior_mean) / (n + m)
                return np.where(n > 0, np.clip(stars, 1.0, 5.0), np.nan), n, evidence
            if rows is not None:
                cnt5, hist = cnt5[rows], hist[rows]
                dsum5 = None if dsum5 is None else dsum5[rows]
            hm = hist.astype(float)
            xs = self.h_xs
            if agg == "median":
                stars = self._median(cnt5, hm, xs)
            elif agg == "beta":
                # each rating is one unit of evidence (Jøsang & Ismail): dollar weights would
                # swamp the prior, so beta ignores signals.weighting
                hwd = self.forgetting ** (t + p.h_age) if self.forgetting < 1 else np.ones(xs.size)
                w5 = dsum5 if dsum5 is not None else cnt5
                ev5 = (self.levels - 3.0) / 2.0
                evh = (xs - 3.0) / 2.0
                r = w5 @ ((1 + ev5) / 2) + hm @ (hwd * (1 + evh) / 2)
                q = w5 @ ((1 - ev5) / 2) + hm @ (hwd * (1 - evh) / 2)
                stars = 1.0 + 4.0 * (r + 1.0) / (r + q + 2.0)
            elif agg == "wilson":
                pos = cnt5 @ (self.levels >= s.positive_at) + hm @ (xs >= s.positive_at)
                stars = 1.0 + 4.0 * reputation.wilson_lower_bound(pos, n, z=s.z)
            else:  # star_lower_bound
                onehot = np.zeros((xs.size, 5))
                lvl = np.clip(np.floor(xs + 0.5).astype(int), 1, 5) - 1
                onehot[np.arange(xs.size), lvl] = 1.0
                stars = reputation.star_lower_bound(cnt5 + hm @ onehot, z=s.z)
        # shown on the 1-5 scale: a lower bound with a large z can dip below 1
        return np.where(n > 0, np.clip(stars, 1.0, 5.0), np.nan), n, evidence

    def _median(self, cnt5: np.ndarray, hm: np.ndarray, xs: np.ndarray) -> np.ndarray:
        values = np.concatenate([self.levels, xs])
        order = np.argsort(values, kind="stable")
        counts = np.concatenate([cnt5, hm], axis=1)[:, order]
        cum = np.cumsum(counts, axis=1)
        n = cum[:, -1]
        lo = np.floor((n - 1) / 2)
        hi = np.floor(n / 2)
        v = values[order]
        at_lo = v[np.minimum(np.argmax(cum > lo[:, None], axis=1), v.size - 1)]
        at_hi = v[np.minimum(np.argmax(cum > hi[:, None], axis=1), v.size - 1)]
        return (at_lo + at_hi) / 2.0

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

    def _history_for_jss(self, t: int, hist: np.ndarray) -> tuple[np.ndarray, ...]:
        """History's success minus failure weight, total weight, contracts and clients per window
        and row (4, windows, rows), for this history mask and the windows history is inside."""
        p, j = self.plan, self.plan.sc.jss
        inside = (t + p.h_age)[None, :] < np.array(p.windows)[:, None]  # (windows, H)
        cached = self._jss_cache
        if cached is not None and np.array_equal(cached[0], inside):
            if cached[1] == self.hist_version:
                return cached[2]
        hm = hist.astype(float)
        jwh = reputation.jss_weight(p.h_value)
        succ_h = np.where(p.h_stars >= j.success_at, jwh, 0.0)
        fail_h = np.where(p.h_stars < j.fail_below, jwh, 0.0)
        net = (hm @ (inside * (succ_h - fail_h)).T).T
        total = (hm @ (inside * jwh).T).T
        contracts = (hm @ inside.T.astype(float)).T
        if p.h_client_groups is None:
            clients = contracts
        else:
            seen = [(hm * row) @ p.h_client_groups > 0 for row in inside]  # clients per window
            clients = np.stack([s.sum(axis=1) for s in seen]).astype(float)
        terms = np.stack([net, total, contracts, clients])
        self._jss_cache = (inside, self.hist_version, terms)
        return terms

    def _job_success(self, t: int, hist: np.ndarray, lev: np.ndarray | None, rows) -> tuple:
        """The Job Success Score on ``rows`` (None: every row): (shown, judged), the score the
        platform shows (NaN when no window qualifies) and the one clients judge (the shown one,
        else the score of any window with counted feedback; NaN when there is none)."""
        p, j = self.plan, self.plan.sc.jss
        if rows is None:
            sums = self.counted_sums - self.left_sums
        else:
            sums = self.counted_sums.take(rows, axis=1) - self.left_sums.take(rows, axis=2)
        m = sums.shape[2]
        if self.by_level:
            sums = sums.reshape(len(p.windows), 5, 2, m).transpose(1, 2, 0, 3)
            if lev is not None:
                lev = lev if rows is None else lev[rows]
                sums = sums * lev.T[:, None, None, :]
            jw5, cnt5 = sums[:, 0], sums[:, 1]  # (5, windows, n)
            net = np.tensordot(self.success5 - self.fail5, jw5, axes=1)
            total, contracts = jw5.sum(axis=0), cnt5.sum(axis=0)
        else:
            net, total, contracts = sums.transpose(1, 0, 2)
        clients = contracts  # every future contract has its own client
        if hist.shape[1] and not self.fold_history:
            terms = self._history_for_jss(t, hist)
            if rows is not None:
                terms = terms.take(rows, axis=2)
            h_net, h_total, h_contracts, h_clients = terms
            net, total, clients = net + h_net, total + h_total, clients + h_clients
            contracts = contracts + h_contracts
        with np.errstate(invalid="ignore", divide="ignore"):
            score = 100.0 * net / total  # NaN where total is 0
        score = np.clip(score, 0.0, 100.0, out=score)
        # a window that does not qualify scores below -900 (arithmetic, not a masked select,
        # which is slow on masks that vary path by path)
        fails = (contracts < j.min_contracts) | (clients < j.min_clients) | ~(total > 0)
        shown = _best_window(score - fails * 1000.0, p.windows, j)
        # what clients judge when none is shown: the same score over any window holding counted
        # feedback (model.md, "Winning work")
        implied = _best_window(score - (contracts < 1) * 1000.0, p.windows, j)
        return shown, np.where(np.isnan(shown), implied, shown)

    def _badge(self, t: int) -> np.ndarray:
        has = ~np.isnan(self.jss)
        # a week counts towards Top Rated with a JSS of 90 or more, or with Rising Talent [P]
        at90 = ~has | (self.jss >= TOP_RATED_JSS)
        if self.at90 is None:
            self.at90 = np.repeat(at90[None, :], TOP_RATED_OF, axis=0)
            self.at90_count = self.at90.sum(axis=0, dtype=np.int8)
        slot = t % TOP_RATED_OF
        self.at90_count += at90.view(np.int8) - self.at90[slot].view(np.int8)
        self.at90[slot] = at90
        p = self.plan
        hist_earned = p.h_value[(p.h_age + t) < EARNED_WEEKS].sum()
        earned = self.earned_sum * p.gross + hist_earned
        if p.tenure0 >= 0:
            tenure_ok = np.full(self.n, t + p.tenure0 > TOP_RATED_TENURE)
        else:
            tenure_ok = (self.first_start >= 0) & (t - self.first_start > TOP_RATED_TENURE)
        top = has & (self.at90_count >= TOP_RATED_WEEKS) & (earned >= TOP_RATED_EARNED) & tenure_ok
        # Rising Talent without a JSS, Top Rated or none with one
        return np.where(has, top.view(np.int8) * np.int8(TOP_RATED), np.int8(RISING_TALENT))

    def signals(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Week t's stars, win probability and badge from the counted feedback (also kept as
        self.stars, self.q, self.badge; self.v holds the utility)."""
        cnt5, wsum5, dsum5, hist, hist_jss, lev = self._counted(t)
        changed = not np.array_equal(hist, self.last_hist)
        changed_jss = not np.array_equal(hist_jss, self.last_hist_jss) if self.jss_only else changed
        if self.fold_history and hist.shape[1]:
            self._fold_history_changes(t, hist_jss, changed_jss)
        if lev is not None or self.forgetting < 1.0 or changed or changed_jss:
            self.everything = True  # the filter, forgetting or the rule changed any row
            self.last_hist = hist.copy()
            self.last_hist_jss = hist_jss.copy() if self.jss_only else self.last_hist
            self.hist_version += 1
        everything = self.everything
        rows = None if everything else np.flatnonzero(self.touched)
        redo = None if everything else self.touched.copy()  # rows whose utility changes
        stars, n, evidence = self._stars(t, cnt5, wsum5, dsum5, hist, rows)
        if rows is None:
            self.stars, self.reviews, self.evidence = stars, n, evidence
        else:
            self.stars[rows], self.reviews[rows], self.evidence[rows] = stars, n, evidence
        self.jss_everything |= everything
        if t % self.plan.sc.jss.update_weeks == 0:
            self._update_jss(t, hist_jss, lev, redo)
        badge = self._badge(t)
        if redo is not None:
            redo |= badge != self.badge
        self.badge = badge
        rows = None if redo is None else np.flatnonzero(redo)
        sc, market = self.plan.sc, self.market
        if rows is None:
            self.v = utility(
                self.stars,
                self.reviews,
                self.band,
                badge,
                self.plan.log_price,
                sc,
                market.market_mean,
                evidence=self.evidence,
            )
            self.q = market.win_prob(self.v)
        elif rows.size:
            v = utility(
                self.stars[rows],
                self.reviews[rows],
                self.band[rows],
                badge[rows],
                self.plan.log_price,
                sc,
                market.market_mean,
                evidence=self.evidence[rows],
            )
            self.v[rows] = v
            self.q[rows] = market.win_prob(v)
        self.touched[:] = False
        self.everything = False
        return self.stars, self.q, badge

    def _update_jss(self, t: int, hist: np.ndarray, lev, redo: np.ndarray | None) -> None:
        """Recompute the JSS where it can have changed; mark those rows in ``redo``."""
        if hist.shape[1] and not self.fold_history:
            inside = (t + self.plan.h_age)[None, :] < np.array(self.plan.windows)[:, None]
            if self._jss_cache is None or not np.array_equal(self._jss_cache[0], inside):
                self.jss_everything = True  # a history contract left a window
        if self.jss_everything:
            self.jss, judged = self._job_success(t, hist, lev, None)
            self.band = reputation.jss_band_unchecked(judged)
            if redo is not None:
                redo[:] = True
        else:
            rows = np.flatnonzero(self.jss_touched)
            jss, judged = self._job_success(t, hist, lev, rows)
            self.jss[rows] = jss
            self.band[rows] = reputation.jss_band_unchecked(judged)
            redo |= self.jss_touched
        self.jss_touched[:] = False
        self.jss_everything = False

    def start_week(self, t: int) -> None:
        if self.dsum5 is not None and t > 0:
            self.dsum5 *= self.forgetting
        self._end_contracts(t)
        self._age_jss_windows(t)
        self._rule_events(t)
        self._arrivals(t)

    def work(self, t: int, q: np.ndarray) -> np.ndarray:
        """Proposals, wins, new contracts, earnings; returns the active count."""
        c = self.plan.capacity
        active = self.active
        # summing the bools as int8 is exact (at most 100 slots) and several times faster
        u = self.d.proposal_u[t]  # (slots, paths), shared by the stacked arms
        below = np.less(u, float32_ceiling(q).reshape(len(self.arms), 1, self.paths))
        self.wins = below.view(np.int8).sum(axis=1, dtype=np.int8).reshape(self.n)
        new = np.minimum(self.wins, c - active)  # at capacity, c - active is 0
        self.new = new
        starters = np.flatnonzero(new > 0)  # on a bool mask: several times faster
        left = new[starters]  # contracts still to place, filling free slots in order
        for j in range(c):
            free = (self.slot_end[j, starters] < 0) & (left > 0)
            take = starters[free]
            if not take.size:
                continue
            k = self.next_ord[take]
            self.d.ensure(int(k.max()) + 1)
            self.slot_end[j, take] = t + self.d.attr("duration", self.d.position(take, k))
            self.slot_ord[j, take] = k
            self.next_ord[take] += 1
            left = left - free
        first = self.first_start[starters]
        self.first_start[starters] = np.where(first < 0, t, first)
        active = active + new
        self.active = active
        self.jobs += new
        self.contract_weeks += active
        slot = t % EARNED_WEEKS
        self.earned_sum += active - self.earned[slot]
        self.earned[slot] = active
        return active


def _best_window(score: np.ndarray, windows: tuple[int, ...], j) -> np.ndarray:
    """The highest of the windows' and trending scores, whole percent; NaN where none
    qualifies (a window that does not qualify scores below -900: arithmetic, not a masked
    select, which is slow on masks that vary path by path)."""
    at = {w: i for i, w in enumerate(windows)}
    best = np.fmax.reduce(score[[at[w] for w in j.windows]], axis=0)  # skips NaN
    trend = score[[at[w] for w in j.trending]].mean(axis=0)  # below 0 if any fails
    best = np.fmax(best, trend)
    return np.where(best >= 0, np.floor(best + 0.5), np.nan)


def slot_wins(u: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Which proposal slots win: (slots, paths) uniforms below each path's win probability (paths,).

    One uniform per slot shared by every arm makes the coupling monotone: an arm with a higher q
    wins every slot that an arm with a lower q wins. The engine compares float32 uniforms with
    `float32_ceiling(q)`, which gives exactly these wins at half the memory traffic.
    """
    return u < q


def float32_ceiling(q: np.ndarray) -> np.ndarray:
    """The smallest float32 at or above each q >= 0: for a float32 u, ``u < q`` exactly when
    ``u < float32_ceiling(q)``, so the comparison need not widen every uniform to float64."""
    c = q.astype(np.float32)
    # where rounding went down, step up: the next non-negative float32 is the next integer
    # of its bits
    bits = c.view(np.int32)
    np.add(bits, c < q, out=bits, casting="unsafe")
    return c


def arrival_rounds(idx: np.ndarray) -> list[np.ndarray]:
    """Split positions into rounds in which no path repeats, keeping each path's order: round r
    holds every path's r-th entry."""
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    first = np.r_[True, sorted_idx[1:] != sorted_idx[:-1]]
    starts = np.flatnonzero(first)
    rank = np.arange(idx.size) - np.repeat(starts, np.diff(np.r_[starts, idx.size]))
    return [np.sort(order[rank == r]) for r in range(int(rank.max()) + 1)]


def _round_stars(stars: np.ndarray) -> np.ndarray:
    return np.floor(stars * 100.0 + 0.5) / 100.0


def simulate_arms(
    plan: Plan,
    draws: Draws,
    market: HiringMarket,
    records: dict[str, Callable[[int, dict[str, np.ndarray]], None]],
    trace: bool = False,
) -> None:
    """Advance every arm over a chunk week by week, handing each week's metrics to its record:
    stars (unrounded), jss, win_prob, active, jobs, contract_weeks, badge, and with ``trace``
    also wins (slots won, -1 in weeks not sending).

    The arms step together so that a week's proposal uniforms, shared by all of them, are read
    from memory once and then from cache.
    """
    kernels = [ArmKernel(plan, arms, draws, market) for arms in kernel_groups(plan.sc)]
    n = draws.path_u.shape[0]
    for t in range(plan.weeks):
        for kernel in kernels:
            kernel.start_week(t)
            stars, q, badge = kernel.signals(t)
            active = kernel.work(t, q)
            week = {
                "stars": stars,
                "jss": kernel.jss,
                "win_prob": q,
                "active": active,
                "jobs": kernel.jobs,
                "contract_weeks": kernel.contract_weeks,
                "badge": badge,
            }
            if trace:
                week["wins"] = np.where(kernel.active - kernel.new < plan.capacity, kernel.wins, -1)
            for a, arm in enumerate(kernel.arms):
                rows = slice(a * n, (a + 1) * n)
                records[arm.name](t, {m: values[rows] for m, values in week.items()})


@dataclass(frozen=True)
class Today:
    """What clients see at week 0 under one arm, as the engine computes it (after week 0's
    rule events, before any proposal)."""

    arm: str
    counted_stars: np.ndarray  # (H,) history feedback counted in the stars
    counted_jss: np.ndarray  # (H,) history feedback counted in the JSS
    reviews: int
    stars: float  # unrounded; NaN when nothing counts
    jss: float  # shown; NaN when no window qualifies
    judged_band: int  # the JSS band clients judge (reputation.jss_band; 4: nothing to judge)
    badge: int
    utility: float
    win_prob: float


# U_path just below 1: a flagged client counts as suspended today only when that is certain
CERTAIN_ONLY = float(np.nextafter(1.0, 0.0))


def signals_today(sc: Scenario, arms=None, market: HiringMarket | None = None) -> list[Today]:
    """Week 0's signals under each arm (default: the scenario's; any number of arms), from the
    same kernel as the simulation: the Calculator and Compare read this one function.

    A suspended_client arm suspends the flagged client today only when its probability is 1.
    """
    if arms is not None:
        sc = sc.model_copy(update={"arms": tuple(arms)})  # no arm limit: nothing is simulated
    plan = make_plan(sc)
    market = market_for(plan) if market is None else market
    out = []
    for arm in sc.arms:
        draws = Draws(plan, 0, 1)
        draws.path_u[:] = CERTAIN_ONLY
        kernel = ArmKernel(plan, [arm], draws, market)
        kernel.start_week(0)
        kernel.signals(0)
        _, _, _, hist, hist_jss, _ = kernel._counted(0)
        out.append(
            Today(
                arm=arm.name,
                counted_stars=hist[0].copy(),
                counted_jss=hist_jss[0].copy(),
                reviews=int(kernel.reviews[0]),
                stars=float(kernel.stars[0]),
                jss=float(kernel.jss[0]),
                judged_band=int(kernel.band[0]),
                badge=int(kernel.badge[0]),
                utility=float(kernel.v[0]),
                win_prob=float(kernel.q[0]),
            )
        )
    return out


def today_utility(plan: Plan, market: HiringMarket) -> float:
    """The first arm's utility at week 0 (for solving the intercept from a known win rate)."""
    draws = chunk_draws_for_today(plan)
    kernel = ArmKernel(plan, [plan.sc.arms[0]], draws, market)
    kernel.start_week(0)
    kernel.signals(0)
    return float(kernel.v[0])


def chunk_draws_for_today(plan: Plan) -> Draws:
    """Week 0's signals need no random numbers except U_path; path 0 of block 0 suffices."""
    return Draws(plan, 0, 1)


def market_for(plan: Plan) -> HiringMarket:
    """The scenario's market, with the intercept solved when a known win rate is given."""
    market = cached_market(plan.sc)
    rate = plan.sc.hiring.known_win_rate
    if rate is not None:
        market = solve_intercept(market, today_utility(plan, market), rate)
    return market


def trajectories(sc: Scenario, paths: int | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Every path's weekly metrics, {arm: {metric: (weeks, paths)}}: for tests and small runs."""
    if paths is not None:
        sc = sc.model_copy(update={"run": sc.run.model_copy(update={"paths": paths})})
    plan = make_plan(sc)
    market = market_for(plan)
    out: dict[str, dict[str, np.ndarray]] = {}
    for arm in sc.arms:
        out[arm.name] = {m: np.empty((plan.weeks, sc.run.paths)) for m in TRACE}
    for first, n in iter_chunks(sc.run.paths, sc.run.chunk_paths):
        draws = chunk_draws(plan, first, n)
        records = {}
        for arm in sc.arms:
            store = out[arm.name]

            def record(
                t: int, week: dict[str, np.ndarray], store=store, cols=slice(first, first + n)
            ) -> None:
                week = {
                    **week,
                    "stars": _round_stars(week["stars"]),
                    "earnings": week["contract_weeks"] * plan.net,
                }
                for m in TRACE:
                    store[m][t, cols] = week[m]

            records[arm.name] = record
        simulate_arms(plan, draws, market, records, trace=True)
    for arm in out.values():
        for m in ("active", "jobs", "badge", "wins"):
            arm[m] = arm[m].astype(np.int64)
    return out
