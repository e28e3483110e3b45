"""Name -> builder registry. Adding a model is one module with a `@register_model` builder."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from vcon.names import Registry

if TYPE_CHECKING:
    from vcon.models.classifier import Classifier

Builder = Callable[[int, Mapping[str, Any], "str | None"], "Classifier"]
"""`builder(num_classes, input_spec, init) -> Classifier`; `init=None` means the model's default."""

MODELS: Registry[Builder] = Registry("model")


def register_model(name: str) -> Callable[[Builder], Builder]:
    """Decorator registering a builder under `name`; names are unique."""
    return MODELS.register(name)


def list_models() -> list[str]:
    """Registered model names, sorted."""
    return MODELS.names()


def get_builder(name: str) -> Builder | None:
    return MODELS.get(name) if name in MODELS else None
