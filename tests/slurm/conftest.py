"""A real single-node SLURM cluster (scripts/slurm-localhost) for the tests of this folder.

It needs Linux, root, and SLURM installed or apt-get to install it; elsewhere the tests are skipped
with the reason. The session fixture brings the cluster up (installing munge and slurm-wlm on a
fresh machine: about a minute) and takes it down at the end, unless it was up already.
"""
from __future__ import annotations

import pytest
from localhost_cluster import localhost, unavailable


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
