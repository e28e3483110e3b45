"""The tokenizer of a model, loaded before the model: the data set needs it to encode its texts."""
from __future__ import annotations

import os
from typing import Any

from vcon.models.build import unregistered_source
from vcon.models.hf import hf_tokenizer
from vcon.models.pretrained import HUB_MODELS
from vcon.models.registry import get_builder


def load_tokenizer(name_or_path: str | os.PathLike[str], init: str | os.PathLike[str] | None = None) -> Any | None:
    """The tokenizer `build_model(name_or_path, ..., init=init).tokenizer` will have.

    None for image models and for embedded text models (their data set brings its own vocabulary).
    """
    name = os.fspath(name_or_path)
    init = None if init is None else os.fspath(init)
    if name in HUB_MODELS:
        source, family = HUB_MODELS[name]
        return hf_tokenizer(source, init, family)
    if get_builder(name) is not None:
        return None
    return hf_tokenizer(unregistered_source(name), init)
