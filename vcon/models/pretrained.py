"""Registered Hugging Face checkpoints: a short name for a hub id of a known family."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vcon.models.registry import register_model

if TYPE_CHECKING:
    from vcon.models.classifier import Classifier


@dataclass(frozen=True)
class HubModel:
    hub_id: str
    family: str
    width: int  # hidden size: the smaller side of its smallest compressed linear


HUB_MODELS: dict[str, HubModel] = {
    "vit-tiny": HubModel("WinKawaks/vit-tiny-patch16-224", "hf-vit", 192),
    "vit-small": HubModel("WinKawaks/vit-small-patch16-224", "hf-vit", 384),
    "vit-base": HubModel("google/vit-base-patch16-224", "hf-vit", 768),
    "bert-base": HubModel("google-bert/bert-base-uncased", "hf-bert", 768),
}


def _register(name: str, model: HubModel) -> None:
    @register_model(name, width=model.width, hub_id=model.hub_id, family=model.family)
    def build(num_classes: int, input_spec: Mapping[str, Any], init: str | None) -> Classifier:
        from vcon.models.hf import build_hf

        return build_hf(model.hub_id, num_classes, input_spec, init, family=model.family)


for _name, _model in HUB_MODELS.items():
    _register(_name, _model)
