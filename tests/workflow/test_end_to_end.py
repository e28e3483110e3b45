"""The real thing: configs/test-tiny.yaml through Snakemake with the real trainer (about 2 minutes on
2 cores), then the tables and figures it must produce."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import REPO, job_counts, snakemake

# dense x 2 seeds; 2 compressors x 2 seeds x (posthoc + iterative + vcon at 2 Q)
EXPECTED_RUNS = 2 + 2 * 2 * 4


@pytest.mark.slow
def test_tiny_config_runs_end_to_end(tmp_path):
    args = ("-s", str(REPO / "workflow" / "Snakefile"), "-d", str(tmp_path), "--configfile",
            str(REPO / "configs" / "test-tiny.yaml"))
    result = snakemake(tmp_path, *args, "--cores", "2", timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    metrics = sorted((tmp_path / "results" / "runs").rglob("metrics.json"))
    assert len(metrics) == EXPECTED_RUNS
    for path in metrics:
        run = json.loads(path.read_text())
        assert 0.0 <= run["test"]["accuracy"] <= 1.0
        assert run["history"] and run["environment"]["packages"]["torch"]

    runs = pd.read_csv(tmp_path / "results" / "tables" / "runs.csv")
    assert len(runs) == EXPECTED_RUNS and (runs["status"] == "ok").all()
    accuracy = (tmp_path / "results" / "tables" / "accuracy.md").read_text()
    assert "n=2" in accuracy and "missing" not in accuracy
    for name in ("beta_ablation", "transition_curves", "schedules", "gains"):
        for suffix in ("png", "pdf"):
            assert (tmp_path / "figures" / f"{name}.{suffix}").stat().st_size > 1000

    again = snakemake(tmp_path, *args, "-n", timeout=120)
    assert again.returncode == 0 and job_counts(again.stdout + again.stderr) == {}
