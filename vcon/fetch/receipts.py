"""A fetch's receipt: what was fetched, where, and the sha256 and size of each of its files, sealed.

`vcon fetch --receipt FILE` writes it; every later read checks the files against it: `vcon train
--fetched FILE` (the workflow passes each cell's receipts) and `vcon fetch` itself when the data is
there already. A mismatch says what to delete and the command that fetches it again. ImageNet is
not hashed: it is placed by hand and far too large to read in full before every job.
"""
from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from vcon.data import imagenet
from vcon.fetch.sources import CHECKPOINT, Fetched
from vcon.integrity import SEAL, DamagedFile, file_problem, file_record, seal, seal_problem

UNHASHED = {imagenet.NAME}


def files_of(where: Path) -> dict[str, dict[str, Any]]:
    """Each file under `where` (following the hub cache's links to its blobs) -> its sha256 and size."""
    return {path.relative_to(where).as_posix(): file_record(path)
            for path in sorted(Path(where).rglob("*")) if path.is_file()}


def receipt(fetched: Fetched, root: str | None, when: str, host: str) -> dict[str, Any]:
    """The sealed receipt of `fetched`, fetched with `--root root` (None: from the environment)."""
    where = Path(fetched.where).resolve()
    return seal({
        "what": fetched.what, "kind": fetched.kind, "where": str(where), "source": fetched.source,
        "downloaded": fetched.downloaded, "when": when, "host": host, "root": root,
        "files": None if fetched.what in UNHASHED else files_of(where),
    })


def _to_delete(data: dict[str, Any]) -> Path:
    """What to remove before fetching again: the data set's folder, or a checkpoint's whole cache
    folder (models--owner--name), since the hub cache keeps its blobs beside the snapshot."""
    where = Path(data["where"])
    if data.get("kind") == CHECKPOINT and where.parents[1].name.startswith("models--"):
        return where.parents[1]
    return where


def refetch(data: dict[str, Any], receipt_path: Path) -> str:
    command = ["vcon", "fetch", *([CHECKPOINT] if data.get("kind") == CHECKPOINT else []), str(data["what"])]
    command += ["--root", data["root"]] if data.get("root") else []
    command += ["--receipt", str(receipt_path)]
    folder = _to_delete(data)
    return f"Delete {folder} and fetch it again: `rm -r {shlex.quote(str(folder))} && {shlex.join(command)}`"


def read_receipt(path: Path) -> dict[str, Any]:
    """A receipt, its seal checked (one written before receipts were sealed is taken as it is)."""
    what = "the receipt of a `vcon fetch`"
    rebuild = (f"Fetch again with `vcon fetch ... --receipt {path}` (in the workflow: `snakemake --forcerun {path}`, "
               f"with the --configfile of your grid)")
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise DamagedFile(path, what, f"it cannot be read ({error})", rebuild) from None
    if not isinstance(data, dict) or "where" not in data:
        raise DamagedFile(path, what, "it is not a receipt", rebuild)
    problem = seal_problem(data) if SEAL in data or "files" in data else ""
    if problem:
        raise DamagedFile(path, what, problem, rebuild)
    return data


def verify(path: Path) -> None:
    """Check every file a receipt records (size, then sha256); DamagedFile on the first that differs."""
    data = read_receipt(Path(path))
    for name, record in (data.get("files") or {}).items():
        problem = file_problem(Path(data["where"]) / name, record, "fetched")
        if problem:
            raise DamagedFile(Path(data["where"]) / name, f"a file of {data['what']} as fetched (receipt {path})",
                              problem, refetch(data, Path(path)))
