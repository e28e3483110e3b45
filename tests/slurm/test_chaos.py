"""A small grid on the localhost cluster under the faults of a real one: the running pretraining is
cancelled (scancel), then one of two running cells at random (seeded) and the other's trainer is
killed with SIGKILL, slurmd is restarted, and a finished run's model is cut in half. Snakemake's
retries resume the jobs from their checkpoints; the same command run again moves the damaged run to
results/quarantine/ and trains it again. The tables end identical to those of an undisturbed run of
the grid on this machine, and of the finished runs only the damaged one is trained again. Along the way,
what any run through profiles/slurm must do: every training job is an sbatch job in the partition the
environment names, aggregation runs locally, and no warm worker outlives a job on its node."""
from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from damage import truncate
from localhost_cluster import SLURM_OPTIONS, localhost, slurm_jobs, wait_until
from run_results import metrics_stamps
from workflow_run import (private_runtime_dir, run_snakemake, snakemake_command, snakemake_env, stop_warm_workers,
                          workflow_args)

from vcon.grid import check
from vcon.vocabulary import PRETRAIN
from vcon.quarantine import QUARANTINE_ROOT

SEED = 24  # picks the cell that is cancelled (the other one is killed)
# Four cells: a pretraining on glyphs, then dense, post-shot and VCON from it; a checkpoint every 5 steps.
CONFIG = {
    "dense": {"run": True, "scratch": False},
    "training": {"batch_size": 20, "lr": 1.0e-3, "min_lr": 1.0e-5, "device": "cpu", "workers": 0, "threads": 1,
                 "tensorboard": False, "eval_every": 5, "checkpoint_steps": 5},
    "resources": {"threads": 1, "mem_mb": 1500, "runtime": 5, "gpu": 0},
    "models": {"vit-digits": {
        "pretrain": {"dataset": "glyphs", "training": {"train_size": 1000, "epochs": 1, "batch_size": 128,
                                                        "lr": 2.0e-3, "eval_every": None}},
        "datasets": {"digits": {"training": {"train_size": 100, "epochs": 8}}}}},
    "compressors": {"prune90": {"name": "prune", "sparsity": 0.9, "granularity": "layer"}},
    "methods": ["posthoc", "vcon"],
    "seeds": [0],
    "q": [10],
    "report": {"headline_q": "best", "bootstrap": 1000},
}
CELLS = check(CONFIG, "chaos config").cells
[PRETRAINING] = [run for run, cell in CELLS.items() if cell.method == PRETRAIN]
TABLES = ["runs.csv", "history.csv", "accuracy.csv", "accuracy.md", "ablation.csv", "ablation.md"]


def write_config(folder: Path) -> Path:
    path = folder / "chaos.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return path


@contextlib.contextmanager
def undisturbed_run(workdir: Path) -> Iterator[Callable[[], Path]]:
    """The grid run locally and undisturbed, in the background (one core; the cluster's jobs wait for
    their status checks most of the time); call the result to wait for it and get its folder."""
    runtime_dir = private_runtime_dir()
    with open(workdir / "snakemake.log", "w") as log:
        process = subprocess.Popen(snakemake_command(*workflow_args(workdir, write_config(workdir)), "--cores", "1",
                                                     timeout=600),
                                   cwd=workdir, env=snakemake_env({"XDG_RUNTIME_DIR": str(runtime_dir)}),
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def finished() -> Path:
        process.wait(timeout=600)
        assert process.returncode == 0, (workdir / "snakemake.log").read_text()[-3000:]
        return workdir

    try:
        yield finished
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        stop_warm_workers(runtime_dir)


def running(workdir: Path, exclude: set[str]) -> dict[str, str]:
    """Run id -> SLURM job id of the training jobs of `workdir` running now, but those of `exclude`."""
    runs = {f"rule_{'pretrain' if run == PRETRAINING else 'train'}_wildcards_{run.replace('/', '_')}": run
            for run in CELLS}
    return {runs[job["comment"]]: job["id"] for job in slurm_jobs(workdir)
            if job["state"] == "RUNNING" and job["comment"] in runs and runs[job["comment"]] not in exclude}


def trainer_pid(run_dir: Path) -> int | None:
    """The pid of the live `vcon train` holding the run folder's lock, if any."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        pid = json.loads((run_dir / ".lock").read_text())["pid"]
        os.kill(pid, 0)
        return pid
    return None


@pytest.mark.slow
def test_a_grid_survives_cancels_a_kill_a_slurmd_restart_and_a_damaged_file(slurm_cluster, tmp_path):
    (tmp_path / "undisturbed").mkdir()
    with undisturbed_run(tmp_path / "undisturbed") as undisturbed:
        chaos(tmp_path / "chaos", undisturbed)


def chaos(workdir: Path, undisturbed: Callable[[], Path]) -> None:
    workdir.mkdir()
    rng = random.Random(SEED)
    args = (*workflow_args(workdir, write_config(workdir)), *SLURM_OPTIONS)
    runs = workdir / "results" / "runs"
    runtime_dir = private_runtime_dir()
    # The partition comes from the environment (the profile's default-resources read it).
    env = {"VCON_SLURM_PARTITION": "other", "XDG_RUNTIME_DIR": str(runtime_dir)}
    with open(workdir / "chaos.log", "w") as log:
        workflow = subprocess.Popen(snakemake_command(*args, timeout=480), cwd=workdir, env=snakemake_env(env),
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    hit: set[str] = set()
    try:
        # 1. The pretraining, the only job at first, is cancelled while it runs.
        pretraining = wait_until(lambda: running(workdir, hit).get(PRETRAINING), 240, "the pretraining running")
        subprocess.run(["scancel", pretraining], check=True, timeout=30)
        hit.add(PRETRAINING)
        # 2. Of the first two cells running at once, one picked at random is cancelled, the other one's
        #    trainer killed with SIGKILL once it holds its run folder.
        pair = wait_until(lambda: len(now := running(workdir, hit)) >= 2 and now, 300, "two cells running")
        cancelled = rng.choice(sorted(pair))
        subprocess.run(["scancel", pair[cancelled]], check=True, timeout=30)
        [killed] = sorted(set(pair) - {cancelled})
        os.kill(wait_until(lambda: trainer_pid(runs / killed), 60, f"the trainer of {killed}", poll=0.1),
                signal.SIGKILL)
        hit |= {cancelled, killed}
        # 3. slurmd goes down and comes back while jobs run and wait.
        restart = localhost("restart-node", timeout=120)
        assert restart.returncode == 0, restart.stdout + restart.stderr
        # 4. A finished run's model is cut in half (a node that crashed while the file system wrote it back).
        damaged = wait_until(lambda: sorted(run for run in CELLS if run != PRETRAINING
                                            and (runs / run / "metrics.json").exists()), 300, "a finished cell")[0]
        model = next(name for name in ("model.pt", "dense.pt") if (runs / damaged / name).exists())
        size = (runs / damaged / model).stat().st_size
        truncate(runs / damaged / model)
        workflow.wait(timeout=480)
    finally:
        if workflow.poll() is None:
            os.killpg(workflow.pid, signal.SIGKILL)
            workflow.wait()
    first = (workdir / "chaos.log").read_text()
    assert workflow.returncode == 0, first[-4000:]  # the retries resumed every job
    states = sorted(job["state"] for job in slurm_jobs(workdir))
    assert states.count("CANCELLED") == 2 and states.count("FAILED") == 1, states  # the faults happened

    # The same command again: the damaged run is moved aside and trained again, nothing else.
    before = metrics_stamps(runs)
    again = run_snakemake(workdir, *args, timeout=300, env=env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    [moved] = (workdir / QUARANTINE_ROOT / damaged).iterdir()
    assert (f"vcon-bench: the finished run results/runs/{damaged} is damaged ({model}: it has {size // 2} bytes, "
            f"{size} were recorded when it was written); moved to {QUARANTINE_ROOT}/{damaged}/{moved.name}, it is "
            f"trained again") in again.stderr
    started_workers = list(runtime_dir.rglob("*.log"))
    stop_warm_workers(runtime_dir)
    assert started_workers == []  # cluster jobs start cold: no warm worker outlives a job on its node
    jobs = slurm_jobs(workdir)  # every training job, and only they, went through sbatch, in the chosen partition
    assert {job["partition"] for job in jobs} == {"other"}, jobs
    assert {job["comment"] for job in jobs if job["state"] == "COMPLETED"} == \
        {f"rule_{'pretrain' if run == PRETRAINING else 'train'}_wildcards_{run.replace('/', '_')}" for run in CELLS}
    after = metrics_stamps(runs)
    assert set(after) == set(CELLS)
    assert {run: stamp for run, stamp in after.items() if run != damaged} == \
        {run: stamp for run, stamp in before.items() if run != damaged}
    reference = undisturbed()
    for table in TABLES:
        assert (workdir / "results" / "tables" / table).read_text() == \
            (reference / "results" / "tables" / table).read_text(), table
