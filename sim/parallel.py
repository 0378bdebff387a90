"""Chunks balanced across an executor's workers: how many workers an executor has, the chunk
size that gives each of them the same number of equal chunks, and the chunks' results in path
order (`parts_in_order`, shared by `sim.run`, the policy lab's run and the dispute's)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import Any

from .draws import BLOCK, iter_chunks

__all__ = [
    "balanced_chunk_paths",
    "chunks_for",
    "executor_workers",
    "parts_in_order",
    "shipped_once",
]


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


def chunks_for(paths: int, chunk_paths: int, executor: Executor | None) -> list[tuple[int, int]]:
    """(first path, paths) of each chunk of a run: ``chunk_paths`` each, or, on ``executor``,
    balanced across its workers (`balanced_chunk_paths`)."""
    if executor is not None:
        chunk_paths = balanced_chunk_paths(paths, chunk_paths, executor_workers(executor) or 1)
    return list(iter_chunks(paths, chunk_paths))


def parts_in_order(
    executor: Executor, task: Callable[..., Any], chunks: list[tuple[int, int]], shared: Any
) -> Iterator[tuple[int, int, Any]]:
    """(first, n, ``task(first, n, shared)``) for each chunk, in path order, computed on
    ``executor``: ``shared`` (the run's market) is shipped once (`shipped_once`), and each part
    is dropped from here once it is handed over, so that memory stays bounded by the parts not
    yet merged."""
    shipped = shipped_once(executor, shared)
    futures = [executor.submit(task, first, n, shipped) for first, n in chunks]
    for first, n in chunks:
        yield first, n, futures.pop(0).result()
