"""The compressor registry: names in specs map to compressor config classes (built in, registered
with `register_compressor`, or a plugin's, `vcon.compressors.declared`)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from vcon import schema_errors
from vcon.compressors.base import Compressor, SpecError
from vcon.compressors.declared import implementation
from vcon.keys import properties
from vcon.names import Registry, did_you_mean

COMPRESSORS: Registry[type[Compressor]] = Registry("compressor", "vcon.compressors", implementation)


def register_compressor(cls: type[Compressor]) -> type[Compressor]:
    """Class decorator: make a compressor config available to specs under `cls.name`."""
    return COMPRESSORS.add(cls.name, cls)


def list_compressors() -> list[str]:
    return COMPRESSORS.names()


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
        raise SpecError(COMPRESSORS.unknown(name))
    cls = COMPRESSORS.get(name)
    keys = [f.name for f in dataclasses.fields(cls)]
    options = {k: v for k, v in spec.items() if k != "name"}
    for key in options:
        if key not in keys:
            raise SpecError(
                f"{name}: unknown key {key!r}{did_you_mean(key, keys)}; valid keys: {', '.join(keys)}"
            )
    compressor = cls(**options)
    # The class checks its values first (its messages name the fix), then every key its declared
    # schema, which catches what a plugin's class leaves unchecked.
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}  # as YAML spells them
    lines = schema_errors.problems(values, {"type": "object", "properties": properties(cls)})
    if lines:
        raise SpecError(f"{name}: {lines[0]}")
    return compressor
