"""A real single-node SLURM cluster (scripts/slurm-localhost) for the tests of this folder.

It needs Linux, root, and SLURM installed or apt-get to install it; elsewhere the tests are skipped
with the reason. The session fixture brings the cluster up (installing munge and slurm-wlm on a
fresh machine: about a minute) and takes it down at the end, unless it was up already.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "slurm-localhost"
# workflow/profiles/slurm as a user runs it, plus what this cluster needs: no slurmdbd, so the plugin
# polls squeue (finished jobs stay listed for MinJobAge = 600 s), and its first poll after 2 s, not 40.
SLURM_OPTIONS = ("--workflow-profile", str(REPO / "workflow" / "profiles" / "slurm"),
                 "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
                 "--latency-wait", "5")


def unavailable() -> str | None:
    """Why the localhost cluster cannot run here, or None."""
    if sys.platform != "linux":
        return f"the localhost SLURM cluster needs Linux, this is {sys.platform}"
    if os.geteuid() != 0:
        return "the localhost SLURM cluster needs root (scripts/slurm-localhost installs packages and starts daemons)"
    if not shutil.which("sbatch") and not shutil.which("apt-get"):
        return "SLURM is not installed and apt-get is not available to install it"
    return None


def localhost(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["timeout", "-k", "10", str(timeout), str(SCRIPT), *args], capture_output=True, text=True)


@pytest.fixture(scope="session")
def slurm_cluster():
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    was_up = localhost("status").returncode == 0
    if not was_up:
        up = localhost("up")
        if up.returncode == 3:  # packages missing and not installable here
            pytest.skip(f"cannot install SLURM: {up.stderr.strip()}")
        assert up.returncode == 0, up.stdout + up.stderr
    yield
    if not was_up:
        down = localhost("down", timeout=120)
        assert down.returncode == 0, down.stdout + down.stderr


def slurm_jobs(workdir: Path) -> list[dict[str, str]]:
    """The jobs SLURM lists (finished ones too, for MinJobAge) that were submitted from `workdir`:
    id, state, partition, restart count and comment (Snakemake writes rule_<rule>_wildcards_...)."""
    fields = {"id": "%i", "state": "%T", "partition": "%P", "workdir": "%Z", "comment": "%k"}
    listed = subprocess.run(["squeue", "--states=all", "-h", "-o", "|".join(fields.values())],
                            capture_output=True, text=True, check=True, timeout=30).stdout
    jobs = [dict(zip(fields, line.split("|"))) for line in listed.splitlines() if line.strip()]
    return [job for job in jobs if Path(job["workdir"]) == workdir]


def job_field(job_id: str, key: str) -> str:
    """One KEY=VALUE field of `scontrol show job`, e.g. Restarts."""
    shown = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True,
                           timeout=30).stdout
    for item in shown.split():
        name, _, value = item.partition("=")
        if name == key:
            return value
    raise KeyError(f"{key} not in scontrol show job {job_id}")


def wait_until(condition: Callable[[], object], seconds: float, what: str, poll: float = 0.5):
    """Poll `condition` until it returns something true; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")
