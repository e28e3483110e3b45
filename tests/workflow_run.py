"""Running the real workflow from tests (tests/conftest.py's `tiny_local_run`, tests/slurm/)."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
TINY_CONFIG = REPO / "configs" / "test-tiny.yaml"


@dataclass
class WorkflowRun:
    """A finished Snakemake run: its working directory, the arguments that name the workflow and
    config (for later calls on the same directory), and its wall time."""

    workdir: Path
    args: tuple[str, ...]
    seconds: float


def workflow_args(workdir: Path, config: Path = TINY_CONFIG) -> tuple[str, ...]:
    return "-s", str(REPO / "workflow" / "Snakefile"), "-d", str(workdir), "--configfile", str(config)


def snakemake_command(*args: str, timeout: int) -> list[str]:
    """Snakemake always under `timeout -k`: a stuck status check must not hang CI."""
    return ["timeout", "-k", "10", str(timeout), str(SNAKEMAKE), *args]


def snakemake_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(extra or {})}


def run_snakemake(workdir: Path, *args: str, timeout: int, env: dict[str, str] | None = None
                  ) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_command(*args, timeout=timeout), cwd=workdir, env=snakemake_env(env),
                          capture_output=True, text=True)
