"""Name -> builder registry. Adding a model is one module with a `@register_model` builder."""
from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vcon.models.classifier import Classifier

Builder = Callable[[int, Mapping[str, Any], "str | None"], "Classifier"]
"""`builder(num_classes, input_spec, init) -> Classifier`; `init=None` means the model's default."""

_BUILDERS: dict[str, Builder] = {}


def register_model(name: str) -> Callable[[Builder], Builder]:
    """Decorator registering `builder` under `name`; names are unique."""

    def decorate(builder: Builder) -> Builder:
        if name in _BUILDERS:
            raise ValueError(f"model {name!r} is already registered")
        _BUILDERS[name] = builder
        return builder

    return decorate


def list_models() -> list[str]:
    """Registered model names, sorted."""
    return sorted(_BUILDERS)


def get_builder(name: str) -> Builder | None:
    return _BUILDERS.get(name)


def describe_choices(name: str) -> str:
    """A 'did you mean' hint plus the list of registered names, for error messages."""
    names = list_models()
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f"{hint}registered models: {', '.join(names)}"
