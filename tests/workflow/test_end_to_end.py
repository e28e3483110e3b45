"""The real thing: configs/test-tiny.yaml through Snakemake with the real trainer (about 2 minutes on
2 cores; the session fixture `tiny_local_run` of tests/conftest.py), then
the tables and figures it must produce."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from fake_workflow import job_counts, snakemake
from workflow_run import warm_worker_log

# pretraining; dense and dense from scratch x 2 seeds; 2 seeds x (prune90: posthoc + 2 iterative variants + vcon
# at 2 Q; binary: posthoc + iterative + vcon at 2 Q)
EXPECTED_RUNS = 1 + 2 * 2 + 2 * (5 + 4)


@pytest.mark.slow
def test_tiny_config_runs_end_to_end(tiny_local_run):
    workdir, args = tiny_local_run.workdir, tiny_local_run.args

    metrics = sorted((workdir / "results" / "runs").rglob("metrics.json"))
    assert len(metrics) == EXPECTED_RUNS
    for path in metrics:
        run = json.loads(path.read_text())
        assert 0.0 <= run["test"]["accuracy"] <= 1.0
        assert run["history"] and run["environment"]["packages"]["torch"]

    runs = pd.read_csv(workdir / "results" / "tables" / "runs.csv")
    assert len(runs) == EXPECTED_RUNS and (runs["status"] == "ok").all()
    accuracy = (workdir / "results" / "tables" / "accuracy.md").read_text()
    assert "n=2" in accuracy and "missing" not in accuracy
    iterative = pd.read_csv(workdir / "results" / "tables" / "iterative.csv", keep_default_na=False)
    assert list(iterative["variant"]) == ["zhu-gupta", "straight-through", ""]
    comparisons = pd.read_csv(workdir / "results" / "tables" / "comparisons.csv", keep_default_na=False)
    assert len(comparisons) == 4 and set(comparisons["n"]) == {2}
    for name in ("beta_ablation", "transition_curves", "schedules", "gains"):
        for suffix in ("png", "pdf"):
            assert (workdir / "figures" / f"{name}.{suffix}").stat().st_size > 1000

    # local cells ran in children of one warm worker (vcon/warm), started by the first cell
    log = warm_worker_log(tiny_local_run.runtime_dir)
    assert log.count(": serving ") == 1 and log.count(" request\n") == EXPECTED_RUNS, log

    again = snakemake(workdir, *args, "-n", timeout=120)
    assert again.returncode == 0 and job_counts(again.stdout + again.stderr) == {}
