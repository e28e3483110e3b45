"""Shared part of the weight quantizers: the INQ-style partial quantization of iterative runs."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from vcon import schedules
from vcon.compressors.base import SpecError, WeightCompressor, kth_smallest, round_half_up, smallest_mask
from vcon.compressors.fastops import where_above_


@dataclass(frozen=True)
class QuantizedWeights(WeightCompressor):
    """A quantizer; the level is the share of each layer's weights that is quantized, largest
    |w| first (1.0 = all of them). shares: the INQ stages of the iterative baseline before T."""

    shares: Sequence[float] = schedules.INQ_SHARES

    def __post_init__(self) -> None:
        shares = tuple(self.shares)
        if not shares or any(not 0.0 < s <= 1.0 for s in shares) or list(shares) != sorted(shares):
            raise SpecError(f"{self.name}: shares must be increasing numbers in (0, 1], got {self.shares!r}")
        object.__setattr__(self, "shares", shares)

    @property
    def final_level(self) -> float:
        return 1.0

    def iterative_level(self, step: int, total: int, layer_shape: tuple[int, int]) -> float:
        return schedules.incremental_share(step, total, self.shares)

    def quantize(self, weight: Tensor) -> Tensor:
        raise NotImplementedError

    def values(self, weight: Tensor, state: Tensor | None, level: float) -> Tensor:
        quantized = self.quantize(weight)
        if level >= 1.0:
            return quantized
        magnitude = weight.abs().reshape(1, -1)
        full = magnitude.numel() - round_half_up(level * magnitude.numel())
        if 0 < full < magnitude.numel():
            threshold, tied = kth_smallest(magnitude, full, reorder=True)
            torch.abs(weight.reshape(1, -1), out=magnitude)  # in order again
            if not tied:  # then the quantized share is exactly the magnitudes above the threshold
                chosen = where_above_(magnitude, threshold, quantized.reshape(1, -1), weight.reshape(1, -1))
                return chosen.view_as(weight)
        keep_full = smallest_mask(magnitude, full)
        return torch.where(keep_full.reshape(weight.shape), weight, quantized)
