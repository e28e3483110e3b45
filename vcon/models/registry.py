"""The model registry: each name with its builder and the facts the workflow checks a config
against before any job starts (the width that bounds a low-rank rank, the hub checkpoint).

`@register_model(name, width=...)` on a `(num_classes, input_spec, init) -> Classifier` builder.
Registering imports no torch: builder modules import it inside their builders. Another installed
package adds a model as a `ModelEntry` under the entry-point group `vcon.models` (`vcon.plugins`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vcon.names import Registry
from vcon.plugins import instances_of

if TYPE_CHECKING:
    from vcon.models.classifier import Classifier

Builder = Callable[[int, Mapping[str, Any], "str | None"], "Classifier"]
"""`builder(num_classes, input_spec, init) -> Classifier`; `init=None` means the model's default."""


@dataclass(frozen=True)
class ModelEntry:
    builder: Builder
    width: int | None  # the smaller side of the smallest compressed linear: the largest low-rank rank
    hub_id: str | None = None  # the Hugging Face checkpoint it loads (None: built from code)
    family: str | None = None  # hf-vit, hf-bert, timm-vit


MODELS: Registry[ModelEntry] = Registry(
    "model", "vcon.models", instances_of(ModelEntry, "a vcon.models.registry.ModelEntry(builder, width=...)"))


def register_model(name: str, width: int | None = None, hub_id: str | None = None,
                   family: str | None = None) -> Callable[[Builder], Builder]:
    """Decorator registering a builder under `name` with its facts; names are unique."""

    def decorate(builder: Builder) -> Builder:
        MODELS.add(name, ModelEntry(builder, width, hub_id, family))
        return builder

    return decorate


def list_models() -> list[str]:
    """Registered model names, sorted."""
    return MODELS.names()


def get_builder(name: str) -> Builder | None:
    return MODELS.get(name).builder if name in MODELS else None


def entry_of(name_or_hub_id: str) -> ModelEntry | None:
    """The entry registered under a name, or the one that loads this hub checkpoint."""
    if name_or_hub_id in MODELS:
        return MODELS.get(name_or_hub_id)
    return next((entry for _, entry in MODELS.items() if entry.hub_id == name_or_hub_id), None)
