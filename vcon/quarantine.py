"""Damaged finished runs, moved aside before the workflow plans its jobs, so that it trains them again.

To Snakemake a run with a metrics.json is finished. At the workflow's start each expected run is
checked cheaply (vcon.run_record.quick_problem: its metrics.json read in full, the files it records
present with their recorded size; the models' sha256 is left to the jobs that read them). A
damaged run's folder is moved whole to QUARANTINE_ROOT/<run id>/<UTC time>/: nothing is deleted,
and the run's output is then missing, so the same command trains it again.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from vcon.run_record import METRICS_FILE, quick_problem

QUARANTINE_ROOT = "results/quarantine"


def damaged_runs(runs_root: str | Path, run_ids: Iterable[str]) -> dict[str, str]:
    """Run id -> why it is damaged, for the finished runs among `run_ids` that are."""
    root = Path(runs_root)
    found = {}
    for run_id in run_ids:
        if (root / run_id / METRICS_FILE).exists():
            problem = quick_problem(root / run_id)
            if problem:
                found[run_id] = problem
    return found


def move_aside(runs_root: str | Path, run_id: str, quarantine_root: str | Path = QUARANTINE_ROOT,
               now: datetime | None = None) -> Path:
    """Move the folder of `run_id` to quarantine_root/<run id>/<UTC time>/; returns where it went."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S.%fZ")
    destination = Path(quarantine_root) / run_id / stamp
    destination.parent.mkdir(parents=True, exist_ok=True)
    os.rename(Path(runs_root) / run_id, destination)
    return destination
