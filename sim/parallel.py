"""Chunks balanced across an executor's workers: how many workers an executor has, and the chunk
size that gives each of them the same number of equal chunks."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from .draws import BLOCK

__all__ = ["balanced_chunk_paths", "executor_workers", "shipped_once"]


def executor_workers(executor: Executor) -> int | None:
    """The number of tasks `executor` runs at once, when it can be told (None otherwise): a
    `concurrent.futures` pool's workers, a Dask client's worker threads."""
    n = getattr(executor, "_max_workers", None)  # ProcessPoolExecutor, ThreadPoolExecutor
    if isinstance(n, int) and n > 0:
        return n
    client = getattr(executor, "_client", None)  # distributed's ClientExecutor
    if client is not None:
        try:
            threads = sum(client.nthreads().values())
        except Exception:  # a closed or unreachable client: leave the chunks as they are
            return None
        return threads or None
    return None


def balanced_chunk_paths(paths: int, chunk_paths: int, workers: int) -> int:
    """A chunk size (a multiple of BLOCK, at most ``chunk_paths``) for which the number of
    chunks is a multiple of ``workers`` (the fewest such) and the chunks are as equal as BLOCK
    allows, so that no worker is left with one more chunk than the others while they wait;
    ``chunk_paths`` when no size does. Results do not depend on it: the engine's random numbers
    are by block of BLOCK paths, whatever the chunk size."""
    if workers <= 1 or paths <= BLOCK:
        return chunk_paths
    blocks = -(-paths // BLOCK)
    needed = -(-paths // chunk_paths)  # chunks of at most chunk_paths
    rounds = -(-needed // workers)
    for chunks in range(rounds * workers, blocks + 1):  # the fewest chunks that divide evenly
        size = -(-blocks // chunks) * BLOCK
        if -(-paths // size) % workers == 0:
            return size
    return chunk_paths  # no size splits evenly: leave the chunks as they were


def shipped_once(executor: Executor, value: Any) -> Any:
    """What to pass to every task for ``value``: on a Dask executor, ``value`` scattered to its
    workers once (a future each task resolves); on any other, ``value`` itself."""
    client = getattr(executor, "_client", None)
    scatter = getattr(client, "scatter", None)
    if scatter is None:
        return value
    return scatter(value, broadcast=True, hash=False)
