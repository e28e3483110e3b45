"""The options of `random-prune`, in the form of vcon's own (vcon.compressors.options): read without
torch by the workflow's schema and `vcon train --help`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vcon.keys import key


@dataclass(frozen=True)
class RandomPruneOptions:
    name: ClassVar[str] = "random-prune"
    implementation: ClassVar[str] = "vcon_plugin_example.random_prune:RandomPrune"
    sparsity: float = key("share of the weights zeroed, drawn at random", 0.9,
                          {"type": "number", "minimum": 0, "exclusiveMaximum": 1})
    seed: int = key("seed of the random mask (with the layer's shape)", 0, {"type": "integer", "minimum": 0})
