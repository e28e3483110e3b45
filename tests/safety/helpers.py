"""Shared by the safety tests: the fake-trainer workflow helpers and a cell-config writer."""
from __future__ import annotations

from pathlib import Path

import fake_workflow as workflow  # noqa: F401 - the safety tests reach the helpers as helpers.workflow
import yaml

REPO = Path(__file__).resolve().parents[2]


def tiny_config() -> dict:
    return yaml.safe_load((REPO / "configs" / "test-tiny.yaml").read_text())


def write_yaml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
