"""Shared by the safety tests: the workflow test helpers (loaded by path: every test folder has its own
conftest module) and a cell-config writer."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _workflow_helpers():
    spec = importlib.util.spec_from_file_location("workflow_test_helpers", REPO / "tests" / "workflow" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


workflow = _workflow_helpers()


def tiny_config() -> dict:
    return yaml.safe_load((REPO / "configs" / "test-tiny.yaml").read_text())


def write_yaml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
