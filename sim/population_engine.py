"""A population in the engine: each path's freelancer type, each contract's client type and the
rating's ground truth, the rules that act on it (oracle, drop_below, report and review) and the
per-path tallies of low ratings the policy lab measures (sim/policy.py).

Random numbers: a population draws from its own stream per block of paths (spawn key
(`POPULATION_SPAWN`, block)), never from the contract rows of `sim.draws`, so every figure of a
scenario without a population is unchanged and a population of one type without unfair clients
or reports gives the single engine's figures to the bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .design import stars_by_edges
from .scenario import Scenario

__all__ = [
    "POPULATION_ATTRS",
    "POPULATION_SPAWN",
    "TRUTH_ATTRS",
    "FairWorld",
    "PopulationDraws",
    "PopulationKernel",
    "PopulationPlan",
    "population_attr",
    "population_plan",
]

POPULATION_SPAWN = 4  # (4, block): 0 the market's field, (1, b) contracts, 2 design, 3 its field
# the population's rows of contract uniforms, in the order a page draws them
COERCIVE, RETALIATES, SUSPENDED, REPORTED, UPHELD = range(5)
ROWS = 5
FAIR, HARSH, RETALIATORY = 0, 1, 2  # a rating's ground truth (sim.policy_types.TRUTHS)
# attributes a population decodes itself; the truth attributes exist in the single case too
POPULATION_ATTRS = frozenset({"stars", "earned", "harsh", "left", "suspended", "truth", "upheld"})
TRUTH_ATTRS = frozenset({"earned", "truth", "upheld"})


@dataclass(frozen=True)
class PopulationPlan:
    """A population's plain numbers, derived once from the scenario (`population_plan`)."""

    names: tuple[str, ...]
    cum_shares: np.ndarray  # (T,) cumulative shares, the last exactly 1
    star_edges: np.ndarray  # (T, 4) cumsum(quality)[:4] per type, float64
    mean_stars: np.ndarray  # (T,) true quality: an honest client's expected stars
    poor: np.ndarray  # (T,) bool
    coercive_share: float
    retaliation_probability: float
    retaliation_stars: int
    coercive_suspended: float
    report_unfair: float
    report_fair: float
    upheld_unfair: float
    upheld_fair: float
    fail_below: float
    tally: bool = False  # keep the per-path tallies of low ratings (sim.policy)


def population_plan(sc: Scenario, single: bool = False) -> PopulationPlan | None:
    """The scenario's population; None without one, unless ``single``: then the single case as
    a population of one type (her quality, no coercive clients, no reports)."""
    from .population import Population, PopulationClients, PopulationReports, WorkerType

    pop = sc.population
    if pop is None:
        if not single:
            return None
        pop = Population(
            types=(WorkerType(name="freelancer", share=1.0, quality=sc.freelancer.quality),),
            clients=PopulationClients(coercive_share=0.0, coercive_suspended=0.0),
            reports=PopulationReports(unfair=0.0, fair=0.0, upheld_unfair=0.0, upheld_fair=0.0),
        )
    shares = np.array([t.share for t in pop.types], dtype=np.float64)
    cum = np.cumsum(shares) / shares.sum()
    cum[-1] = 1.0
    c, r = pop.clients, pop.reports
    return PopulationPlan(
        names=tuple(t.name for t in pop.types),
        cum_shares=cum,
        star_edges=np.array(
            [np.cumsum(np.asarray(t.quality, dtype=np.float64))[:4] for t in pop.types]
        ),
        mean_stars=np.array([t.mean_stars for t in pop.types]),
        poor=np.array([t.poor for t in pop.types], dtype=bool),
        coercive_share=c.coercive_share,
        retaliation_probability=c.retaliation_probability,
        retaliation_stars=c.retaliation_stars,
        coercive_suspended=c.coercive_suspended,
        report_unfair=r.unfair,
        report_fair=r.fair,
        upheld_unfair=r.upheld_unfair,
        upheld_fair=r.upheld_fair,
        fail_below=sc.jss.fail_below,
    )


def population_generator(seed: int, block: int) -> np.random.Generator:
    seq = np.random.SeedSequence(seed, spawn_key=(POPULATION_SPAWN, block))
    return np.random.Generator(np.random.PCG64(seq))


class PopulationDraws:
    """One chunk's population random numbers: each path's type (one uniform per path, the first
    of its block's stream) and the population's contract uniforms, page by page in the layout
    of `sim.draws.Draws.u` (the same positions index both)."""

    def __init__(self, pp: PopulationPlan, seed: int, first_path: int, n_paths: int, shape):
        block, pages, page = shape
        self.pp = pp
        self.gens = []
        kind_u = np.empty(n_paths)
        for start in range(first_path, first_path + n_paths, block):
            n = min(block, first_path + n_paths - start)
            g = population_generator(seed, start // block)
            kind_u[start - first_path : start - first_path + n] = g.random(block)[:n]
            self.gens.append(g)
        self.kind = np.searchsorted(pp.cum_shares[:-1], kind_u, side="right")
        self.u = np.empty((ROWS, pages, n_paths, page), dtype=np.float32)
        self.buffer = np.empty((ROWS, block, page), dtype=np.float32)
        self.last_pos: np.ndarray | None = None  # `_contracts`' last positions and their parts
        self.last: tuple[np.ndarray, ...] = ()

    def draw_page(self, b: int, p: int, start: int, n: int) -> None:
        """Page ``p`` of block ``b`` (its paths at columns start .. start + n)."""
        self.gens[b].random(dtype=np.float32, out=self.buffer)
        self.u[:, p, start : start + n] = self.buffer[:, :n]

    def row(self, r: int, pos: np.ndarray) -> np.ndarray:
        return self.u[r].reshape(-1).take(pos)


def _contracts(d, pos: np.ndarray) -> tuple[np.ndarray, ...]:
    """(stars given, stars earned, coercive, retaliates, harsh) of the contracts at ``pos``.

    A coercive client is never also harsh; a harsh client is one of the market's
    (`market.harsh_client_share`). The engine asks for several attributes of the same
    positions in a row: the last positions' are kept (``pos`` itself is held, so its identity
    cannot be another array's; positions are never changed in place)."""
    pop = d.pop
    if pos is pop.last_pos:
        return pop.last
    pp = pop.pp
    coercive = pop.row(COERCIVE, pos) < np.float64(pp.coercive_share)
    retaliates = coercive & (pop.row(RETALIATES, pos) < np.float64(pp.retaliation_probability))
    if "harsh" in d.readable:
        harsh = d.decoded("harsh", pos) & ~coercive
    else:
        harsh = np.zeros(pos.shape, dtype=bool)
    earned = stars_by_edges(pp.star_edges[pop.kind[d.path_of(pos)]], d.raw("stars", pos))
    stars = earned
    if d.plan.harsh_rated:
        stars = np.where(harsh, np.maximum(earned - d.plan.sc.market.harsh_client_shift, 1), stars)
    stars = np.where(retaliates, np.minimum(earned, pp.retaliation_stars), stars)
    pop.last_pos, pop.last = pos, (stars, earned, coercive, retaliates, harsh)
    return pop.last


def population_attr(d, name: str, pos: np.ndarray) -> np.ndarray:
    """Attribute ``name`` of the contracts at ``pos`` under a population (`sim.draws.Draws`
    asks for the names in `POPULATION_ATTRS`; in the single case for `TRUTH_ATTRS` only):

    stars: what the client gives: a retaliating coercive client `retaliation_stars` (at most
    what the work earned), a harsh client `harsh_client_shift` less (at least 1), else what
    the work earned; earned: an honest client's stars on her type's quality; truth: FAIR, HARSH
    or RETALIATORY (unfair: given below what was earned); upheld: a low rating she reported
    that support upheld; left: feedback left (a retaliating client always leaves it);
    suspended: the market's suspended clients and coercive clients suspended later.
    """
    if d.pop is None:  # the single case: harsh clients only, no reports
        if name == "earned":
            return d.decoded("stars", pos, shifted=False)
        if name == "truth":
            unfair = d.decoded("stars", pos) < d.decoded("stars", pos, shifted=False)
            return np.where(unfair, HARSH, FAIR)
        if name == "upheld":
            return np.zeros(pos.shape, dtype=bool)
        raise KeyError(name)
    stars, earned, coercive, retaliates, harsh = _contracts(d, pos)
    pop, pp = d.pop, d.pop.pp
    if name == "stars":
        return stars
    if name == "earned":
        return earned
    if name == "truth":
        return np.where(stars < earned, np.where(retaliates, RETALIATORY, HARSH), FAIR)
    if name == "upheld":
        unfair = stars < earned
        low = stars < np.float64(pp.fail_below)
        report = np.where(unfair, pp.report_unfair, pp.report_fair)
        upheld = np.where(unfair, pp.upheld_unfair, pp.upheld_fair)
        return low & (pop.row(REPORTED, pos) < report) & (pop.row(UPHELD, pos) < upheld)
    if name == "harsh":
        return harsh
    if name == "left":
        return d.decoded("left", pos) | retaliates
    if name == "suspended":
        later = coercive & (pop.row(SUSPENDED, pos) < np.float64(pp.coercive_suspended))
        if "suspended" in d.readable:
            return d.decoded("suspended", pos) | later
        return later
    raise KeyError(name)


class FairWorld:
    """The kernel's view of the draws under `without_unfair`: the same contracts, every client
    rating what the work earned (no harsh or retaliatory stars; feedback left as in the real
    world, so it arrives in the same weeks)."""

    def __init__(self, draws):
        self._draws = draws

    def __getattr__(self, name: str):
        return getattr(self._draws, name)

    def attr(self, name: str, pos: np.ndarray) -> np.ndarray:
        if name == "stars":
            name = "earned"
        elif name == "harsh":
            return np.zeros(pos.shape, dtype=bool)
        if name == "truth":
            return np.full(pos.shape, FAIR)
        if name == "upheld":
            return np.zeros(pos.shape, dtype=bool)
        return self._draws.attr(name, pos)


class PopulationKernel:
    """`ArmKernel`'s population part (sim/engine.py): the rules that remove a rating for what it
    is (oracle: unfair; drop_below: its stars; exclude_flagged in a population: reported and
    upheld), `delay_weeks` after it arrives (0: refused on arrival), the fair world of
    `without_unfair`, and with the plan's ``tally`` the per-path tallies of low ratings.

    A rating is *low* below `jss.fail_below` (a JSS failure). It *stops counting* when it no
    longer counts in the JSS (every rule's scope holds the JSS): refused on arrival (0 weeks),
    removed later (the weeks from its arrival to its removal), pushed out of a last-n window
    (likewise) or aged out of a last-weeks window. Under the whitby filter, which filters star
    levels week by week, a rating has stopped counting when its level is filtered at the
    horizon, and its weeks are the weeks its level counted between its arrival and the horizon.
    Only ratings of future contracts are tallied (history is the same on every path).

    Reads the kernel's plan, draws (``d``), arms and rows; removes feedback through
    `CountedFeedback._update`.
    """

    def _init_population(self) -> None:
        plan, arm = self.plan, self.arm
        pp = plan.population
        if arm.rule == "without_unfair":
            self.d = FairWorld(self.d)
        # the arms of this kernel that remove ratings for what they are (report and review only
        # in the scenario's own population; in the single case exclude_flagged acts on history
        # only): (arm index, arm, delay, queue of (delay + 1, paths, feedback source columns))
        self.removals = []
        ring = plan.capacity * (plan.delay_max + 1)
        for a, stacked in enumerate(self.arms):
            if stacked.rule in ("oracle", "drop_below") or (
                stacked.rule == "exclude_flagged" and plan.sc.population is not None
            ):
                delay = 0 if stacked.rule == "drop_below" else stacked.delay_weeks
                queue = np.full((delay + 1, self.paths, ring), -1, np.int64) if delay else None
                self.removals.append((a, stacked, delay, queue))
        self.tally = pp is not None and pp.tally
        if not self.tally:
            return
        self.horizon = plan.weeks - 1  # ratings counting after the last week's rule events
        self.lows = np.zeros((2, self.n), dtype=np.int64)  # [unfair, fair] low ratings received
        self.stopped = np.zeros((2, self.n), dtype=np.int64)  # of those, not counting at the end
        self.stop_weeks = np.zeros((2, self.n))  # their weeks until they stopped, summed
        if arm.rule == "whitby":  # by star level: (class, row, level) received and weeks counted
            self.level_lows = np.zeros((2, self.n, 5))
            self.level_weeks = np.zeros((2, self.n, 5))

    def _removed(self, idx: np.ndarray, pos: np.ndarray, a: int, arm) -> np.ndarray:
        """Which ratings at ``pos`` (on rows ``idx``) arm ``a`` removes: those on its rows that
        are unfair (oracle), below its stars (drop_below), reported and upheld (exclude_flagged)."""
        d = self.d
        if arm.rule == "oracle":
            out = d.attr("truth", pos) != FAIR
        elif arm.rule == "drop_below":
            out = d.attr("stars", pos) < np.float64(arm.stars)
        else:
            out = d.attr("upheld", pos)
        if len(self.arms) > 1:
            out &= idx // self.paths == a
        return out

    def _refused_now(self, idx: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Arriving ratings a removal arm without a delay refuses."""
        pos = self.d.position(idx, k)
        refused = np.zeros(idx.size, dtype=bool)
        for a, arm, delay, _ in self.removals:
            if not delay:
                refused |= self._removed(idx, pos, a, arm)
        return refused

    def _queue_removals(self, idx, k, col, t: int) -> None:
        """After ratings are counted: those a removal arm removes later, queued for its delay."""
        pos = self.d.position(idx, k)
        for a, arm, delay, queue in self.removals:
            if delay:
                gone = self._removed(idx, pos, a, arm)
                slot = (t + delay) % (delay + 1)
                queue[slot, idx[gone] - a * self.paths, col[gone]] = k[gone]

    def _removal_events(self, t: int) -> None:
        """Start of week t: history the removal arms drop now, and the ratings whose removal
        falls due now."""
        for a, arm, delay, queue in self.removals:
            rows = slice(a * self.paths, (a + 1) * self.paths)
            if self.hist.shape[1] and t == delay:  # from the start, or after the delay
                if arm.rule == "oracle":  # the disputed, unfair feedback
                    self._drop_history(self.plan.h_flagged, arm, rows)
                elif arm.rule == "drop_below":  # NaN (no feedback) is not below
                    self._drop_history(self.plan.h_stars < arm.stars, arm, rows)
            if queue is None:
                continue
            due = queue[t % (delay + 1)]
            path, col = np.nonzero(due >= 0)
            if path.size:
                end = t - delay - col % self.ring_weeks
                k = due[path, col]
                self._update(path + a * self.paths, k, end, t, -1.0, stars=arm.scope == "all")
                due[path, col] = -1

    # -- tallies -------------------------------------------------------------------------------
    def _low_class(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(low, class) of the ratings at ``pos``: class 0 unfair, 1 fair."""
        d = self.d
        low = d.attr("stars", pos) < np.float64(self.plan.population.fail_below)
        return low, (d.attr("truth", pos) == FAIR).astype(np.int64)

    def _tally_arrivals(self, idx, k, end, t: int, refused: np.ndarray) -> None:
        """Week t's arriving ratings: received, and when each will stop counting if that is
        known now (refused now, removed after a delay, aged out of a last-weeks window)."""
        arm, d, n = self.arm, self.d, self.n
        pos = d.position(idx, k)
        low, cls = self._low_class(pos)
        at = cls * n + idx
        np.add.at(self.lows.reshape(-1), at[low], 1)
        if arm.rule == "whitby":
            levels = d.attr("stars", pos) - 1
            np.add.at(self.level_lows.reshape(-1), (at * 5 + levels)[low], 1.0)
            return
        stop = np.full(idx.size, np.inf)
        stop[refused] = t
        later = ~refused
        if self.removals:
            for a, stacked, delay, queue in self.removals:
                if queue is not None:
                    removed = later & self._removed(idx, pos, a, stacked)
                    stop = np.where(removed, t + delay, stop)
        elif arm.rule == "suspended_client" and arm.delay_weeks > 0:
            susp = self._against(d.attr("suspended", pos), d.attr("stars", pos))
            stop = np.where(later & susp, t + arm.delay_weeks, stop)
        elif arm.rule == "window" and arm.last_weeks is not None:
            stop = np.where(later, end + arm.last_weeks, stop)
        self._tally_stopped(at, low & (stop <= self.horizon), stop - t)

    def _tally_stopped(self, at: np.ndarray, stopped: np.ndarray, weeks: np.ndarray) -> None:
        np.add.at(self.stopped.reshape(-1), at[stopped], 1)
        np.add.at(self.stop_weeks.reshape(-1), at[stopped], weeks[stopped])

    def _tally_pushed_out(self, idx, k, end, t: int) -> None:
        """Ratings pushed out of a last-n window at week t (they arrived `delay` after their
        contract ended)."""
        pos = self.d.position(idx, k)
        low, cls = self._low_class(pos)
        arrived = end + self.d.attr("delay", pos)
        self._tally_stopped(cls * self.n + idx, low, (t - arrived).astype(float))

    def _tally_week(self, t: int) -> None:
        """End of week t (whitby): the lows of each counted level count one more week; at the
        horizon those of the filtered levels have stopped."""
        if self.arm.rule != "whitby":
            return
        kept = self.levels_kept  # (rows, 5) 1 counted, 0 filtered, this week
        self.level_weeks += self.level_lows * kept
        if t == self.horizon:
            self.stopped += (self.level_lows * (1.0 - kept)).sum(axis=2).astype(np.int64)
            self.stop_weeks += (self.level_weeks * (1.0 - kept)).sum(axis=2)
