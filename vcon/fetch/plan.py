"""What a cell needs on disk before it trains: its data set's files and the hub checkpoints it loads.

Read from the registries, which import no torch, so the workflow lists the paper grid's jobs in seconds.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vcon.data.registry import DATASETS
from vcon.models import hub
from vcon.models.registry import MODELS


def datasets() -> frozenset[str]:
    """The data sets read from files (CIFAR, GLUE, ImageNet): fetched or placed, not made by the code."""
    return frozenset(name for name, entry in DATASETS.items() if entry.files)


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
    if model in MODELS:
        return MODELS.get(model).hub_id
    return _init_checkpoint(model)


def _init_checkpoint(init: Any) -> str | None:
    if not isinstance(init, str) or hub.is_local_dir(init) or hub.looks_like_path(init) or not hub.is_hub_id(init):
        return None
    return init
