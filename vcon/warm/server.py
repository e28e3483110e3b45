"""The warm worker: `python -m vcon.warm.server --socket PATH --key KEY [--idle SECONDS]`.

It imports the heavy libraries once, then forks one child per connection. The child takes the
caller's stdin/stdout/stderr (passed over the socket), working directory, environment, umask and
argv, runs the command in-process (`vcon.commands.run_command`, so it never asks a worker again) and
sends back its exit code. Signals the caller receives arrive as
messages and are raised in the child; a caller that disappears is treated as SIGTERM (the trainer
then saves its checkpoint and stops).
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path

from vcon.warm import IDLE_SECONDS, worker_key

# What a cell would import anyway; a library that is not installed is skipped.
PRELOAD = ("torch", "vcon.train.run", "vcon.train.cli", "timm.models.vision_transformer",
           "transformers.models.bert.modeling_bert", "transformers.models.vit.modeling_vit")
REQUEST_BYTES = 1 << 20


def preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _exit_code(argv: list[str]) -> int:
    from vcon.commands import run_command

    try:
        return int(run_command(argv) or 0)
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except BaseException:  # noqa: BLE001 - the caller gets the traceback and a failing exit code
        traceback.print_exc()
        return 1


def _relay_signals(conn: socket.socket) -> None:
    while True:
        try:
            message = conn.recv(64)
        except OSError:
            message = b""
        if not message:  # the caller is gone
            os.kill(os.getpid(), signal.SIGTERM)
            return
        for number in message:
            os.kill(os.getpid(), number)


def _run_child(conn: socket.socket) -> None:
    """In the forked child: adopt the caller's process state, run the command, report, exit."""
    code, started = 1, False
    try:
        data, fds, _, _ = socket.recv_fds(conn, REQUEST_BYTES, 3)
        request = json.loads(data)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdout.reconfigure(line_buffering=os.isatty(1))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.umask(request["umask"])
        sys.argv = request["sys_argv"]
        conn.send(json.dumps({"started": os.getpid()}).encode())
        started = True
        threading.Thread(target=_relay_signals, args=(conn,), daemon=True).start()
        code = _exit_code(request["argv"])
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        if started:  # before that, the caller runs the cell itself
            try:
                conn.send(json.dumps({"exit": code}).encode())
            except OSError:
                pass
        os._exit(code)


def serve(path: Path, key: str, idle_seconds: float) -> int:
    environ = dict(os.environ)  # as the caller had it: libraries may set variables as they load
    preload()
    if worker_key(environ=environ) != key:  # the sources changed while this worker was importing them
        print(f"vcon warm worker: sources changed during start-up; not serving {path}", file=sys.stderr)
        return 3
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    staging = path.with_name(f"{path.name}.{os.getpid()}")
    listener.bind(str(staging))
    listener.listen(16)
    os.replace(staging, path)  # callers only ever find a socket that is ready
    inode, owner = path.stat().st_ino, os.getpid()
    listener.settimeout(idle_seconds)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGTERM, _exit_on_signal)  # run the clean-up below; children are not affected
    print(f"vcon warm worker {os.getpid()}: serving {path}", file=sys.stderr, flush=True)
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                break
            if not _still_ours(path, inode):
                conn.close()  # the caller sees no start message and runs the cell itself
                break
            conn.setblocking(True)
            print(f"{time.strftime('%H:%M:%S')} request", file=sys.stderr, flush=True)
            sys.stdout.flush()
            if os.fork() == 0:
                listener.close()
                for number in (signal.SIGCHLD, signal.SIGTERM):
                    signal.signal(number, signal.SIG_DFL)
                _run_child(conn)
            conn.close()
    finally:
        if os.getpid() == owner and _still_ours(path, inode):  # not in a child the signal caught mid-fork
            path.unlink()
            path.with_suffix(".lock").unlink(missing_ok=True)
    print(f"vcon warm worker {os.getpid()}: idle for {idle_seconds:g} s, exiting", file=sys.stderr, flush=True)
    return 0


def _exit_on_signal(number: int, frame: object) -> None:
    raise SystemExit(128 + number)


def _still_ours(path: Path, inode: int) -> bool:
    try:
        return path.stat().st_ino == inode
    except FileNotFoundError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vcon.warm.server", description=__doc__.splitlines()[0])
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS, help="exit after this many seconds without a request")
    args = parser.parse_args(argv)
    return serve(args.socket, args.key, args.idle)


if __name__ == "__main__":
    sys.exit(main())
