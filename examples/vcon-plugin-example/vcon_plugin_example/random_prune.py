"""Random pruning, a sanity baseline: exactly round(s * n) weights of each layer zeroed, chosen by a
seeded permutation, whatever their values (magnitude pruning should beat it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from vcon import schedules
from vcon.compressors import WeightCompressor, packing
from vcon.compressors.base import round_half_up
from vcon_plugin_example.options import RandomPruneOptions


@dataclass(frozen=True)
class RandomPrune(RandomPruneOptions, WeightCompressor):
    refresh_every: ClassVar[int] = 0  # the mask is drawn once per layer and level, then kept

    @property
    def final_level(self) -> float:
        return float(self.sparsity)

    def iterative_level(self, step: int, total: int, layer_shape: tuple[int, int]) -> float:
        return schedules.gradual_sparsity(step, total, self.final_level)

    def state(self, weight: Tensor, level: float) -> Tensor:
        """The keep-mask: the first round(level * n) entries of a permutation drawn from the seed and
        the shape are pruned (so a higher level prunes more of the same order; layers of one shape
        share it)."""
        order = np.random.default_rng([self.seed, *weight.shape]).permutation(weight.numel())
        keep = torch.ones(weight.numel(), dtype=torch.bool)
        keep[torch.from_numpy(order[:round_half_up(level * weight.numel())])] = False
        return keep.view_as(weight).to(weight.device)

    def values(self, weight: Tensor, state: Tensor | None, level: float) -> Tensor:
        mask = self.state(weight, level) if state is None else state
        return torch.where(mask, weight, 0.0)

    def encode(self, compressed: Tensor) -> tuple[str, dict[str, Tensor]]:
        return packing.encode_sparse(compressed)
