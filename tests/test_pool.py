"""The self-healing pool's view of its workers (app/pool.py): a killed worker counts as dead from
the moment the kernel ends it, not only once its exit code has come back through the forkserver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass

import pytest

from app import pool

linux_pidfd = pytest.mark.skipif(
    not hasattr(os, "pidfd_open"), reason="pidfds are Linux's (elsewhere: the exit code alone)"
)


@dataclass
class Worker:
    """A worker as the pool holds it, whose exit code has not arrived yet (as a forkserver's
    child looks between its death and the forkserver's report)."""

    pid: int
    exitcode: int | None = None


class Executor:
    def __init__(self, *workers: Worker):
        self._processes = {w.pid: w for w in workers}


@pytest.fixture
def child():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


@linux_pidfd
def test_a_killed_worker_is_dead_before_it_is_reaped(child):
    live, victim = Worker(os.getpid()), Worker(child.pid)
    assert not pool._ended(live) and not pool._ended(victim)
    assert not pool._dead_worker(Executor(live, victim))
    os.kill(child.pid, signal.SIGKILL)
    # until the process has ended, without reaping it: a zombie whose exit code nobody has read
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    assert victim.exitcode is None
    assert pool._ended(victim)
    assert pool._dead_worker(Executor(live, victim))
    child.wait()  # reaped: the pid is gone
    assert pool._ended(victim)


def test_a_worker_with_an_exit_code_is_dead():
    assert pool._ended(Worker(os.getpid(), exitcode=-9))
    assert pool._dead_worker(Executor(Worker(os.getpid()), Worker(os.getpid(), exitcode=1)))
