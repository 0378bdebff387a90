"""The contract ledger: contracts in their slots, contracts ending, feedback on its way, wins."""

from __future__ import annotations

import numpy as np

__all__ = ["ContractLedger", "float32_ceiling", "slot_wins"]


class ContractLedger:
    """`ArmKernel`'s contracts (sim/engine.py): each row's contracts in their slots, the
    contracts that end and the feedback they send on its way, proposals won and new contracts.

    Reads the kernel's plan, draws (``d``), arms and rows; `work` tells the badges what each
    week's work was (`Badges._count_work`).
    """

    def _init_contracts(self) -> None:
        plan, n, c = self.plan, self.n, self.plan.capacity
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
        self.jobs = np.zeros(n, dtype=np.int16)
        self.contract_weeks = np.zeros(n, dtype=np.int16)

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

    def _feedback_due(self, t: int) -> tuple[np.ndarray, ...] | None:
        """Week t's feedback, taken off the schedule: (paths, contract ordinals, source
        columns), or None when none arrives."""
        idx, k, col, week = self.due
        now = week == t
        if not now.any():
            return None
        later = ~now
        self.due = [a[later] for a in self.due]
        return idx[now], k[now], col[now]

    def work(self, t: int, q: np.ndarray) -> np.ndarray:
        """Proposals, wins, new contracts, earnings; returns the active count."""
        c = self.plan.capacity
        active = self.active
        # summing the bools as int8 is exact (at most 100 slots) and several times faster
        u = self.d.proposals(t)  # (slots, paths), shared by the stacked arms
        below = np.less(u, float32_ceiling(q).reshape(len(self.arms), 1, self.paths))
        self.wins = below.view(np.int8).sum(axis=1, dtype=np.int8).reshape(self.n)
        new = np.minimum(self.wins, self.cap - active)  # at capacity, cap - active is 0
        self.new = new
        starters = np.flatnonzero(new > 0)  # on a bool mask: several times faster
        left = new[starters]  # contracts still to place, filling free slots in order
        for j in range(c):
            free = (self.slot_end[j, starters] < 0) & (left > 0)
            take = starters[free]
            if not take.size:
                continue
            k = self.next_ord[take]
            self.d.ensure_rows(take, k)
            self.slot_end[j, take] = t + self.d.attr("duration", self.d.position(take, k))
            self.slot_ord[j, take] = k
            self.next_ord[take] += 1
            left = left - free
        active = active + new
        self.active = active
        self.jobs += new
        self.contract_weeks += active
        self._count_work(t, starters, active)
        return active


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
