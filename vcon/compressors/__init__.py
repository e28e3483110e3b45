"""Compressors: small frozen configs, registered by name. Adding one is an options class in
`vcon.compressors.options` plus one module, imported in `_BUILT_IN` below; another installed package
adds one through the entry-point group `vcon.compressors` (`vcon.compressors.declared`).

Importing the package imports no torch (`vcon.compressors.options` declares every option for the
workflow schema); the names below, and the registration of the built-in compressors, come on first use.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vcon.compressors.base import Compressor, FactorCompressor, WeightCompressor
    from vcon.compressors.options import SpecError
    from vcon.compressors.registry import COMPRESSORS, from_spec, list_compressors, register_compressor

_BUILT_IN = ("binary", "kbit", "lowrank", "prune")  # modules; kbit registers "quant"
_HOMES = {"Compressor": "base", "FactorCompressor": "base", "SpecError": "options", "WeightCompressor": "base",
          "COMPRESSORS": "registry", "from_spec": "registry", "list_compressors": "registry",
          "register_compressor": "registry"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'vcon.compressors' has no attribute {name!r}")
    for module in _BUILT_IN:  # registration
        importlib.import_module(f"vcon.compressors.{module}")
    value = getattr(importlib.import_module(f"vcon.compressors.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = [
    "COMPRESSORS",
    "Compressor",
    "FactorCompressor",
    "SpecError",
    "WeightCompressor",
    "from_spec",
    "list_compressors",
    "register_compressor",
]
