"""What a cell needs on disk before it trains: its data set's files and the hub checkpoints it loads.

Torch-free and loaded by path from the Snakefile (importing the readers takes seconds of torch import, and
the paper grid lists ~750 jobs in a few seconds): the readers' tables are read from their source, not
imported. tests/safety/test_registry_facts.py keeps what this reads equal to the imported tables.
"""
from __future__ import annotations

import ast
import importlib.util
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[1]
GLUE_PREFIX = "glue-"
IMAGENET = "imagenet"


def _assigned(relative: str, name: str) -> ast.expr:
    """The expression assigned to the top-level `name` of the module `vcon/<relative>`."""
    tree = ast.parse((PACKAGE / relative).read_text())
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(target, ast.Name) and target.id == name for target in targets) and node.value is not None:
            return node.value
    raise LookupError(f"vcon/{relative} assigns no top-level {name}")


def _keys(relative: str, name: str) -> list[str]:
    table = _assigned(relative, name)
    if not isinstance(table, ast.Dict):
        raise LookupError(f"vcon/{relative}: {name} is not a dict literal")
    return [ast.literal_eval(key) for key in table.keys]


@cache
def datasets() -> frozenset[str]:
    """The data sets read from files: vcon/data/cifar.py's CIFARS, glue.py's TASKS, and ImageNet."""
    glue = [GLUE_PREFIX + task for task in _keys("data/glue.py", "TASKS")]
    return frozenset([*_keys("data/cifar.py", "CIFARS"), *glue, IMAGENET])


@cache
def hub_models() -> dict[str, str]:
    """Registered names of hub checkpoints -> hub id (vcon/models/pretrained.py's HUB_MODELS)."""
    table = ast.literal_eval(_assigned("models/pretrained.py", "HUB_MODELS"))
    return {name: hub_id for name, (hub_id, _family) in table.items()}


@cache
def _hub() -> Any:
    """vcon/models/hub.py (hub ids and local directories, as the trainer tells them apart), by path."""
    spec = importlib.util.spec_from_file_location("vcon_fetch_hub", PACKAGE / "models" / "hub.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dataset(config: Mapping[str, Any]) -> str | None:
    """The data set of a cell config if it is read from files (None: embedded, nothing to fetch)."""
    name = config.get("dataset")
    return name if name in datasets() else None


def checkpoints(config: Mapping[str, Any]) -> list[str]:
    """The hub ids a cell config loads: its model (a hub id, or a registered name of one) and its init (a
    hub id). Embedded models, local directories, "scratch", "pretrained" and run directories need none."""
    found = [hub_id for hub_id in (_model_checkpoint(config.get("model")), _init_checkpoint(config.get("init")))
             if hub_id is not None]
    return list(dict.fromkeys(found))


def _model_checkpoint(model: Any) -> str | None:
    if not isinstance(model, str):
        return None
    if model in hub_models():
        return hub_models()[model]
    return _init_checkpoint(model)


def _init_checkpoint(init: Any) -> str | None:
    hub = _hub()
    if not isinstance(init, str) or hub.is_local_dir(init) or hub.looks_like_path(init) or not hub.is_hub_id(init):
        return None
    return init
