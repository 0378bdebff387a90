"""Bands, paired differences and recovery, accumulated chunk by chunk into a `Result`."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import reputation
from .assumptions import outside_ranges, ranges, varied
from .design import capacity_bound
from .headlines import path_points, recovery_figures, three_figures
from .needed import ratings_needed_in_time, ratings_needed_today
from .recovery import RecoveryClock
from .scenario import Scenario

__all__ = ["BAND_KEYS", "METRICS", "QUANTILES", "Accumulator", "Result"]

METRICS = ("stars", "jss", "win_prob", "active", "jobs", "earnings", "top_rated", "rising_talent")
PAIRED_METRICS = ("stars", "jss", "win_prob", "active", "jobs", "earnings")
QUANTILES = (5, 25, 50, 75, 95)  # percent
BAND_KEYS = ("q05", "q25", "q50", "q75", "q95", "mean")
WIN_PROB_BINS = 10_000  # bands of win_prob resolve 0.0001; its mean is exact to 1e-9
FINE = 10**9
SMALL_BINS = 4  # histograms with at most this many bins count each value instead of bincount
WEEK_BY_WEEK = 2048  # chunks of at least this many paths are counted one week at a time


@dataclass
class _Histogram:
    """Counts of integer codes per week: exact, mergeable, independent of chunking."""

    counts: np.ndarray  # (weeks, bins) int64
    total: np.ndarray  # (weeks,) int64 sum of codes (or of fine codes), exact
    valid: np.ndarray  # (weeks,) int64 paths with a value
    scale: float  # value = code * scale
    mean_scale: float  # mean = total * mean_scale / valid

    def __getstate__(self) -> dict:
        # most bins are empty: send the counts sparsely between processes
        flat = self.counts.ravel()
        nonzero = np.flatnonzero(flat)
        return {**self.__dict__, "counts": (self.counts.shape, nonzero, flat[nonzero])}

    def __setstate__(self, state: dict) -> None:
        # kept sparse until the counts are read: `merge_into` adds them as they came, with no
        # dense (weeks, bins) array built and added (win_prob's 10,001 bins a week)
        state = dict(state)
        self.__dict__.update(state, _sparse=state.pop("counts"))

    def __getattr__(self, name: str) -> Any:
        sparse = self.__dict__.get("_sparse") if name == "counts" else None
        if sparse is None:
            raise AttributeError(name)
        shape, nonzero, values = sparse
        counts = np.zeros(shape, np.int64)
        counts.ravel()[nonzero] = values
        self.counts = counts
        del self.__dict__["_sparse"]
        return counts

    def merge_into(self, other: _Histogram) -> None:
        """Add these counts, totals and valid counts to ``other``'s (the same weeks and bins)."""
        sparse = self.__dict__.get("_sparse")
        if sparse is not None:
            _, nonzero, values = sparse
            other.counts.ravel()[nonzero] += values  # each position once: a plain add
        else:
            other.counts += self.counts
        other.total += self.total
        other.valid += self.valid

    @classmethod
    def empty(cls, weeks: int, bins: int, scale: float, mean_scale: float | None = None):
        return cls(
            np.zeros((weeks, bins), np.int64),
            np.zeros(weeks, np.int64),
            np.zeros(weeks, np.int64),
            scale,
            scale if mean_scale is None else mean_scale,
        )

    def add(self, codes: np.ndarray, fine: np.ndarray | None = None, missing: bool = False) -> None:
        """Add a chunk: codes (weeks, n) of integers in [0, bins), or with ``missing`` in
        [0, bins] where 0 marks a path without a value and c + 1 stands for code c; fine, when
        given, is summed for the mean instead of the codes."""
        weeks, bins = self.counts.shape
        width = bins + missing
        if width <= SMALL_BINS:  # a few values: count each, no index array
            # int32 sums are exact (a chunk has under 2**31 paths) and twice as fast as int64
            counts = np.stack([(codes == c).sum(axis=1, dtype=np.int32) for c in range(width)], 1)
        elif codes.shape[1] >= WEEK_BY_WEEK:  # a week's counts stay in cache; no index array
            counts = np.empty((weeks, width), np.int64)
            for w in range(weeks):
                counts[w] = np.bincount(codes[w], minlength=width)
        else:
            flat = codes + (np.arange(weeks, dtype=np.intp) * width)[:, None]
            counts = np.bincount(flat.ravel(), minlength=weeks * width).reshape(weeks, width)
        if missing:
            self.valid += codes.shape[1] - counts[:, 0]
            counts = counts[:, 1:]
        else:
            self.valid += codes.shape[1]
        self.counts += counts
        if fine is not None:
            self.total += fine.sum(axis=1, dtype=np.int64)
        else:  # the codes' sum, from the counts: exact, and no pass over the codes
            self.total += counts @ np.arange(bins, dtype=np.int64)

    def bands(self) -> dict[str, np.ndarray]:
        """Inverted-CDF quantiles (the smallest value with at least q at or below it) and mean."""
        # only the codes some week holds: a quantile (q >= 5%) is never a code with no paths
        # below or at it, and win_prob's 10,001 codes are mostly empty
        held = np.flatnonzero(self.counts.any(axis=0))
        lo, hi = (held[0], held[-1] + 1) if held.size else (0, 1)
        cum = np.cumsum(self.counts[:, lo:hi], axis=1)
        out = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            for q, key in zip(QUANTILES, BAND_KEYS, strict=False):
                # 100 * cum >= q * valid, in integers: no rounding at the boundaries
                idx = lo + np.argmax(100 * cum >= q * self.valid[:, None], axis=1)
                out[key] = np.where(self.valid > 0, idx * self.scale, np.nan)
            out["mean"] = np.where(
                self.valid > 0, self.total * self.mean_scale / self.valid, np.nan
            )
        return out


def _histograms(sc: Scenario, net: float) -> dict[str, _Histogram]:
    weeks, cap = sc.run.weeks, capacity_bound(sc)  # the design's largest capacity
    return {
        "stars": _Histogram.empty(weeks, 501, 0.01),
        "jss": _Histogram.empty(weeks, 101, 1.0),
        "win_prob": _Histogram.empty(weeks, WIN_PROB_BINS + 1, 1 / WIN_PROB_BINS, 1 / FINE),
        "active": _Histogram.empty(weeks, cap + 1, 1.0),
        "jobs": _Histogram.empty(weeks, cap * weeks + 1, 1.0),
        "earnings": _Histogram.empty(weeks, cap * weeks + 1, net),
        "top_rated": _Histogram.empty(weeks, 2, 1.0),
        "rising_talent": _Histogram.empty(weeks, 2, 1.0),
    }


class Accumulator:
    """Collects each chunk's weekly metrics into histograms and per-path horizon values."""

    def __init__(self, sc: Scenario, net: float, first: int = 0, paths: int | None = None):
        """Collect paths [first, first + paths) (default: all of the run's)."""
        self.sc, self.net = sc, net
        self.first = first
        self.arms = sc.arm_names()
        paths = sc.run.paths - first if paths is None else paths
        weeks = sc.run.weeks
        self.hist = {a: _histograms(sc, net) for a in self.arms}
        self.final = {a: {m: np.empty(paths) for m in PAIRED_METRICS} for a in self.arms}
        self.contract_weeks = {a: np.zeros(paths, np.int64) for a in self.arms}
        # per path, (first week back, lasting week back) against the reference; -1: never
        self.recovery = {a: np.full((2, paths), -1, np.int64) for a in self.arms}
        self._chunk: dict[str, dict[str, np.ndarray]] = {}
        self._weeks = weeks

    def recorder(self, arm: str, n: int):
        """A callback for `engine.simulate_arms` that counts each week into this chunk's
        histograms as it comes (the week's values are still in cache, and no (weeks, paths)
        array of codes is written and read again), and keeps only what the horizon and recovery
        need: the last week, and recovery against the reference week by week (`RecoveryClock`).

        Codes: stars as hundredths + 1 (0: none), jss as whole percent + 1 (0: none), win_prob
        in 1/10,000 (its mean from the sum of billionths), the others as integers.
        """
        w, h = self._weeks, self.hist[arm]
        widths = {m: h[m].counts.shape[1] for m in ("stars", "jss", "win_prob", "active")}
        widths.update(stars=widths["stars"] + 1, jss=widths["jss"] + 1, badge=3)  # 0: none
        widths["jobs"] = widths["contract_weeks"] = h["jobs"].counts.shape[1]
        store = {
            m: np.empty((w, width), np.int64) for m, width in widths.items() if m != "win_prob"
        }
        wp_counts = h["win_prob"].counts
        store["fine_total"] = np.empty(w, np.int64)
        self._chunk[arm] = store
        reference = arm == self.arms[0]
        # recovery against the reference, week by week: the reference records each week first
        # (simulate_arms steps the arms in the scenario's order), and keeps its q of the week
        if reference:
            store["ref_q"] = np.empty(n)
            store["ref_week"] = -1
        else:
            clock = store["clock"] = RecoveryClock(n)
            ref_store = self._chunk[self.arms[0]]
        scratch = np.empty(n)
        code = np.empty(n, np.intp)
        fine = np.empty(n, np.int64)
        step = FINE // WIN_PROB_BINS

        def record(t: int, week: dict[str, np.ndarray]) -> None:
            # stars and jss as code + 1, 0 for none (fmax maps NaN to 0)
            np.multiply(week["stars"], 100.0, out=scratch)
            np.add(scratch, 0.5, out=scratch)
            np.floor(scratch, out=scratch)  # the rounding of the display
            np.add(scratch, 1.0, out=scratch)
            np.fmax(scratch, 0.0, out=scratch)
            code[:] = scratch
            store["stars"][t] = np.bincount(code, minlength=widths["stars"])
            if t == w - 1:
                store["stars_last"] = code.copy()
            np.add(week["jss"], 1.0, out=scratch)
            np.fmax(scratch, 0.0, out=scratch)
            code[:] = scratch
            store["jss"][t] = np.bincount(code, minlength=widths["jss"])
            if t == w - 1:
                store["jss_last"] = code.copy()
            q = week["win_prob"]
            if reference:
                store["ref_q"][:] = q
                store["ref_week"] = t
            else:
                if ref_store["ref_week"] != t:
                    raise RuntimeError("the reference arm must record each week first")
                clock.step(ref_store["ref_q"], q)
            if t == w - 1:
                store["q_last"] = q.copy()
            np.multiply(q, float(FINE), out=scratch)
            np.add(scratch, 0.5, out=scratch)
            np.floor(scratch, out=scratch)
            fine[:] = scratch
            store["fine_total"][t] = fine.sum(dtype=np.int64)
            np.add(fine, step // 2, out=code)
            np.floor_divide(code, step, out=code)
            # straight into the histogram: its 10,001 bins a week are the chunk's largest counts
            wp_counts[t] += np.bincount(code, minlength=widths["win_prob"])
            for m in ("active", "jobs", "contract_weeks", "badge"):
                if widths[m] <= SMALL_BINS:  # a few values: bincount is slow on repeats
                    for c in range(widths[m]):
                        store[m][t, c] = np.count_nonzero(week[m] == c)
                else:
                    store[m][t] = np.bincount(week[m], minlength=widths[m])
            if t == w - 1:
                store["last"] = {m: week[m].copy() for m in ("active", "jobs", "contract_weeks")}

        return record

    def finish_chunk(self, first: int, n: int) -> None:
        sl = slice(first - self.first, first - self.first + n)
        for arm, s in self._chunk.items():
            h = self.hist[arm]
            for m in ("stars", "jss"):  # code 0: a path without a value
                counts = s[m][:, 1:]
                h[m].valid += n - s[m][:, 0]
                h[m].counts += counts
                h[m].total += counts @ np.arange(counts.shape[1], dtype=np.int64)
            h["win_prob"].total += s["fine_total"]
            for m, key in (("active", "active"), ("jobs", "jobs"), ("earnings", "contract_weeks")):
                h[m].counts += s[key]
                h[m].total += s[key] @ np.arange(s[key].shape[1], dtype=np.int64)
            for m, badge in (
                ("top_rated", reputation.TOP_RATED),
                ("rising_talent", reputation.RISING_TALENT),
            ):
                held = s["badge"][:, badge]
                h[m].counts[:, 0] += n - held
                h[m].counts[:, 1] += held
                h[m].total += held
            for m in ("win_prob", "active", "jobs", "earnings", "top_rated", "rising_talent"):
                h[m].valid += n
            f, last = self.final[arm], s["last"]
            last_stars, last_jss = s["stars_last"], s["jss_last"]
            f["stars"][sl] = np.where(last_stars > 0, (last_stars - 1) / 100.0, np.nan)
            f["jss"][sl] = np.where(last_jss > 0, last_jss - 1, np.nan)
            f["win_prob"][sl] = s["q_last"]
            for m in ("active", "jobs"):
                f[m][sl] = last[m]
            f["earnings"][sl] = last["contract_weeks"] * self.net
            self.contract_weeks[arm][sl] = last["contract_weeks"]
            if "clock" in s:
                self.recovery[arm][:, sl] = s["clock"].weeks()
            else:  # the reference against itself: never short
                self.recovery[arm][:, sl] = 0
        self._chunk = {}

    def merge(self, part: Accumulator) -> None:
        """Add another accumulator's paths (a disjoint range of the same run): histograms add
        exactly and per-path values go to their places, so the order of merging is irrelevant."""
        sl = slice(part.first - self.first, part.first - self.first + part.paths_held)
        for arm in self.arms:
            for m, h in self.hist[arm].items():
                part.hist[arm][m].merge_into(h)
            for m, values in part.final[arm].items():
                self.final[arm][m][sl] = values
            self.contract_weeks[arm][sl] = part.contract_weeks[arm]
            self.recovery[arm][:, sl] = part.recovery[arm]

    @property
    def paths_held(self) -> int:
        """How many paths this accumulator collects."""
        return self.recovery[self.arms[0]].shape[1]

    def result(self, market_info: dict[str, float]) -> Result:
        return Result(
            scenario=self.sc,
            arms=self.arms,
            net=self.net,
            histograms=self.hist,
            final=self.final,
            contract_weeks=self.contract_weeks,
            recovery=self.recovery,
            market=market_info,
        )


def _clean(x: Any) -> Any:
    """JSON-safe: floats rounded to 10 significant digits, NaN and inf as None."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        x = float(x)
        return None if not math.isfinite(x) else float(f"{x:.10g}")
    return x


@dataclass
class Result:
    """What `sim.run` returns: bands per arm and week, and per-path values at the horizon."""

    scenario: Scenario
    arms: tuple[str, ...]
    net: float
    histograms: dict[str, dict[str, _Histogram]]
    final: dict[str, dict[str, np.ndarray]]
    contract_weeks: dict[str, np.ndarray]
    recovery: dict[str, np.ndarray]
    market: dict[str, float] = field(default_factory=dict)
    _bands: dict[tuple[str, str], dict[str, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _ratings_needed: dict | None = field(default=None, init=False, repr=False, compare=False)
    _in_time: dict | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def reference(self) -> str:
        return self.arms[0]

    @property
    def weeks(self) -> int:
        return self.scenario.run.weeks

    @property
    def paths(self) -> int:
        return self.scenario.run.paths

    @property
    def seed(self) -> int:
        return self.scenario.run.seed

    def _check(self, arm: str, metric: str, allowed: tuple[str, ...]) -> None:
        if arm not in self.arms:
            raise KeyError(f"arm {arm!r}: not in this result (arms: {', '.join(self.arms)})")
        if metric not in allowed:
            raise KeyError(f"metric {metric!r}: expected one of {', '.join(allowed)}")

    def bands(self, arm: str, metric: str) -> dict[str, np.ndarray]:
        """{"q05", "q25", "q50", "q75", "q95", "mean"} -> array over weeks."""
        self._check(arm, metric, METRICS)
        if (arm, metric) not in self._bands:  # the summary, charts and CSV all ask
            self._bands[arm, metric] = self.histograms[arm][metric].bands()
        return {k: v.copy() for k, v in self._bands[arm, metric].items()}

    def paired(self, arm: str, metric: str) -> np.ndarray:
        """Per path, the arm's value minus the reference's at the horizon (last week)."""
        self._check(arm, metric, PAIRED_METRICS)
        if metric == "earnings":  # exact: difference of contract-weeks, times the net rate
            cw = self.contract_weeks[arm] - self.contract_weeks[self.reference]
            return cw * self.net
        return self.final[arm][metric] - self.final[self.reference][metric]

    def weeks_to_recover(self, arm: str, lasting: bool = True) -> np.ndarray:
        """Per path, the week from which the reference arm's win probability stays at least 95%
        of this arm's on the same path to the horizon (``lasting``), or the first week it is
        back there after falling short (``lasting=False``); -1 where it is not within the
        horizon."""
        self._check(arm, "win_prob", ("win_prob",))
        return self.recovery[arm][1 if lasting else 0]

    def design_points(self) -> np.ndarray | None:
        """Each path's assumption set (its block's design point, sim/design.py); None when the
        run's assumptions are fixed."""
        return path_points(self.scenario)

    def difference(self, arm: str, metric: str) -> dict[str, Any]:
        """Mean paired difference with a 90% interval, the 5th and 95th percentiles over every
        path, and the three headline figures (`three_figures`)."""
        d = self.paired(arm, metric)
        points = self.design_points()
        keep = ~np.isnan(d)
        d = d[keep]
        if d.size == 0:
            return {
                "mean": None,
                "ci90": [None, None],
                "p05": None,
                "p95": None,
                "futures90": [None, None],
                "assumptions90": None,
            }
        return three_figures(d, None if points is None else points[keep])

    def recovery_summary(self, arm: str) -> dict[str, Any]:
        """The lasting recovery (median week, share never within the horizon), which headlines
        use, and under "first" the same for the first week back; each with its range over the
        plausible assumptions (`recovery_figures`)."""
        points = self.design_points()

        def summary(w: np.ndarray) -> dict[str, Any]:
            return recovery_figures(w, points)

        return {
            **summary(self.weeks_to_recover(arm, lasting=True)),
            "first": summary(self.weeks_to_recover(arm, lasting=False)),
        }

    def ratings_needed(self) -> dict[str, dict[str, dict[str, float | None]]]:
        """Closed-form further five-star ratings to reach each target, per arm, from today."""
        if self._ratings_needed is None:  # the summary and the chart both ask
            self._ratings_needed = ratings_needed_today(self.scenario)
        return copy.deepcopy(self._ratings_needed)

    def ratings_needed_in_time(self) -> dict[str, Any]:
        """Per arm, how many further 5-star contracts bring each signal back to its target and in
        which week (one every market.contract_weeks), and when the disputed feedback leaves each
        JSS window (`sim.needed.ratings_needed_in_time`)."""
        if self._in_time is None:
            self._in_time = ratings_needed_in_time(self.scenario)
        return copy.deepcopy(self._in_time)

    def summary(self) -> dict[str, Any]:
        """The JSON-safe summary of DESIGN.md."""
        arms = {}
        for arm in self.arms:
            start, final = {}, {}
            for m in METRICS:
                b = self.bands(arm, m)
                start[m] = {k: b[k][0] for k in ("q05", "q50", "q95", "mean")}
                final[m] = {k: b[k][-1] for k in ("q05", "q50", "q95", "mean")}
            arms[arm] = {"start": start, "final": final}
        differences = {
            arm: {
                "jobs": self.difference(arm, "jobs"),
                "earnings": self.difference(arm, "earnings"),
                "weeks_to_recover": self.recovery_summary(arm),
            }
            for arm in self.arms[1:]
        }
        sc = self.scenario
        return _clean(
            {
                "scenario": sc.name,
                "scenario_sha256": sc.sha256(),
                "today": None if sc.today is None else sc.today.isoformat(),
                "seed": self.seed,
                "paths": self.paths,
                "weeks": self.weeks,
                "reference": self.reference,
                "uncertainty": {
                    "on": sc.uncertainty.on,
                    "points": sc.uncertainty.points if sc.uncertainty.on else None,
                    "ranges": {a.key: list(ranges(sc)[a.key]) for a in varied()}
                    if sc.uncertainty.on
                    else None,
                    # ranges its [uncertainty] table sets that leave out her own value
                    "outside_ranges": outside_ranges(sc) if sc.uncertainty.on else None,
                },
                "arms": arms,
                "differences": differences,
                "ratings_needed": self.ratings_needed(),
                "ratings_needed_in_time": self.ratings_needed_in_time(),
                "market": self.market,
            }
        )

    def bands_columns(self) -> dict[str, Any]:
        """The bands.csv table by column, its rows by arm, metric and week: arm, metric (lists
        of names), week (integers), q05..q95 and mean (floats)."""
        pairs = [(arm, m) for arm in self.arms for m in METRICS]
        bands = [self.bands(arm, m) for arm, m in pairs]
        weeks = self.weeks
        return {
            "arm": [arm for arm, _ in pairs for _ in range(weeks)],
            "metric": [m for _, m in pairs for _ in range(weeks)],
            "week": np.tile(np.arange(weeks, dtype=np.int64), len(pairs)),
            **{k: np.concatenate([b[k] for b in bands]) for k in BAND_KEYS},
        }
