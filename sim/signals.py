"""The signals clients read: stars (every aggregator), the JSS shown and judged, win probability."""

from __future__ import annotations

import numpy as np

from . import reputation
from .market import utility

__all__ = ["Signals"]


class Signals:
    """`ArmKernel`'s signals (sim/engine.py): the stars, the JSS and, with the badge, the
    utility and win probability clients give her, recomputed only on rows whose counted
    feedback changed.

    Reads the kernel's plan, market and counted feedback (`CountedFeedback`), and the badge
    (`Badges._badge`).
    """

    def _init_signals(self) -> None:
        plan, n, h = self.plan, self.n, self.plan.h_stars.shape[0]
        # history's part of the signals changes only when the rule removes history or a history
        # contract leaves a JSS window: kept with the mask (and windows) it was computed for
        self.h_xs = np.nan_to_num(plan.h_stars, nan=0.0)
        self.h_weight = plan.h_value if self.value_weighted else np.ones(h)
        self._stars_cache: tuple | None = None
        self._jss_cache: tuple | None = None
        self.hist_version = 0  # counts changes of the counted history (cache key)
        self.stars = np.full(n, np.nan)
        self.reviews = np.zeros(n)
        self.evidence = np.zeros(n)  # five-star-equivalent reviews: sum of (stars - 1) / 4
        self.band = np.zeros(n, dtype=np.int8)  # the JSS band clients judge (shown or implied)
        self.v = np.zeros(n)
        self.q = np.zeros(n)
        self.jss = np.full(n, np.nan)

    # -- the stars ----------------------------------------------------------------------------
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

    # -- the Job Success Score ------------------------------------------------------------------
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
            score = np.multiply(net, 100.0)
            np.divide(score, total, out=score)  # NaN where total is 0
        score = np.clip(score, 0.0, 100.0, out=score)
        # a window that does not qualify scores below -900 (arithmetic, not a masked select,
        # which is slow on masks that vary path by path)
        if clients is contracts:  # one comparison serves both minimums
            fails = contracts < max(j.min_contracts, j.min_clients)
        else:
            fails = (contracts < j.min_contracts) | (clients < j.min_clients)
        empty_total = total > 0
        fails |= np.logical_not(empty_total, out=empty_total)
        penalised = np.multiply(fails, 1000.0)
        shown = _best_window(np.subtract(score, penalised, out=penalised), p.windows, j)
        # what clients judge when none is shown: the same score over any window holding counted
        # feedback (model.md, "Winning work"), worked out only where none is shown
        judged = shown.copy()
        none = np.flatnonzero(np.isnan(shown))
        if none.size:
            empty = contracts.take(none, axis=1) < 1
            judged[none] = _best_window(score.take(none, axis=1) - empty * 1000.0, p.windows, j)
        return shown, judged

    # -- the week's signals and win probability -------------------------------------------------
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
                coef=self._coef(None),
            )
            self.q = self._win_prob(self.v, None)
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
                coef=self._coef(rows),
            )
            self.v[rows] = v
            self.q[rows] = self._win_prob(v, rows)
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


def _best_window(score: np.ndarray, windows: tuple[int, ...], j) -> np.ndarray:
    """The highest of the windows' and trending scores, whole percent; NaN where none
    qualifies (a window that does not qualify scores below -900: arithmetic, not a masked
    select, which is slow on masks that vary path by path)."""
    at = {w: i for i, w in enumerate(windows)}
    # row by row, in place: the order of `np.fmax.reduce` and `mean` over the rows
    best = score[at[j.windows[0]]].copy()
    for w in j.windows[1:]:
        np.fmax(best, score[at[w]], out=best)  # skips NaN
    trend = score[at[j.trending[0]]].copy()
    for w in j.trending[1:]:
        np.add(trend, score[at[w]], out=trend)
    np.divide(trend, len(j.trending), out=trend)  # below 0 if any fails
    np.fmax(best, trend, out=best)
    shown = np.add(best, 0.5)
    np.floor(shown, out=shown)
    qualifies = best >= 0
    np.copyto(shown, np.nan, where=np.logical_not(qualifies, out=qualifies))
    return shown
