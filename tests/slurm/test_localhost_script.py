"""scripts/slurm-localhost: idempotent up/down/status and its errors (the cluster itself: the
session fixture `slurm_cluster`)."""
from __future__ import annotations

import os
import subprocess

import pytest
from localhost_cluster import SCRIPT, localhost


def test_up_again_is_a_no_op(slurm_cluster):
    again = localhost("up", timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("slurm-localhost: already up: node ")
    assert localhost("status", timeout=60).stdout.splitlines()[-1] == "cluster up"


def test_down_and_status_without_a_cluster(slurm_cluster, tmp_path):
    # Another state folder holds no PID files: nothing of the running cluster is touched.
    env = {**os.environ, "SLURM_LOCALHOST_STATE": str(tmp_path)}
    down = subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True, text=True, timeout=60)
    assert (down.returncode, down.stdout) == (0, "slurm-localhost: down\n")
    status = subprocess.run([str(SCRIPT), "status"], env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode == 1 and status.stdout.splitlines()[-1] == "cluster not up"
    assert localhost("status", timeout=60).returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to an unprivileged user")
def test_up_refuses_without_root():
    result = subprocess.run(["runuser", "-u", "nobody", "--", "bash", str(SCRIPT), "up"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("slurm-localhost: error: must run as root")


def test_usage():
    result = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "scripts/slurm-localhost up [--accounting]" in result.stderr
