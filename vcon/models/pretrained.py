"""Registered Hugging Face checkpoints: a short name for a hub id of a known family."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vcon.models.classifier import Classifier
from vcon.models.hf import build_hf
from vcon.models.registry import register_model

HUB_MODELS: dict[str, tuple[str, str]] = {
    "vit-tiny": ("WinKawaks/vit-tiny-patch16-224", "hf-vit"),
    "vit-small": ("WinKawaks/vit-small-patch16-224", "hf-vit"),
    "vit-base": ("google/vit-base-patch16-224", "hf-vit"),
    "bert-base": ("bert-base-uncased", "hf-bert"),
}


def _register(name: str, hub_id: str, family: str) -> None:
    @register_model(name)
    def build(num_classes: int, input_spec: Mapping[str, Any], init: str | None) -> Classifier:
        return build_hf(hub_id, num_classes, input_spec, init, family=family)


for _name, (_hub_id, _family) in HUB_MODELS.items():
    _register(_name, _hub_id, _family)
