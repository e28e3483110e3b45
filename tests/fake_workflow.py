"""The workflow with a fake trainer (tests/workflow/fake_train.py): a copy of the workflow to run it in,
Snakemake on it, its job counts, and hand-written metrics. Used by tests/workflow/ and tests/safety/."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
# What the workflow needs from the repository; the trainer and library are replaced by a fake. Complete, so
# that no module comes from another checkout through an editable install.
COPIED = ["Snakefile", "workflow", "profiles", "configs", "environment.yaml", "vcon/grid", "vcon/schema_errors.py",
          "vcon/atomic.py", "vcon/integrity.py", "vcon/run_record.py", "vcon/quarantine.py", "vcon/cli.py",
          "vcon/commands.py", "vcon/__main__.py", "vcon/schedules.py", "vcon/lengths.py", "vcon/vocabulary.py",
          "vcon/run_ids.py", "vcon/code_inputs.py",
          "vcon/names.py", "vcon/plugins.py", "vcon/keys.py", "vcon/compressors", "vcon/report", "vcon/fetch",
          "vcon/data", "vcon/models", "vcon/train/config.py"]


def make_workflow_copy(dest: Path) -> Path:
    for item in COPIED:
        source = REPO / item
        if source.is_dir():
            shutil.copytree(source, dest / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (dest / item).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / item)
    (dest / "vcon" / "__init__.py").write_text("")
    (dest / "vcon" / "train").mkdir(exist_ok=True)
    (dest / "vcon" / "train" / "__init__.py").write_text("")
    shutil.copy2(Path(__file__).parent / "workflow" / "fake_train.py", dest / "vcon" / "train" / "cli.py")
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
