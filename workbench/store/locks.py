"""One writer per store: an advisory lock on a file beside the DuckDB file.

DuckDB 2.0 lets a second process open a file that another process is writing, and each then
works on its own view of it, so writes are lost. Every workbench connection therefore takes a
``flock`` on ``<db>.lock`` first: exclusive for writers, shared for readers, never waiting, so a
conflicting command fails at once with the holder's PID, host and command. The kernel drops the
lock when its process dies, SIGKILL included, so a crash never leaves the store locked.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from ..errors import StoreBusy


def lock_path(db_path: Path) -> Path:
    return Path(str(db_path) + ".lock")


def holder(db_path: Path) -> dict:
    try:
        return json.loads(lock_path(db_path).read_text() or "{}")
    except (OSError, ValueError):
        return {}


def describe(info: dict) -> str:
    if not info:
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("since", 0)))
    return (f"PID {info.get('pid')} on {info.get('host')} ({info.get('command', '?')}, "
            f"since {since})")


class StoreLock:
    def __init__(self, db_path: Path, exclusive: bool):
        self.db_path = Path(db_path)
        self.exclusive = exclusive
        self._fh = None

    def acquire(self) -> "StoreLock":
        path = lock_path(self.db_path)
        fh = open(path, "a+")
        mode = fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fh.fileno(), mode | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            info = holder(self.db_path)
            if self.exclusive and not info.get("writing"):
                raise StoreBusy(f"{self.db_path} is open for reading by another process; "
                                "try again when it has finished") from None
            raise StoreBusy(f"{self.db_path} is being written by {describe(info)}; wait for "
                            "it to finish, or stop it (a stopped run can be resumed)") from None
        if self.exclusive:
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "command": " ".join(sys.argv)[:300], "since": time.time(),
                                 "writing": True}))
            fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is None:
            return
        if self.exclusive:
            self._fh.seek(0)
            self._fh.truncate()
            self._fh.flush()
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()
        self._fh = None


def ensure_free(db_path: Path, exclusive: bool = True) -> None:
    """Fail now if the store is held in a conflicting way; holds nothing and creates nothing.

    Stages call this before loading models, so a busy store is reported in well under a second;
    the real lock is taken when the store opens.
    """
    if lock_path(db_path).exists():
        StoreLock(db_path, exclusive).acquire().release()
