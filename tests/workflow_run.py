"""Running the real workflow from tests (tests/conftest.py's `tiny_local_run`, tests/slurm/)."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
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
    runtime_dir: Path  # XDG_RUNTIME_DIR of the run: holds the warm worker's socket and log


def private_runtime_dir() -> Path:
    """A fresh XDG_RUNTIME_DIR, so a test gets its own warm worker; short, as sockets allow 107 bytes."""
    return Path(tempfile.mkdtemp(prefix="vw", dir="/tmp"))


def warm_worker_log(runtime_dir: Path) -> str:
    return "".join(p.read_text() for p in sorted(runtime_dir.glob("vcon-warm-*/*.log")))


def stop_warm_workers(runtime_dir: Path) -> None:
    """SIGTERM to the warm workers serving sockets under `runtime_dir`, then remove it."""
    for log in runtime_dir.glob("vcon-warm-*/*.log"):
        text = log.read_text()
        if "vcon warm worker " in text and log.with_suffix(".sock").exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(text.split("vcon warm worker ")[1].split(":")[0]), signal.SIGTERM)
    shutil.rmtree(runtime_dir, ignore_errors=True)


def workflow_args(workdir: Path, config: Path = TINY_CONFIG) -> tuple[str, ...]:
    return "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--configfile", str(config)


def snakemake_command(*args: str, timeout: int) -> list[str]:
    """Snakemake always under `timeout -k`: a stuck status check must not hang CI."""
    return ["timeout", "-k", "10", str(timeout), str(SNAKEMAKE), *args]


def snakemake_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(extra or {})}


def run_snakemake(workdir: Path, *args: str, timeout: int, env: dict[str, str] | None = None
                  ) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_command(*args, timeout=timeout), cwd=workdir, env=snakemake_env(env),
                          capture_output=True, text=True)
