"""The real thing: configs/test-tiny.yaml through Snakemake with the real trainer (about 2 minutes on
2 cores; the session fixture `tiny_local_run` of tests/conftest.py), then
the tables and figures it must produce."""
from __future__ import annotations

import json

import re

import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from fake_workflow import job_counts, snakemake
from workflow_run import warm_worker_log

from vcon.report import collect, plots
from vcon.report.options import ReportOptions

# pretraining; dense and dense from scratch x 2 seeds; 2 seeds x (prune90: posthoc + 2 iterative variants + vcon
# at 2 Q; binary: posthoc + iterative + vcon at 2 Q)
EXPECTED_RUNS = 1 + 2 * 2 + 2 * (5 + 4)


@pytest.mark.slow
def test_tiny_config_runs_end_to_end(tiny_local_run):
    workdir, args = tiny_local_run.workdir, tiny_local_run.args

    root = workdir / "results" / "runs"
    metrics = {str(path.parent.relative_to(root)): json.loads(path.read_text()) for path in root.rglob("metrics.json")}
    assert len(metrics) == EXPECTED_RUNS
    for run in metrics.values():
        # every run trained for all its epochs, and says with which torch
        assert run["history"][-1]["epoch"] == run["config"]["epochs"] and run["environment"]["packages"]["torch"]

    runs = pd.read_csv(workdir / "results" / "tables" / "runs.csv")
    assert len(runs) == EXPECTED_RUNS and (runs["status"] == "ok").all()
    # the tables hold each run's test accuracy as its metrics.json recorded it
    assert runs.set_index("run")["value"].to_dict() == {run: m["test"]["accuracy"] for run, m in metrics.items()}
    accuracy = (workdir / "results" / "tables" / "accuracy.md").read_text()
    assert "n=2" in accuracy and "missing" not in accuracy
    iterative = pd.read_csv(workdir / "results" / "tables" / "iterative.csv", keep_default_na=False)
    assert list(iterative["variant"]) == ["zhu-gupta", "straight-through", ""]
    comparisons = pd.read_csv(workdir / "results" / "tables" / "comparisons.csv", keep_default_na=False)
    assert len(comparisons) == 4 and set(comparisons["n"]) == {2}
    for name in ("beta_ablation", "transition_curves", "schedules", "gains"):
        assert (workdir / "figures" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (workdir / "figures" / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    # what the gains figure draws from these tables: both compressors, each seed's gain over each baseline
    gains = plots.figure("gains", collect.read_runs(workdir / "results" / "tables" / "runs.csv"),
                         options=ReportOptions(headline_iterative={"default": {"prune": "zhu-gupta"}}))
    [panel] = [ax for ax in gains.axes if ax.get_title()]
    assert [re.sub("Q=(3|2ep)$", "Q", tick.get_text()) for tick in panel.get_xticklabels()] == \
        ["prune90\nQ", "binary\nQ"]
    assert sum(len(c.get_offsets()) for c in panel.collections if isinstance(c, PathCollection)) == 2 * 2 * 2

    # local cells ran in children of one warm worker (vcon/warm), started by the first cell
    log = warm_worker_log(tiny_local_run.runtime_dir)
    assert log.count(": serving ") == 1 and log.count(" request\n") == EXPECTED_RUNS, log

    again = snakemake(workdir, *args, "-n", timeout=120)
    assert again.returncode == 0 and job_counts(again.stdout + again.stderr) == {}
