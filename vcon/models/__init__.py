"""Model registry: `build_model(name_or_path, num_classes, input_spec, init) -> Classifier`.

Importing the package registers the built-in models without importing torch; `Classifier`,
`build_model` and `load_tokenizer` are imported on first use.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vcon.models import bert_mini, pretrained, vit_digits  # noqa: F401  (registrations)
from vcon.models.registry import MODELS, list_models, register_model

if TYPE_CHECKING:
    from vcon.models.build import build_model
    from vcon.models.classifier import Classifier
    from vcon.models.hub import HubUnreachableError
    from vcon.models.tokenizer import load_tokenizer

_HOMES = {"Classifier": "vcon.models.classifier", "HubUnreachableError": "vcon.models.hub",
          "build_model": "vcon.models.build", "load_tokenizer": "vcon.models.tokenizer"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'vcon.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = ["MODELS", "Classifier", "HubUnreachableError", "build_model", "list_models", "load_tokenizer",
           "register_model"]
