"""A training job preempted on the localhost cluster resumes from its checkpoint, not from step 0, and
ends with the metrics of an uninterrupted run; both ways the slurm profile recovers a job:
  requeue  SLURM requeues it (`scontrol requeue`, what preemption does; --slurm-requeue), same job id
  retry    the job is signalled (SIGTERM, as at a time limit), fails, and Snakemake submits it again
The trainer saves DIR/checkpoint/resume.pt every `checkpoint_steps` and on SIGTERM, and prints
`resumed from <path> at step N` when it starts from one."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml
from localhost_cluster import REPO, SLURM_OPTIONS, job_field, slurm_jobs, wait_until
from workflow_run import snakemake_command, snakemake_env, workflow_args

from vcon.grid import check

RUN = "vit-digits/digits/prune90/vcon/q2ep-linear/seed0"
# One VCON cell long enough (about 20 s on one core, 120 steps) to be interrupted mid-way, checkpointing often.
CONFIG = {
    "dense": False,
    "training": {"init": "scratch", "epochs": 6, "batch_size": 64, "lr": 1.0e-3, "min_lr": 1.0e-5,
                 "device": "cpu", "workers": 0, "threads": 1, "tensorboard": False, "checkpoint_steps": 10},
    "resources": {"threads": 1, "mem_mb": 1500, "runtime": 10, "gpu": 0},
    "models": {"vit-digits": {"datasets": ["digits"]}},
    "compressors": {"prune90": {"name": "prune", "sparsity": 0.9, "granularity": "layer"}},
    "methods": ["vcon"],
    "seeds": [0],
    "q": ["2ep"],
}
RESUMED = re.compile(r"resumed from (\S+) at step (\d+)")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The same cell trained without interruption, started in the background (the cluster's job uses
    one core, this the other); call it for its metrics."""
    root = tmp_path_factory.mktemp("uninterrupted")
    cell = root / "cell.yaml"
    config = check(CONFIG, "preemption config").cells[RUN].config
    cell.write_text(yaml.safe_dump(config, sort_keys=False))  # as the workflow writes it
    process = subprocess.Popen([sys.executable, "-m", "vcon", "train", "--config", str(cell), "--out", str(root / "run"),
                                "--quiet"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def metrics() -> dict:
        output, _ = process.communicate(timeout=600)
        assert process.returncode == 0, output
        return json.loads((root / "run" / "metrics.json").read_text())

    yield metrics
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["requeue", "retry"])
def test_preempted_job_resumes(slurm_cluster, uninterrupted, tmp_path, how):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    target = f"results/runs/{RUN}/metrics.json"
    extra = ["--slurm-requeue"] if how == "requeue" else []
    workflow = subprocess.Popen(snakemake_command(*workflow_args(tmp_path, config), *SLURM_OPTIONS, *extra, target,
                                                  timeout=600),
                                cwd=tmp_path, env=snakemake_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
    try:
        checkpoint = tmp_path / "results" / "runs" / RUN / "checkpoint" / "resume.pt"
        wait_until(checkpoint.exists, 240, f"{checkpoint} (the job's first periodic checkpoint)")
        [job] = slurm_jobs(tmp_path)
        assert job["state"] == "RUNNING", job
        if how == "requeue":
            subprocess.run(["scontrol", "requeue", job["id"]], check=True, timeout=30)
            # SLURM holds a requeued job for about two minutes (BeginTime); let it start now.
            wait_until(lambda: slurm_jobs(tmp_path)[0]["state"] == "PENDING", 60, "the requeued job pending")
            subprocess.run(["scontrol", "update", f"JobId={job['id']}", "StartTime=now"], check=True, timeout=30)
        else:
            subprocess.run(["scancel", "--signal=TERM", "--full", job["id"]], check=True, timeout=30)
        output, _ = workflow.communicate(timeout=600)
    finally:
        if workflow.poll() is None:
            workflow.kill()
    assert workflow.returncode == 0, output[-4000:]

    jobs = slurm_jobs(tmp_path)
    if how == "requeue":  # one job, run twice
        assert [j["id"] for j in jobs] == [job["id"]] and jobs[0]["state"] == "COMPLETED"
        assert job_field(job["id"], "Restarts") == "1"
    else:  # a failed job and Snakemake's second attempt, with twice the runtime
        attempts = sorted(jobs, key=lambda j: int(j["id"]))
        assert [j["state"] for j in attempts] == ["FAILED", "COMPLETED"], jobs
        assert [job_field(j["id"], "TimeLimit") for j in attempts] == ["00:10:00", "00:20:00"]

    # The rule's log is the last attempt's: it started from the checkpoint, past step 0.
    log = (tmp_path / "results" / "logs" / "train" / f"{RUN}.log").read_text()
    resumed = RESUMED.search(log)
    assert resumed, log[-3000:]
    assert (tmp_path / resumed[1]).resolve() == checkpoint.resolve() and int(resumed[2]) > 0

    metrics = json.loads((tmp_path / "results" / "runs" / RUN / "metrics.json").read_text())
    reference = uninterrupted()
    assert metrics["test"] == reference["test"]
    assert metrics["history"] == reference["history"]
