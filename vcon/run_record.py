"""What a finished run folder records about itself, and how its readers check it.

`metrics.json` (schema 2) lists the run's other files under "files", each with its sha256 and size,
and carries the sha256 of its own content (vcon.integrity.seal). Readers: a cell that starts from
the run (its model), the aggregation (metrics.json), the workflow's start (`quick_problem`: cheap,
sizes only). Runs written before schema 2 carry no checksums: they get a parse check only.
No torch here.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vcon.run_ids import CELLS_ROOT, RUNS_ROOT
from vcon.integrity import SEAL, DamagedFile, file_record, seal, seal_problem, size_problem, verify_file

METRICS_FILE = "metrics.json"
SCHEMA_VERSION = 2
UNSEALED_VERSION = 1  # metrics.json as written before checksums: read, with a parse check only
READABLE_VERSIONS = (UNSEALED_VERSION, SCHEMA_VERSION)


def sealed_metrics(metrics: dict[str, Any], run_dir: Path, files: Iterable[str]) -> dict[str, Any]:
    """`metrics` (without schema_version) as schema 2: the records of `files` (names in `run_dir`,
    already written) and the seal of the whole."""
    records = {name: file_record(Path(run_dir) / name) for name in files}
    return seal({"schema_version": SCHEMA_VERSION, **metrics, "files": records})


def metrics_problem(path: Path) -> tuple[dict[str, Any] | None, str]:
    """(metrics, "") or (None, why this metrics.json cannot be used): unreadable, not an object, a
    schema this code does not read, or (schema 2) a content that is not the one written."""
    try:
        metrics = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        return None, f"unreadable metrics.json (truncated or not JSON): {error}"
    if not isinstance(metrics, dict):
        return None, f"metrics.json holds a {type(metrics).__name__}, not an object"
    version = metrics.get("schema_version")
    if version not in READABLE_VERSIONS:
        return None, (f"metrics.json has schema_version {version!r}; this code reads "
                      f"{' and '.join(map(str, READABLE_VERSIONS))}")
    # A schema-1 file carries no seal: one that does (a version changed after writing) is checked too.
    problem = seal_problem(metrics) if version == SCHEMA_VERSION or SEAL in metrics else ""
    if problem:
        return None, f"metrics.json is damaged: {problem}"
    return metrics, ""


def quick_problem(run_dir: Path) -> str:
    """Why a finished run (one with a metrics.json) is damaged, from what is cheap to check: its
    metrics.json in full, the presence and size of every file it records; "" if none is seen."""
    run_dir = Path(run_dir)
    metrics, problem = metrics_problem(run_dir / METRICS_FILE)
    if metrics is None:
        return problem
    for name, record in (metrics.get("files") or {}).items():
        problem = size_problem(run_dir / name, record)
        if problem:
            return f"{name}: {problem}"
    return ""


def rebuild_command(run_dir: Path) -> str:
    """How to make the run in `run_dir` again: its Snakemake target with --forcerun when it sits in
    the workflow's layout (RUNS_ROOT/<run id>), and `vcon train --force`."""
    text = Path(run_dir).as_posix().rstrip("/")
    base, found, run_id = text.rpartition(f"{RUNS_ROOT}/")
    if found and (not base or base.endswith("/")):
        return (f"Rebuild it with `snakemake --forcerun {text}/{METRICS_FILE}` (add the --configfile of your grid), "
                f"or for this run alone `vcon train --config {base}{CELLS_ROOT}/{run_id}.yaml --out {text} --force`")
    return (f"Rebuild it with `vcon train --config CELL.yaml --out {text} --force`, CELL.yaml the config it was "
            f"made from")


def load_metrics(run_dir: Path, what: str) -> dict[str, Any]:
    """The metrics.json of a finished run, checked; DamagedFile names `what` the run is."""
    path = Path(run_dir) / METRICS_FILE
    metrics, problem = metrics_problem(path)
    if metrics is None:
        raise DamagedFile(path, f"the metrics of {what}", problem.removeprefix("metrics.json is damaged: "),
                          rebuild_command(Path(run_dir)))
    return metrics


def verify_recorded(run_dir: Path, name: str, metrics: dict[str, Any], what: str) -> None:
    """Check file `name` of the run against its record in `metrics` (sha256 and size). Runs written
    before schema 2 record nothing: their readers only find out whether the file parses."""
    if metrics.get("schema_version") != SCHEMA_VERSION:
        return
    record = (metrics.get("files") or {}).get(name)
    path = Path(run_dir) / name
    if record is None:
        raise DamagedFile(path, what, f"{METRICS_FILE} records no checksum of it", rebuild_command(Path(run_dir)))
    verify_file(path, record, what, rebuild_command(Path(run_dir)))
