"""Killing Snakemake (SIGKILL to its whole process group, jobs included) in the middle of the tiny
grid, then rerunning, finishes only what was missing: finished runs keep their file and mtime, and
the final tables are complete. Uses the fake trainer of tests/workflow, slowed down a little."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pandas as pd
import pytest
from helpers import tiny_config, workflow

from vcon.grid import check

CONFIG = ("--configfile", "configs/test-tiny.yaml")
CELLS = 23  # tests/workflow/test_grid.py::test_tiny_counts
KILL_AFTER = 6  # finished runs when the kill comes
TABLES = "results/tables/accuracy.md"  # the rerun stops at the tables (figures would add a minute)


def planned_runs(root) -> set[str]:
    """Run folders whose train job a dry run would start now."""
    result = workflow.snakemake(root, TABLES, "-n", *CONFIG, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    outputs = " ".join(line for line in result.stdout.splitlines() if line.strip().startswith("output:"))
    return set(re.findall(r"results/runs/([^\s,]+)/metrics\.json", outputs))


@pytest.mark.slow
def test_kill_and_rerun_finishes_only_what_was_missing(tmp_path, monkeypatch):
    root = workflow.make_workflow_copy(tmp_path / "wf")
    calls = tmp_path / "calls.log"
    monkeypatch.setenv("FAKE_TRAIN_SLEEP", "0.7")
    monkeypatch.setenv("FAKE_TRAIN_LOG", str(calls))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    runs = root / "results" / "runs"

    process = subprocess.Popen([str(workflow.SNAKEMAKE), "--cores", "2", *CONFIG], cwd=root, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while len(list(runs.rglob("metrics.json"))) < KILL_AFTER:
        assert process.poll() is None, "snakemake ended before the kill"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    present = {p.parent.relative_to(runs).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
               for p in runs.rglob("metrics.json")}
    assert KILL_AFTER <= len(present) < CELLS
    assert not (root / "results" / "tables" / "runs.csv").exists()

    # A killed Snakemake leaves its lock behind; --unlock is the documented first step.
    unlocked = workflow.snakemake(root, "--unlock", *CONFIG, timeout=120)
    assert unlocked.returncode == 0, unlocked.stderr[-3000:]
    planned = planned_runs(root)
    # Everything without a result runs again; of the runs with one, at most the jobs that were in
    # flight at the kill (2 cores) are redone, as Snakemake never recorded them finished.
    absent = set(check(tiny_config(), "test-tiny.yaml").cells) - set(present)
    assert absent <= planned
    assert len(planned - absent) <= 2
    finished = {run: stamp for run, stamp in present.items() if run not in planned}

    calls.unlink()
    result = workflow.snakemake(root, TABLES, "--cores", "2", *CONFIG, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    rerun = {line.strip().removeprefix("results/runs/") for line in calls.read_text().splitlines()}
    assert rerun == planned  # only what was missing
    for run, (mtime, content) in finished.items():
        path = runs / run / "metrics.json"
        assert (path.stat().st_mtime_ns, path.read_bytes()) == (mtime, content), run
    table = pd.read_csv(root / "results" / "tables" / "runs.csv")
    assert len(table) == CELLS and (table["status"] == "ok").all()
    assert "missing" not in (root / "results" / "tables" / "accuracy.md").read_text()
    assert planned_runs(root) == set()

