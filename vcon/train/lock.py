"""One process per run folder: an exclusive `flock` on DIR/.lock that names its holder.

The kernel drops the lock when its holder dies (even by SIGKILL), so a killed run never blocks
the next one. The file is removed on release; a taker checks that the file it locked is still the
one at DIR/.lock, so removing it cannot let two processes hold the lock at once.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

LOCK_FILE = ".lock"


class RunLockedError(RuntimeError):
    """Another live process holds the run folder's lock."""


def _holder_text() -> str:
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started": started}) + "\n"


def _describe_holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text())
        return f"host {holder['host']}, pid {holder['pid']}, started {holder['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not written its name yet"


class RunLock:
    """`with RunLock(out_dir):` holds DIR/.lock exclusively or raises RunLockedError at once."""

    def __init__(self, out_dir: Path) -> None:
        self.path = Path(out_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise RunLockedError(
                    f"{self.path.parent} is in use by another `vcon train` ({_describe_holder(self.path)}); "
                    f"wait for it to finish or stop it, or choose another --out"
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder removed the file we opened: lock the new one
        os.ftruncate(fd, 0)
        os.write(fd, _holder_text().encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.release()
