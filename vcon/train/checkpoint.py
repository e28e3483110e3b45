"""The resumable checkpoint DIR/checkpoint/resume.pt: written atomically, checked by sha256 before use.

File layout: a fixed-size text header (format, sha256 and length of the payload), then the payload,
a `torch.save` archive of plain data and tensors (loaded with `weights_only=True`).
"""
from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from vcon.atomic import atomic_write

CHECKPOINT_DIR = "checkpoint"
RESUME_FILE = "resume.pt"
MAGIC = b"VCON-CHECKPOINT 1\n"
_HEADER = len(MAGIC) + len("sha256 ") + 64 + 1 + len("bytes ") + 20 + 1
# Keys that change how often a run checkpoints, not what it computes: a resume ignores them.
NOT_COMPARED = ("checkpoint_steps", "checkpoint_minutes")


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be resumed from; the message names the file, the problem and the fix."""


def resume_path(out_dir: Path) -> Path:
    return Path(out_dir) / CHECKPOINT_DIR / RESUME_FILE


class _HashingWriter:
    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()


def write_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Save `state` to `path` atomically, its sha256 in the header."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            handle.write(b"\0" * _HEADER)
            writer = _HashingWriter(handle)
            torch.save(state, writer)
            header = MAGIC + f"sha256 {writer.sha.hexdigest()}\nbytes {writer.size:020d}\n".encode()
            handle.seek(0)
            handle.write(header)

    atomic_write(path, write)


def _broken(path: Path, problem: str) -> CheckpointError:
    return CheckpointError(f"{path}: {problem}; it cannot be resumed from. Delete {path.parent} "
                           f"(or rerun with --force) to train this run from the start")


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The state saved by `write_checkpoint`; raises CheckpointError unless the file is whole."""
    data = path.read_bytes()
    if len(data) < _HEADER or not data.startswith(MAGIC):
        raise _broken(path, "not a vcon checkpoint or truncated inside its header")
    try:
        lines = data[len(MAGIC):_HEADER].decode().splitlines()
        digest = lines[0].removeprefix("sha256 ")
        size = int(lines[1].removeprefix("bytes "))
    except (UnicodeDecodeError, IndexError, ValueError):
        raise _broken(path, "its header is damaged") from None
    payload = memoryview(data)[_HEADER:]
    if len(payload) != size:
        raise _broken(path, f"truncated: {len(payload)} of {size} payload bytes")
    if hashlib.sha256(payload).hexdigest() != digest:
        raise _broken(path, "corrupted: its sha256 does not match the one recorded in it")
    return torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)


def config_difference(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """'key: saved -> current' for each resolved-config key that differs (checkpoint keys aside)."""
    keys = [k for k in dict.fromkeys([*saved, *current]) if k not in NOT_COMPARED]
    return [f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in keys if saved.get(k) != current.get(k)]


def rng_state() -> dict[str, Any]:
    """The global random states (Python, NumPy, torch CPU and CUDA), as plain data and tensors."""
    name, keys, position, has_gauss, gauss = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, gauss],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
