"""Common random numbers: per-block generators, proposal and path uniforms, contract draws."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .design import DESIGN_DECODE
from .plan import Plan
from .population_engine import POPULATION_ATTRS, TRUTH_ATTRS, PopulationDraws, population_attr
from .proposals import ProposalWeeks

__all__ = ["BLOCK", "PAGE", "Draws", "chunk_draws", "iter_chunks", "rows_read"]

BLOCK = 256  # paths per random-number block: results never depend on the chunk size
# the seven rows of contract uniforms, in the order a page draws them
STARS, DURATION, LEFT, DELAY, CLIENT_COUNT, CLIENT_HARSH, SUSPENDED = range(7)
PAGE = 32  # contract ordinals per page of contract uniforms
PAGE_SHIFT = 5  # PAGE == 1 << PAGE_SHIFT
ATTRIBUTE_ROW = {
    "stars": STARS,
    "duration": DURATION,
    "left": LEFT,
    "delay": DELAY,
    "client_count": CLIENT_COUNT,
    "harsh": CLIENT_HARSH,
    "suspended": SUSPENDED,
}


def block_generator(seed: int, block: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1, block))))


def rows_read(plan: Plan) -> tuple[int, ...]:
    """The rows of contract uniforms this scenario's rules read (the others are drawn, unused)."""
    rules_used = {arm.rule for arm in plan.sc.arms}
    rows = [STARS, DURATION, LEFT, DELAY]
    if "flagged_client" in rules_used:
        rows += [CLIENT_COUNT, CLIENT_HARSH]
    elif plan.harsh_rated:  # harsh clients rate her harshly too
        rows.append(CLIENT_HARSH)
    if "suspended_client" in rules_used:
        rows.append(SUSPENDED)
    return tuple(rows)


class Draws:
    """One chunk's random numbers: proposals, one uniform per path, and contract uniforms by
    ordinal, drawn page by page as paths reach them (docs/simulation.md, "Random numbers").

    Contract uniforms stay raw: a contract's attributes are decoded when the engine reads them,
    which costs a few operations on the week's handful of contracts instead of decoding every
    page for every path up front.
    """

    def __init__(self, plan: Plan, first_path: int, n_paths: int):
        self.plan = plan
        self.first_path = first_path
        self.gens = []
        # assumption uncertainty: each path's design point, its block's (None: off)
        self.point = None
        if plan.design is not None:
            blocks = (first_path + np.arange(n_paths)) // BLOCK
            self.point = blocks % plan.design.points
        # (S, N) a week, C-contiguous: a week's slots are contiguous rows, so comparing them with
        # q streams through memory and counting wins reduces over the short axis; drawn a few
        # weeks at a time as the engine reaches them (sim/proposals.py)
        self.proposal_weeks = ProposalWeeks(plan, first_path, n_paths, BLOCK, block_generator)
        self.path_u = np.empty(n_paths)
        for start in range(first_path, first_path + n_paths, BLOCK):
            n = min(BLOCK, first_path + n_paths - start)  # paths used; a full block is drawn
            g = block_generator(plan.sc.run.seed, start // BLOCK)
            cols = slice(start - first_path, start - first_path + n)
            # past the block's proposal uniforms, exactly as drawing them would
            g.bit_generator.advance(self.proposal_weeks.outputs(start // BLOCK))
            self.path_u[cols] = g.random(BLOCK)[:n]
            self.gens.append((g, n))
        self.n = n_paths
        self.drawn = 0
        # per row read, room for every page a path could reach, in (page, path, column) order
        # so that a page is one contiguous block: np.empty leaves pages never drawn untouched
        self.rows = rows_read(plan)
        pages = -(-plan.ordinals // PAGE)
        self.u = np.empty((len(self.rows), pages, n_paths, PAGE), dtype=np.float32)
        self.row_index = {row: i for i, row in enumerate(self.rows)}
        self.row_buffer = np.empty((BLOCK, PAGE), dtype=np.float32)
        self.readable = frozenset(a for a, r in ATTRIBUTE_ROW.items() if r in self.row_index)
        self.pop = None  # a population's own random numbers (sim/population_engine.py)
        if plan.population is not None:
            seed, shape = plan.sc.run.seed, (BLOCK, pages, PAGE)
            self.pop = PopulationDraws(plan.population, seed, first_path, n_paths, shape)

    def proposals(self, t: int) -> np.ndarray:
        """Week t's proposal uniforms, (slots, paths), shared by the stacked arms."""
        return self.proposal_weeks.week(t)

    @property
    def proposal_u(self) -> np.ndarray:
        """Every week's proposal uniforms, (weeks, slots, paths): for tests and tools."""
        return ProposalWeeks(self.plan, self.first_path, self.n, BLOCK, block_generator).all_weeks()

    def ensure(self, ordinals: int) -> None:
        """Make contract ordinals 0 .. ordinals-1 available on every path.

        A page is 7 rows of BLOCK x PAGE float32 uniforms, drawn row after row; rows this
        scenario never reads are skipped with `advance`, which moves the generator exactly as
        drawing them would (each row is BLOCK x PAGE / 2 whole 64-bit outputs).
        """
        row_steps = BLOCK * PAGE // 2
        while self.drawn < ordinals:
            p, start = self.drawn // PAGE, 0
            for b, (g, n) in enumerate(self.gens):
                at = 0  # the generator's position in the page, in rows
                for i, row in enumerate(self.rows):
                    if row > at:
                        g.bit_generator.advance((row - at) * row_steps)
                    g.random(dtype=np.float32, out=self.row_buffer)
                    self.u[i, p, start : start + n] = self.row_buffer[:n]
                    at = row + 1
                if at < 7:
                    g.bit_generator.advance((7 - at) * row_steps)
                if self.pop is not None:
                    self.pop.draw_page(b, p, start, n)
                start += n
            self.drawn += PAGE

    def ensure_rows(self, rows: np.ndarray, k: np.ndarray) -> None:
        """Make contract ordinal ``k[i]`` available on the path of kernel row ``rows[i]``. With
        uncertainty on, block by block: a block whose design point makes many short contracts
        does not make every other block draw its pages (each block's generator still draws its
        pages in order, so the numbers are the same). Otherwise `ensure` on every path."""
        if self.point is None:
            self.ensure(int(k.max()) + 1)
            return
        if not hasattr(self, "block_drawn"):
            self.block_drawn = np.zeros(len(self.gens), dtype=np.int64)
        need = np.zeros(len(self.gens), dtype=np.int64)
        np.maximum.at(need, (rows % self.n) // BLOCK, k.astype(np.int64) + 1)
        row_steps = BLOCK * PAGE // 2
        for b in np.flatnonzero(need > self.block_drawn):
            g, n = self.gens[b]
            start = b * BLOCK
            while self.block_drawn[b] < need[b]:
                p, at = self.block_drawn[b] // PAGE, 0
                for i, row in enumerate(self.rows):  # as `ensure` draws a page, for one block
                    if row > at:
                        g.bit_generator.advance((row - at) * row_steps)
                    g.random(dtype=np.float32, out=self.row_buffer)
                    self.u[i, p, start : start + n] = self.row_buffer[:n]
                    at = row + 1
                if at < 7:
                    g.bit_generator.advance((7 - at) * row_steps)
                if self.pop is not None:
                    self.pop.draw_page(b, p, start, n)
                self.block_drawn[b] += PAGE

    def position(self, rows: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Where contract ordinal ``k[i]`` of the path of kernel row ``rows[i]`` (path
        ``rows[i] % paths``: arms stacked in one kernel share their paths' contracts) sits in
        each row of uniforms."""
        k = k.astype(np.intp)  # ordinals may be stored in int16
        return (k >> PAGE_SHIFT) * (self.n * PAGE) + (rows % self.n) * PAGE + (k & (PAGE - 1))

    def attr(self, name: str, pos: np.ndarray) -> np.ndarray:
        """Attribute ``name`` of the contracts at ``pos`` (from `position`), decoded; with a
        population, or a rating's truth, as sim/population_engine.py decodes it."""
        if name in TRUTH_ATTRS or (self.pop is not None and name in POPULATION_ATTRS):
            return population_attr(self, name, pos)
        return self.decoded(name, pos)

    def raw(self, name: str, pos: np.ndarray) -> np.ndarray:
        """The uniforms of attribute ``name`` at ``pos``, not decoded."""
        return self.u[self.row_index[ATTRIBUTE_ROW[name]]].reshape(-1).take(pos)

    def path_of(self, pos: np.ndarray) -> np.ndarray:
        """The chunk's path of each position."""
        return (pos >> PAGE_SHIFT) % self.n

    def decoded(self, name: str, pos: np.ndarray, shifted: bool = True) -> np.ndarray:
        """Attribute ``name`` decoded from the contract rows alone (the single case); stars
        ``shifted`` by a harsh client."""
        u = self.raw(name, pos)
        if self.point is not None and name in DESIGN_DECODE:  # each path's own assumptions
            out = DESIGN_DECODE[name](self.plan, u, self.point[(pos >> PAGE_SHIFT) % self.n])
        else:
            out = DECODE[name](self.plan, u)
        if name == "stars" and self.plan.harsh_rated and shifted:
            # a harsh client takes `harsh_client_shift` stars off what she earns, down to 1
            shift = self.plan.sc.market.harsh_client_shift * self.decoded("harsh", pos)
            out = np.maximum(out - shift, 1)
        return out


def _decode_stars(plan: Plan, u: np.ndarray) -> np.ndarray:
    # the smallest s with u < cdf[s-1]: 1 + the number of the first four edges at or below u
    return 1 + np.searchsorted(plan.star_edges, u.astype(np.float64), side="right")


def _decode_duration(plan: Plan, u: np.ndarray) -> np.ndarray:
    p_end = 1.0 / plan.sc.market.contract_weeks
    if p_end >= 1.0:
        return np.ones(u.shape, dtype=np.int64)
    duration = 1 + np.floor(np.log1p(-u.astype(np.float64)) / np.log1p(-p_end)).astype(np.int64)
    # a contract longer than the horizon never ends inside it: clipping keeps the ends small
    return np.minimum(duration, plan.weeks + 1)


def _decode_left(plan: Plan, u: np.ndarray) -> np.ndarray:
    return u < np.float64(plan.sc.signals.feedback_rate)


def _decode_delay(plan: Plan, u: np.ndarray) -> np.ndarray:
    d = plan.delay_max
    return np.minimum(np.floor(u.astype(np.float64) * (d + 1)), d).astype(np.intp)


def _decode_client_count(plan: Plan, u: np.ndarray) -> np.ndarray:
    mu = plan.sc.market.client_ratings_given_mean
    if mu == 0:
        return np.zeros(u.shape, dtype=np.int64)
    count = np.floor(np.log1p(-u.astype(np.float64)) / np.log(mu / (1.0 + mu)))
    return np.minimum(count, 2**31 - 1).astype(np.int64)


def _decode_harsh(plan: Plan, u: np.ndarray) -> np.ndarray:
    return u < np.float64(plan.sc.market.harsh_client_share)


def _decode_suspended(plan: Plan, u: np.ndarray) -> np.ndarray:
    return u < np.float64(plan.sc.market.client_suspension_rate)


# Comparisons use numpy float64 scalars, never bare Python floats, which numpy 2 would round to
# float32 before comparing with a float32 uniform.
DECODE = {
    "stars": _decode_stars,
    "duration": _decode_duration,
    "left": _decode_left,
    "delay": _decode_delay,
    "client_count": _decode_client_count,
    "harsh": _decode_harsh,
    "suspended": _decode_suspended,
}


def chunk_draws(plan: Plan, first_path: int, n_paths: int) -> Draws:
    """Draws for paths [first_path, first_path + n_paths); first_path is a multiple of BLOCK."""
    return Draws(plan, first_path, n_paths)


def iter_chunks(paths: int, chunk_paths: int) -> Iterator[tuple[int, int]]:
    """(first path, number of paths) of each chunk; chunk_paths is a multiple of BLOCK."""
    for start in range(0, paths, chunk_paths):
        yield start, min(chunk_paths, paths - start)


# -- one arm on one chunk --------------------------------------------------------------------
