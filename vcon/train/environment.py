"""What a run was made with: package versions, device, Python and the project's git commit."""
from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from vcon import plugins

PACKAGES = ("torch", "torchvision", "timm", "transformers", "datasets", "scikit-learn", "numpy", "vcon-bench")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def package_versions() -> dict[str, str | None]:
    """The versions of PACKAGES, and of every installed distribution that declares vcon plugins."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {**versions, **plugins.distributions()}


# The workflow writes its tables and figures over committed copies; those edits are results, not code.
WORKFLOW_OUTPUTS = ("results", "figures")


def git_commit() -> dict[str, Any]:
    """The commit of the project's checkout and whether tracked files outside the workflow's outputs
    differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()

    try:
        outside_outputs = [".", *(f":(exclude){folder}" for folder in WORKFLOW_OUTPUTS)]
        changed = git("status", "--porcelain", "--untracked-files=no", "--", *outside_outputs)
        return {"commit": git("rev-parse", "HEAD"), "dirty": bool(changed)}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def describe(device: torch.device) -> dict[str, Any]:
    git = git_commit()
    return {
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch_threads": torch.get_num_threads(),
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
    }
