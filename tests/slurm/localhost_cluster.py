"""The localhost SLURM cluster (scripts/slurm-localhost) seen from the tests: when it can run, how
Snakemake is pointed at it, and what SLURM lists. (A module of its own: test modules import it by
name, which `from conftest import` cannot do reliably with several conftest.py files.)"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "slurm-localhost"
# profiles/slurm as a user runs it, plus what this cluster needs: no slurmdbd, so the plugin
# polls squeue (finished jobs stay listed for MinJobAge = 600 s), and its first poll after 2 s, not 40.
SLURM_OPTIONS = ("--workflow-profile", str(REPO / "profiles" / "slurm"),
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
