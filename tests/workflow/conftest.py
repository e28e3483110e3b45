from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
# What the workflow needs from the repository; the trainer and library are replaced by a fake.
COPIED = ["workflow", "configs", "environment.yaml", "vcon/grid.py", "vcon/schema_errors.py", "vcon/atomic.py",
          "vcon/cli.py", "vcon/__main__.py", "vcon/schedules.py", "vcon/report"]


def make_workflow_copy(dest: Path) -> Path:
    for item in COPIED:
        source = REPO / item
        if source.is_dir():
            shutil.copytree(source, dest / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (dest / item).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / item)
    (dest / "vcon" / "__init__.py").write_text("")
    (dest / "vcon" / "train").mkdir()
    (dest / "vcon" / "train" / "__init__.py").write_text("")
    shutil.copy2(Path(__file__).parent / "fake_train.py", dest / "vcon" / "train" / "cli.py")
    return dest


def snakemake(workdir: Path, *args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(["timeout", "-k", "10", str(timeout), str(SNAKEMAKE), *args], cwd=workdir, env=env,
                          capture_output=True, text=True)


def job_counts(output: str) -> dict[str, int]:
    """The "Job stats" table of a (dry) run as {rule: count}; {} when there is nothing to do."""
    counts: dict[str, int] = {}
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Job stats:"):
            for row in lines[i + 3:]:
                match = re.match(r"^(\S+)\s+(\d+)$", row.strip())
                if not match:
                    break
                counts[match.group(1)] = int(match.group(2))
            counts.pop("total", None)
            return counts
    return counts


def write_metrics(path: Path, accuracy: float, history: list[dict] | None = None, **cell) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "schema_version": 1, "cell": cell, "config": {"compressor": cell.get("spec")},
        "metric": "accuracy", "test": {"accuracy": accuracy, "loss": 0.5}, "dense_reference": None,
        "history": history or [], "compression": {"total": {"sparsity": 0.9}, "layers": []},
        "timing": {"wall_s": 1.0}, "environment": {"device": "cpu"},
    }))


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
