"""configs/test-tiny.yaml through profiles/slurm on the localhost cluster: every training job
goes through sbatch, and the results are those of the local run (tests/conftest.py: tiny_local_run)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from localhost_cluster import SLURM_OPTIONS, slurm_jobs
from workflow_run import private_runtime_dir, run_snakemake, stop_warm_workers, workflow_args

TRAIN_JOBS = 1 + 2 * 2 + 2 * (5 + 4)  # test_end_to_end.EXPECTED_RUNS: pretraining, dense and from scratch, cells


def run_test_metrics(root: Path) -> dict[str, dict]:
    """run id -> the test metrics of its metrics.json."""
    runs = root / "results" / "runs"
    return {str(path.parent.relative_to(runs)): json.loads(path.read_text())["test"]
            for path in sorted(runs.rglob("metrics.json"))}


@pytest.mark.slow
def test_tiny_config_on_slurm_matches_local_run(slurm_cluster, tiny_local_run, tmp_path):
    # The partition comes from the environment (the profile's default-resources read it).
    runtime_dir = private_runtime_dir()
    started = time.monotonic()
    result = run_snakemake(tmp_path, *workflow_args(tmp_path), *SLURM_OPTIONS, timeout=900,
                           env={"VCON_SLURM_PARTITION": "other", "XDG_RUNTIME_DIR": str(runtime_dir)})
    seconds = time.monotonic() - started
    started_workers = list(runtime_dir.rglob("*.log"))
    stop_warm_workers(runtime_dir)
    assert started_workers == []  # cluster jobs start cold: no warm worker outlives a job on its node
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(f"tiny config: {seconds:.0f} s on the localhost SLURM cluster, {tiny_local_run.seconds:.0f} s locally")

    # Every training job was an sbatch job in the chosen partition; aggregation and figures ran locally.
    jobs = slurm_jobs(tmp_path)
    assert len(jobs) == TRAIN_JOBS, jobs
    assert sorted(job["comment"].split("_wildcards")[0] for job in jobs) == \
        ["rule_pretrain"] + ["rule_train"] * (TRAIN_JOBS - 1), jobs
    assert {(job["state"], job["partition"]) for job in jobs} == {("COMPLETED", "other")}

    local = tiny_local_run.workdir
    assert len(run_test_metrics(tmp_path)) == TRAIN_JOBS
    assert run_test_metrics(tmp_path) == run_test_metrics(local)
    for table in ("accuracy.csv", "ablation.csv"):
        assert (tmp_path / "results" / "tables" / table).read_text() == (local / "results" / "tables" / table).read_text()
