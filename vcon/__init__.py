"""vcon: Vanishing Contributions, a smooth transition of a trained network into its compressed form.

    import vcon
    vcon.compress(model, {"name": "prune", "sparsity": 0.9})   # in place, beta = 1
    vcon.set_beta(model, vcon.schedules.beta("linear", step, q))
    small = vcon.export(model)                                  # plain compressed model
    vcon.stats(model)["total"]["sparsity"]
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vcon import schedules
    from vcon.api import (compress, release_original, reset_optimizer_state, rewritten_parameters, set_beta, set_step,
                          vanishing_layers)
    from vcon.blend import VanishingBlock, VanishingLinear, VanishingLowRank
    from vcon.compact import load_compact, save_compact
    from vcon.compressors import COMPRESSORS, SpecError, from_spec, list_compressors, register_compressor
    from vcon.exporting import CompressedLinear, LowRankLinear, export
    from vcon.statistics import stats

# Imported on first use, so that `python -m vcon train` can hand a cell to a warm worker
# (vcon.warm) without importing torch first.
_HOMES = {
    "schedules": "vcon",
    "compress": "vcon.api", "release_original": "vcon.api", "set_beta": "vcon.api",
    "set_step": "vcon.api", "reset_optimizer_state": "vcon.api", "rewritten_parameters": "vcon.api",
    "vanishing_layers": "vcon.api",
    "VanishingBlock": "vcon.blend", "VanishingLinear": "vcon.blend", "VanishingLowRank": "vcon.blend",
    "load_compact": "vcon.compact", "save_compact": "vcon.compact",
    "COMPRESSORS": "vcon.compressors", "SpecError": "vcon.compressors", "from_spec": "vcon.compressors",
    "list_compressors": "vcon.compressors", "register_compressor": "vcon.compressors",
    "CompressedLinear": "vcon.exporting", "LowRankLinear": "vcon.exporting", "export": "vcon.exporting",
    "stats": "vcon.statistics",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'vcon' has no attribute {name!r}")
    value = importlib.import_module(f"vcon.{name}") if home == "vcon" else getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__version__ = "0.1.0"

__all__ = [
    "COMPRESSORS",
    "CompressedLinear",
    "LowRankLinear",
    "SpecError",
    "VanishingBlock",
    "VanishingLinear",
    "VanishingLowRank",
    "compress",
    "export",
    "from_spec",
    "list_compressors",
    "load_compact",
    "register_compressor",
    "release_original",
    "reset_optimizer_state",
    "rewritten_parameters",
    "save_compact",
    "schedules",
    "set_beta",
    "set_step",
    "stats",
    "vanishing_layers",
]
