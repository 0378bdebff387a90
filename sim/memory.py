"""Peak memory of a run, counted from the shapes the engine and the market allocate.

`estimate_bytes` is what a scenario is checked against before anything is allocated (the CLI's
8 GiB budget, the dashboard's per-run budget). Each term names the arrays it stands for, so that
a change of shape in the engine is a change here; tests/test_memory.py runs real scenarios
(window arms with a long last_n, large markets, long horizons, many arms) and holds their
measured peak within this estimate.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .scenario import Scenario

__all__ = ["BASE_BYTES", "estimate_bytes", "memory_terms"]

BASE_BYTES = 64 * 2**20  # the interpreter's own growth during a run, small arrays, allocator slack
F8, F4 = 8, 4  # float64 / int64, float32
# sample_field and utility hold about ten full-shape arrays (stars, reviews, band, badge, price,
# their utility terms) at their peak: 12 x 8 bytes a competitor slot, with room for temporaries
SAMPLING_BYTES_PER_APPLICANT = 12 * F8
GRID_SPLIT = 16  # build_market evaluates the win probability grid in this many slices
GRID_TEMPORARIES = 4  # x, 0.5 x, tanh(.), 1 + tanh(.): at most alive at once per slice


def _market(sc: Scenario) -> int:
    """The market's peak: sampling the field (every applicant's signals), or tabulating q on the
    grid, a (GRID_POINTS / GRID_SPLIT) x field_size slice at a time while the field's utilities
    are still held."""
    from .market import GRID_POINTS

    jobs, slots = sc.market.field_size, max(sc.market.competitors, 1)
    applicants = jobs * slots
    sampling = applicants * SAMPLING_BYTES_PER_APPLICANT
    grid_slice = math.ceil(GRID_POINTS / GRID_SPLIT) * jobs * F8 * GRID_TEMPORARIES
    tabulating = applicants * F8 + grid_slice + jobs * 4 * F8  # v, a slice, log sums per job
    return max(sampling, tabulating)


def _per_chunk_path(sc: Scenario) -> dict[str, int]:
    """Bytes per path of one chunk's working set, by what holds them."""
    from .design import capacity_bound, proposals_bound
    from .scenario import job_ring_weeks

    weeks, arms = sc.run.weeks, len(sc.arms)
    cap, slots = capacity_bound(sc), max(proposals_bound(sc), 1)  # the design's largest
    delay_cols = cap * (sc.signals.feedback_delay_weeks + 1)
    ring = max(job_ring_weeks(sc, getattr(a, "last_weeks", None) or 0) for a in sc.arms)
    return {
        # Draws.proposal_u (W, S, N) float32 and its block buffer as drawn, laid out
        "proposal draws": weeks * slots * F4 * 2,
        # Draws.u: contract uniforms by ordinal, 7 float32 rows at most per contract
        "contract draws": cap * weeks * 7 * F4,
        # ArmKernel.buckets and value_buckets: end-week buckets by star level, per arm
        "end-week buckets": arms * ring * (10 + 5) * F8,
        # running sums per JSS window and trending window
        "window sums": arms * 5 * 10 * F8,
        # a chunk's weekly codes, kept for the histograms
        "weekly codes": weeks * 24 * arms,
        # the history mask and its per-contract statistics, per row
        "history": len(sc.history) * F8 * 4 * arms,
        # window rules over the last n ratings: ring_item and ring_end, int64 (n, last_n) each,
        # for every such arm (they do not stack)
        "last-n rings": sum(
            2 * F8 * a.last_n for a in sc.arms if getattr(a, "last_n", None) is not None
        ),
        # suspended-client rules with a delay: susp_queue (delay + 1, n, capacity x ring) int64
        "suspension queues": sum(
            (a.delay_weeks + 1) * delay_cols * ring * F8
            for a in sc.arms
            if a.rule == "suspended_client"
        ),
        # a population's own contract uniforms, 5 float32 rows (sim/population_engine.py), and
        # its removal queues (delay + 1, n, capacity x (feedback delay + 1)) int64
        "population draws": cap * weeks * 5 * F4 + F8 if sc.population is not None else 0,
        "removal queues": sum(
            (a.delay_weeks + 1) * delay_cols * F8
            for a in sc.arms
            if a.rule == "oracle" or (a.rule == "exclude_flagged" and sc.population is not None)
        ),
    }


def memory_terms(sc: Scenario) -> dict[str, int]:
    """The estimate's parts, in bytes: what one run holds at its peak, term by term."""
    from .design import capacity_bound

    paths, weeks, arms = sc.run.paths, sc.run.weeks, len(sc.arms)
    cap = capacity_bound(sc)
    chunk = min(paths, sc.run.chunk_paths)
    # counts per week and bin (stars, jss, win_prob, active, jobs, earnings, badges), and the
    # cumulative copy that bands() makes
    bins = 501 + 101 + 10_001 + (cap + 1) + 2 * (cap * weeks + 1) + 4
    return {
        "per-path results": paths * arms * 8 * F8,  # six horizon values, contract-weeks, recovery
        "weekly histograms": arms * weeks * bins * F8 * 2,
        "chunk working set": chunk * sum(_per_chunk_path(sc).values()),
        "market": _market(sc),
        "base": BASE_BYTES,
    }


def estimate_bytes(sc: Scenario) -> int:
    """Peak bytes a run is expected to need; checked before anything is allocated."""
    return int(sum(memory_terms(sc).values()))
