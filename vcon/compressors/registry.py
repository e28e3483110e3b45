"""The compressor registry: names in specs map to compressor config classes (built in, registered
with `register_compressor`, or a plugin's, `vcon.compressors.declared`)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vcon.compressors import options
from vcon.compressors.base import Compressor
from vcon.compressors.declared import implementation
from vcon.compressors.options import SpecError
from vcon.names import Registry

COMPRESSORS: Registry[type[Compressor]] = Registry("compressor", "vcon.compressors", implementation)


def register_compressor(cls: type[Compressor]) -> type[Compressor]:
    """Class decorator: make a compressor config available to specs under `cls.name`."""
    return COMPRESSORS.add(cls.name, cls)


def list_compressors() -> list[str]:
    return COMPRESSORS.names()


def from_spec(spec: Mapping[str, Any] | Compressor) -> Compressor:
    """A compressor config from a plain dict such as {"name": "prune", "sparsity": 0.9} (or a compressor
    object), checked as a cell config's `compressor` (`vcon.compressors.options.problems`)."""
    lines = options.problems(spec.to_spec() if isinstance(spec, Compressor) else spec)
    if lines:
        raise SpecError("\n".join(lines))
    if isinstance(spec, Compressor):
        return spec
    if spec["name"] not in COMPRESSORS:  # a plugin's class that does not fit its options
        raise SpecError(f"compressor.name: {COMPRESSORS.unknown(spec['name'])}")
    return COMPRESSORS.get(spec["name"])(**{k: v for k, v in spec.items() if k != "name"})
