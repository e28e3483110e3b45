"""Checksums of the files one job writes and another reads.

A writer records each such file's sha256 and size once it is written (atomically); a reader checks
them before use. A file that fails the check is a `DamagedFile`: its message names the file, what
it is, what is wrong and the command that rebuilds it. A JSON record carries its own checksum
(`seal`): the sha256 of its content written canonically, so a changed digit or key shows. No torch
here: the workflow, the report and `vcon fetch` use it too.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SEAL = "sha256"  # the key of a sealed JSON object that holds the digest of the rest
CHUNK = 1 << 20


class DamagedFile(ValueError):
    """A file whose content is not what its writer recorded (or that cannot be read at all)."""

    def __init__(self, path: str | Path, what: str, problem: str, rebuild: str) -> None:
        self.path, self.what, self.problem, self.rebuild = str(path), what, problem, rebuild
        super().__init__(f"{path}, {what}, is damaged: {problem}. {rebuild}")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: str | Path) -> dict[str, Any]:
    """What a writer records of a file it has written: {"sha256": hex, "bytes": size}."""
    return {"sha256": sha256_file(path), "bytes": Path(path).stat().st_size}


def size_problem(path: str | Path, record: Mapping[str, Any], event: str = "written") -> str:
    """The cheap check: why the file cannot be the one recorded when it was `event`, from its presence
    and size; "" if it may be."""
    path = Path(path)
    if not path.is_file():
        return "it is missing"
    size = path.stat().st_size
    if size != record.get("bytes"):
        return f"it has {size} bytes, {record.get('bytes')} were recorded when it was {event}"
    return ""


def file_problem(path: str | Path, record: Mapping[str, Any], event: str = "written") -> str:
    """The full check: presence, size, then sha256; "" when the file is the one recorded."""
    problem = size_problem(path, record, event)
    if not problem and sha256_file(path) != record.get("sha256"):
        problem = f"its sha256 does not match the one recorded when it was {event}"
    return problem


def verify_file(path: str | Path, record: Mapping[str, Any], what: str, rebuild: str) -> None:
    """Raise DamagedFile unless `path` is the file `record` describes."""
    problem = file_problem(path, record)
    if problem:
        raise DamagedFile(path, what, problem, rebuild)


def content_digest(data: Mapping[str, Any]) -> str:
    """sha256 of a JSON object written canonically (sorted keys, no spaces): the same for the object
    and for the file it was written to, read back."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def seal(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with its digest under SEAL (which `data` must not hold)."""
    return {**data, SEAL: content_digest(data)}


def seal_problem(data: Mapping[str, Any]) -> str:
    """Why a sealed JSON object read back is not the one written, or ""."""
    recorded = data.get(SEAL)
    if not isinstance(recorded, str):
        return "it holds no sha256 of its content"
    if content_digest({key: value for key, value in data.items() if key != SEAL}) != recorded:
        return "its content does not match the sha256 recorded when it was written"
    return ""
