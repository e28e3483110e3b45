"""The tokenizer of a model, loaded before the model: the data set needs it to encode its texts."""
from __future__ import annotations

import os
from typing import Any

from vcon.models.build import unregistered_source
from vcon.models.registry import MODELS


def load_tokenizer(name_or_path: str | os.PathLike[str], init: str | os.PathLike[str] | None = None) -> Any | None:
    """The tokenizer `build_model(name_or_path, ..., init=init).tokenizer` will have.

    None for image models and for embedded text models (their data set brings its own vocabulary).
    """
    from vcon.models.hf import hf_tokenizer

    name = os.fspath(name_or_path)
    init = None if init is None else os.fspath(init)
    if name in MODELS:
        entry = MODELS.get(name)
        return hf_tokenizer(entry.hub_id, init, entry.family) if entry.hub_id else None
    return hf_tokenizer(unregistered_source(name), init)
