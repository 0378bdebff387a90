"""A chunk's proposal uniforms, drawn a span of weeks at a time as the engine reaches them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .plan import Plan
from .uniforms import float32_uniforms

__all__ = ["BUFFER_BYTES", "ProposalWeeks"]

BUFFER_BYTES = 2**23  # the weeks drawn at a time fill about this much (at least one week): fewer
# draws than with 2 MiB and fewer fresh pages than the whole horizon (8 MiB: 20 weeks of
# 10,000 paths x 10 slots; measured fastest among 1, 2, 8 and 64 MiB)


class ProposalWeeks:
    """Proposal uniforms of paths [first_path, first_path + n_paths), week by week.

    Block b's proposals are the first ``weeks x p x 256`` float32 uniforms of its generator
    (docs/simulation.md, "Random numbers"), in (week, slot, path) order: week t is one
    contiguous stretch of that stream. So each block keeps a generator of its own at its next
    week, draws a span of weeks when the engine reaches them (``week``), and skips weeks with
    `PCG64.advance`, which moves it exactly as drawing them would. With assumption
    uncertainty a block's design point sends p proposals; the slots above p never win (1.0).
    """

    def __init__(
        self,
        plan: Plan,
        first_path: int,
        n_paths: int,
        block: int,
        generator: Callable[[int, int], np.random.Generator],
    ):
        """``generator(seed, b)``: block b's generator, fresh (`sim.draws.block_generator`)."""
        self._generator = generator
        self.seed, self.weeks, self.slots, self.block = (
            plan.sc.run.seed,
            plan.weeks,
            plan.slots,
            block,
        )
        self.n = n_paths
        self.blocks = []  # (block, columns, paths used, proposals p)
        for start in range(first_path, first_path + n_paths, block):
            b = start // block
            n = min(block, first_path + n_paths - start)
            p = self.slots
            if plan.design is not None:
                p = int(plan.design.proposals[b % plan.design.points])
            self.blocks.append((b, slice(start - first_path, start - first_path + n), n, p))
        self.proposals = {b: p for b, _, _, p in self.blocks}
        per_week = max(1, self.slots * n_paths * 4)
        self.span = int(min(max(BUFFER_BYTES // per_week, 1), max(self.weeks, 1)))
        self.buffer = np.empty((self.span, self.slots, n_paths), dtype=np.float32)
        for _, cols, _, p in self.blocks:
            if p < self.slots:
                self.buffer[:, p:, cols] = 1.0  # slots this block's point does not send
        self.first_week = -1  # the week in buffer[0]; -1: nothing drawn yet
        self.gens: dict[int, tuple[np.random.Generator, int]] = {}  # block: (generator, its week)
        self.partial = np.empty((self.span, self.slots, block), dtype=np.float32)

    def outputs(self, b: int) -> int:
        """How many 64-bit outputs block b's proposals take from its generator (all weeks)."""
        return self.weeks * self.proposals[b] * self.block // 2

    def week(self, t: int) -> np.ndarray:
        """Week t's uniforms, (slots, paths); valid until a week outside the span is asked."""
        if not 0 <= t - self.first_week < self.span or self.first_week < 0:
            self._draw(t)
        return self.buffer[t - self.first_week]

    def _draw(self, t: int) -> None:
        k = min(self.span, self.weeks - t)
        for b, cols, n, p in self.blocks:
            g, at = self.gens.get(b, (None, 0))
            if g is None or at > t:
                g, at = self._generator(self.seed, b), 0
            if at < t:
                g.bit_generator.advance((t - at) * p * self.block // 2)
            if n == self.block:  # straight into place
                float32_uniforms(g, (k, p, self.block), self.buffer[:k, :p, cols])
            else:  # a full block is drawn, its first n paths used
                float32_uniforms(g, (k, p, self.block), self.partial[:k, :p])
                self.buffer[:k, :p, cols] = self.partial[:k, :p, :n]
            self.gens[b] = (g, t + k)
        self.first_week = t

    def all_weeks(self) -> np.ndarray:
        """Every week's uniforms, (weeks, slots, paths): for tests and tools."""
        out = np.empty((self.weeks, self.slots, self.n), dtype=np.float32)
        for t in range(self.weeks):
            out[t] = self.week(t)
        return out
