"""`build_model`: one entry point for registered names, local directories and hub ids."""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vcon.models import hub
from vcon.models.registry import MODELS, get_builder
from vcon.names import did_you_mean
from vcon.models.spec import check_num_classes

if TYPE_CHECKING:
    from vcon.models.classifier import Classifier


def build_model(
    name_or_path: str | os.PathLike[str],
    num_classes: int,
    input_spec: Mapping[str, Any] | None = None,
    init: str | os.PathLike[str] | None = None,
) -> Classifier:
    """Build a classifier with `num_classes` outputs (1 = regression).

    `name_or_path` is a registered name (see `list_models()`), a save_pretrained directory or a hub
    id (owner/name) of a ViT or BERT model. `init` is None (the model's default: pretrained weights
    for Hugging Face models, scratch for models built from code), "pretrained", "scratch", or a
    directory / hub id to load the weights from.
    """
    name = os.fspath(name_or_path)
    check_num_classes(num_classes)
    input_spec = dict(input_spec or {})
    init = None if init is None else os.fspath(init)
    builder = get_builder(name)
    if builder is not None:
        return builder(num_classes, input_spec, init)
    from vcon.models.hf import build_hf

    return build_hf(unregistered_source(name), num_classes, input_spec, init)


def unregistered_source(name: str) -> str:
    """`name` as a directory or hub id to load from; ValueError for missing directories and unknown names."""
    if hub.is_local_dir(name):
        return os.path.expanduser(name)
    if hub.looks_like_path(name):
        raise ValueError(f"model directory {name!r} does not exist{did_you_mean(name, MODELS)}; {MODELS.listing()}")
    if hub.is_hub_id(name):
        return name
    raise ValueError(
        f"unknown model {name!r}{did_you_mean(name, MODELS)}: not a registered name, an existing directory or a "
        f"hub id (owner/name); {MODELS.listing()}"
    )
