"""The caller's side of a warm start: find or start the worker, hand it this process's command,
relay signals, and return the child's exit code. Standard library only."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from vcon.atomic import current_umask
from vcon.warm import PACKAGE_DIR, NoWarmStart, private_dir, worker_key

START_SECONDS = 300.0  # importing torch and friends on a loaded machine
RELAYED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGHUP)
RESPONSE_BYTES = 4096


def run_warm(argv: list[str]) -> int | None:
    """Run `vcon ARGV` in a child of the warm worker and return its exit code, or None when no
    worker could take it (then nothing has run and the caller runs the command itself)."""
    try:
        key = worker_key()
        path = private_dir() / f"{key}.sock"
        conn = _connect(path) or _start_worker(path, key)
    except (NoWarmStart, OSError) as error:
        print(f"vcon: running without a warm start: {error}", file=sys.stderr)
        return None
    with conn:
        request = {"argv": argv, "sys_argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ),
                   "umask": current_umask()}
        try:
            socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
            reply = conn.recv(RESPONSE_BYTES)
        except OSError:
            return None
        if not reply:  # the worker went away before starting the cell
            return None
        previous = {number: signal.signal(number, lambda n, _f: _relay(conn, n)) for number in RELAYED_SIGNALS}
        try:
            reply = conn.recv(RESPONSE_BYTES)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    if not reply:
        print("vcon: the warm-started process ended without an exit code (killed?)", file=sys.stderr)
        return 1
    return int(json.loads(reply)["exit"])


def _relay(conn: socket.socket, number: int) -> None:
    with contextlib.suppress(OSError):
        conn.send(bytes([number]))


def _connect(path: Path) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(str(path))
    except OSError:
        conn.close()
        return None
    return conn


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _start_worker(path: Path, key: str) -> socket.socket:
    """Start the worker unless a concurrent caller already did; wait until it serves."""
    with _locked(path.with_suffix(".lock")):
        conn = _connect(path)
        if conn is not None:
            return conn
        path.unlink(missing_ok=True)  # a socket left by a worker that was killed
        log = path.with_suffix(".log")
        with open(log, "w") as output:
            worker = subprocess.Popen(
                [sys.executable, "-m", "vcon.warm.server", "--socket", str(path), "--key", key],
                # from the package's parent folder, so `-m` imports this very package
                stdin=subprocess.DEVNULL, stdout=output, stderr=output, cwd=PACKAGE_DIR.parent,
                start_new_session=True)
        deadline = time.monotonic() + START_SECONDS
        while worker.poll() is None and time.monotonic() < deadline:
            conn = _connect(path)
            if conn is not None:
                return conn
            time.sleep(0.05)
        if worker.poll() is None:
            worker.kill()
        raise NoWarmStart(f"the worker did not start (see {log})")
