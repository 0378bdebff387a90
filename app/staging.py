"""The output folder a command writes: staged beside its place, moved in whole, never half-written;
the progress bar on stderr."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import hashlib
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from sim import ScenarioError


def _problem(source: str, key: str, message: str) -> ScenarioError:
    return ScenarioError([(source, key, message)])


# -- progress ---------------------------------------------------------------------------------


class Progress:
    """A one-line bar on stderr when it is a terminal; silent otherwise."""

    WIDTH = 30

    def __init__(self, label: str, unit: str, stream: TextIO | None = None):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label, self.unit = label, unit
        self._last, self._drawn = 0.0, False
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            now = time.monotonic()
            if done < total and now - self._last < 0.1:
                return
            self._last, self._drawn = now, True
            filled = self.WIDTH * done // max(total, 1)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r{self.label} [{bar}] {done:,}/{total:,} {self.unit}")
            self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- files: staged output folder, stable bytes ------------------------------------------------


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class OutputError(Exception):
    """The output folder cannot be written (disk full, permissions); names the folder."""


MAX_NAME = 255 - 40  # the temporary folder's name adds a dot, the pid, a random part and .tmp
MAX_PATH = 4000


def _check_out_name(out: Path) -> None:
    """Refuse an --out whose name the file system cannot hold beside our temporary folders."""
    text = str(out)
    if len(os.fsencode(text)) > MAX_PATH:
        raise _problem("--out", text[:60] + "...", f"path too long (at most {MAX_PATH} bytes)")
    for part in out.parts:
        if len(os.fsencode(part)) > MAX_NAME:
            raise _problem(
                "--out", part[:60] + "...", f"folder name too long (at most {MAX_NAME} bytes)"
            )


def _holds(folder: Path, path: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _check_out(out: Path, force: bool, keep: Sequence[Path] = ()) -> None:
    """Refuse a file, a non-empty folder without --force, or a folder that holds our inputs."""
    _check_out_name(out)
    try:
        if out.exists() and not out.is_dir():
            raise _problem("--out", str(out), "is a file, not a folder")
        if not (out.is_dir() and any(out.iterdir())):
            return
    except OSError as e:
        raise _problem("--out", str(out), f"cannot use this folder ({e.strerror})") from None
    if not force:
        raise _problem("--out", str(out), "exists and is not empty; pass --force to replace it")
    for path in (Path.cwd(), *keep):
        if _holds(out, path):
            raise _problem("--out", str(out), f"holds {path}; refusing to replace it")


def _make_parents(parent: Path) -> list[Path]:
    """Create `parent` and missing ancestors; the ones created, outermost first."""
    try:
        if parent.exists() and not parent.is_dir():
            raise _problem("--out", str(parent), "is a file, not a folder")
        missing = [p for p in (parent, *parent.parents) if not p.exists()][::-1]
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _problem("--out", str(parent), f"cannot create the folder ({e.strerror})") from None
    return missing


def _temp_prefix(out: Path, pid: int | None = None) -> str:
    """Temporary folders beside `out` are `.NAME.PID.RANDOM.tmp`: the pid tells a live run's
    folder from one left by a killed run."""
    return f".{out.name}.{os.getpid() if pid is None else pid}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


_LEFTOVER = re.compile(r"(?P<pid>[0-9]+)\.[A-Za-z0-9_]{8}\.(?P<kind>tmp|old)")


def clean_leftovers(out: Path, report: TextIO | None = None) -> list[Path]:
    """Remove the temporary folders beside `out` that runs killed before their end left behind
    (their pid is gone), restoring `out` from a set-aside `.old` folder when `out` is missing;
    report each on stderr. Folders of a live run are left alone. Returns the folders handled."""
    report = sys.stderr if report is None else report
    handled = []
    try:
        candidates = sorted(out.parent.glob(f".{glob.escape(out.name)}.*"))
    except OSError:
        return handled
    for path in candidates:
        # exactly `.NAME.PID.RANDOM.tmp|old`: not the folders of another DIR named NAME.x
        found = _LEFTOVER.fullmatch(path.name[len(out.name) + 2 :])
        if found is None or not path.is_dir() or _alive(int(found["pid"])):
            continue
        if found["kind"] == "old" and not out.exists():
            os.rename(path, out)
            print(
                f"repsim: restored {out} from {path.name}, left by an interrupted run", file=report
            )
        else:
            shutil.rmtree(path, ignore_errors=True)
            print(f"repsim: removed {path}, left by an interrupted run", file=report)
        handled.append(path)
    return handled


def _make_temp(out: Path) -> Path:
    try:
        tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(out), suffix=".tmp", dir=out.parent))
    except OSError as e:
        raise _problem("--out", str(out.parent), f"cannot write here ({e.strerror})") from None
    tmp.chmod(0o777 & ~_umask())
    return tmp


AT_FDCWD, RENAME_EXCHANGE = -100, 2


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux renameat2 RENAME_EXCHANGE): readers see the old or
    the new, never neither. False where the system or file system cannot; nothing changed then."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    done = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if done == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _move_into_place(tmp: Path, out: Path, force: bool) -> None:
    """Rename the finished folder to `out`; with --force the two are swapped in one step where
    the system allows it (else the old one goes aside, then away), and the old one is deleted."""
    if not (out.is_dir() and any(out.iterdir())):
        os.replace(tmp, out)  # absent, or an empty folder
        return
    if not force:
        raise _problem("--out", str(out), "exists and is not empty; pass --force to replace it")
    if exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # now the old results
        return
    old = tmp.with_suffix(".old")
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged(out: Path, force: bool, keep: Sequence[Path] = ()) -> Iterator[Path]:
    """A temporary folder beside `out`, renamed into place if the block succeeds, else removed."""
    clean_leftovers(out)
    _check_out(out, force, keep)
    created = _make_parents(out.parent)
    tmp = None
    try:
        tmp = _make_temp(out)
        yield tmp
        _move_into_place(tmp, out, force)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


class Folder:
    """Writes files under a root and remembers each one's sha256 for the manifest; a failed
    write (a full disk) is an `OutputError` naming the output folder."""

    def __init__(self, root: Path, shown: Path | None = None):
        self.root = root
        self.shown = root if shown is None else shown
        self.hashes: dict[str, str] = {}

    def write(self, name: str, data: bytes) -> None:
        path = self.root / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as e:
            raise OutputError(
                f"cannot write {self.shown}/{name}: {e.strerror or e}; nothing was written "
                f"to {self.shown}"
            ) from None
        self.hashes[name] = hashlib.sha256(data).hexdigest()
