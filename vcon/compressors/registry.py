"""The compressor registry: names in specs map to compressor config classes."""
from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any

from vcon.compressors.base import Compressor, SpecError

COMPRESSORS: dict[str, type[Compressor]] = {}


def register_compressor(cls: type[Compressor]) -> type[Compressor]:
    """Class decorator: make a compressor config available to specs under `cls.name`."""
    if cls.name in COMPRESSORS:
        raise ValueError(f"a compressor named {cls.name!r} is already registered")
    COMPRESSORS[cls.name] = cls
    return cls


def list_compressors() -> list[str]:
    return sorted(COMPRESSORS)


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def from_spec(spec: Mapping[str, Any] | Compressor) -> Compressor:
    """A compressor config from a plain dict such as {"name": "prune", "sparsity": 0.9}."""
    if isinstance(spec, Compressor):
        return spec
    if not isinstance(spec, Mapping) or "name" not in spec:
        raise SpecError(
            f"a compressor spec is a mapping with a 'name' key (one of {', '.join(list_compressors())}), got {spec!r}"
        )
    name = spec["name"]
    if name not in COMPRESSORS:
        raise SpecError(
            f"unknown compressor {name!r}{_did_you_mean(str(name), list_compressors())}; "
            f"valid compressors: {', '.join(list_compressors())}"
        )
    cls = COMPRESSORS[name]
    keys = [f.name for f in dataclasses.fields(cls)]
    options = {k: v for k, v in spec.items() if k != "name"}
    for key in options:
        if key not in keys:
            raise SpecError(
                f"{name}: unknown key {key!r}{_did_you_mean(key, keys)}; valid keys: {', '.join(keys)}"
            )
    return cls(**options)
