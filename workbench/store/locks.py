"""Who may touch the store, and when: two locks beside the DuckDB file, both from ``filelock``.

- The **writer lock** (``<db>.lock``, a ``FileLock``): one writing command at a time, held from
  its start to its end. Never waited for: a second writer is refused at once, naming the holder
  (PID, host, command) that ``<db>.lock.json`` records.
- The **access lock** (``<db>.access``, a ``ReadWriteLock``): held while the DuckDB file is
  open, shared by readers, exclusive for each of the writer's sessions (reading its input,
  committing a chunk). Waits for it are bounded.

DuckDB 2.0 lets a second process open a file that another process is writing, and each then
works on its own view of it, so nobody opens the file without the access lock. Because a writer
holds the file only while it commits, readers see every committed chunk of a long run. Both
locks are released by the kernel when their process dies (``flock`` and SQLite's POSIX locks),
SIGKILL included, so a crash never leaves the store locked.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import filelock

from ..config import seconds_from_env
from ..errors import StoreBusy, StoreError

READ_WAIT, WRITE_WAIT = 30.0, 120.0  # seconds a reader, a writer's session waits (defaults)


def lock_path(db_path: Path) -> Path:
    return Path(str(db_path) + ".lock")


def holder_path(db_path: Path) -> Path:
    return Path(str(db_path) + ".lock.json")


def access_path(db_path: Path) -> Path:
    return Path(str(db_path) + ".access")


def unlockable(db_path: Path, path: Path, why: OSError | str) -> StoreError:
    """A lock file that cannot be made (a read-only folder, a name taken by a folder)."""
    why = why if isinstance(why, str) else (why.strerror or str(why))
    return StoreError(f"{db_path}: cannot create its lock file {path} ({why}); the store's "
                      "folder must be writable (copy the store somewhere that is)")


def holder(db_path: Path) -> dict:
    """What the writer lock's holder recorded about itself ({} if nothing)."""
    try:
        return json.loads(holder_path(db_path).read_text() or "{}")
    except (OSError, ValueError):
        return {}


def describe(info: dict) -> str:
    if not info:
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("since", 0)))
    return (f"PID {info.get('pid')} on {info.get('host')} ({info.get('command', '?')}, "
            f"since {since})")


class WriterLock:
    """The store's one writer, for the length of a command."""

    def __init__(self, db_path: Path):
        self.db_path = Path(db_path)
        self._lock = filelock.FileLock(lock_path(self.db_path), timeout=0)

    def acquire(self) -> "WriterLock":
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise StoreBusy(f"{self.db_path} is being written by {describe(holder(self.db_path))}"
                            "; wait for it to finish, or stop it (a stopped run can be "
                            "resumed)") from None
        except OSError as err:
            raise unlockable(self.db_path, lock_path(self.db_path), err) from None
        holder_path(self.db_path).write_text(json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(),
            "command": " ".join(sys.argv)[:300], "since": time.time()}))
        return self

    def release(self) -> None:
        if self._lock.is_locked:
            holder_path(self.db_path).unlink(missing_ok=True)
            self._lock.release()


def writer_active(db_path: Path) -> dict | None:
    """The live writer's record if a process holds the writer lock now, else None."""
    if not lock_path(db_path).exists():
        return None
    probe = filelock.FileLock(lock_path(db_path), timeout=0)
    try:
        probe.acquire()
    except filelock.Timeout:  # an OSError too: caught first
        return holder(db_path) or {"pid": None}
    except OSError as err:
        raise unlockable(db_path, lock_path(db_path), err) from None
    probe.release()
    return None


def ensure_free(db_path: Path) -> None:
    """Fail now if another process writes the store; holds nothing and creates nothing.

    Stages call this before loading models, so a busy store is reported in well under a second.
    """
    folder = next(p for p in Path(db_path).absolute().parents if p.is_dir())
    if not os.access(folder, os.W_OK):  # checked before a model loads (EROFS too)
        raise unlockable(db_path, lock_path(db_path), f"{folder} is not writable")
    info = writer_active(db_path)
    if info is not None:
        raise StoreBusy(f"{db_path} is being written by {describe(info)}; wait for it to "
                        "finish, or stop it (a stopped run can be resumed)")


def on_wait(db_path: Path, exclusive: bool) -> None:
    """Called when an access lock is not free at once, before the bounded wait for it (a seam:
    tests replace it to see the wait begin, instead of timing it)."""


@contextmanager
def access(db_path: Path, *, exclusive: bool, wait: float | None = None):
    """Hold the access lock while the block has the DuckDB file open."""
    if wait is None:  # read when the store is opened, so a bad value is one error line
        wait = (seconds_from_env("WORKBENCH_WRITE_WAIT", WRITE_WAIT) if exclusive
                else seconds_from_env("WORKBENCH_READ_WAIT", READ_WAIT))
    try:
        lock = filelock.ReadWriteLock(access_path(db_path), timeout=wait, is_singleton=False)
        take = lock.acquire_write if exclusive else lock.acquire_read
        try:
            take(timeout=0)
        except filelock.Timeout:
            on_wait(db_path, exclusive)
            take()
    except filelock.Timeout:  # an OSError too: caught first
        busy = ("being read by another process" if exclusive else
                f"being written by {describe(holder(db_path))}")
        raise StoreBusy(f"{db_path} is {busy} and was not free within {wait:.0f} s; try again "
                        "when it has finished") from None
    except OSError as err:
        raise unlockable(db_path, access_path(db_path), err) from None
    try:
        yield
    finally:
        lock.release()
        lock.close()
