"""Fixtures of the workflow tests: a finished fake run of configs/test-tiny.yaml and private copies of it."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fake_workflow import make_workflow_copy, snakemake


@pytest.fixture(scope="session")
def finished_tiny(tmp_path_factory) -> Path:
    """A copy of the workflow that ran configs/test-tiny.yaml to the end with the fake trainer."""
    root = make_workflow_copy(tmp_path_factory.mktemp("finished"))
    result = snakemake(root, "--cores", "2", "--configfile", "configs/test-tiny.yaml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root


@pytest.fixture
def tiny_copy(finished_tiny: Path, tmp_path: Path) -> Path:
    """A private copy of the finished tree (mtimes and Snakemake's metadata kept)."""
    dest = tmp_path / "wf"
    shutil.copytree(finished_tiny, dest, symlinks=True)
    return dest
