"""Shared part of the weight quantizers: the INQ-style partial quantization of iterative runs."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from vcon import schedules
from vcon.compressors.base import WeightCompressor, kth_smallest, round_half_up, smallest_mask
from vcon.compressors.fastops import where_above_
from vcon.compressors.options import QuantizedOptions


@dataclass(frozen=True)
class QuantizedWeights(QuantizedOptions, WeightCompressor):
    """A quantizer; the level is the share of each layer's weights that is quantized, largest
    |w| first (1.0 = all of them). shares: the INQ stages of the iterative baseline before T.
    quantized_share: what the iterative baseline does with the quantized share. "frozen" (INQ,
    Zhou et al. 2017): each share is quantized when its stage starts, on levels fixed at the first
    stage, and keeps those values; only the rest trains. "trained": the share is re-quantized from
    the latent weights every step and trains through the straight-through estimator."""

    @property
    def final_level(self) -> float:
        return 1.0

    def iterative_level(self, step: int, total: int, layer_shape: tuple[int, int]) -> float:
        return schedules.incremental_share(step, total, self.shares)

    def iterative_state(self, weight: Tensor) -> nn.Module | None:
        return FrozenShares(self, weight) if self.quantized_share == "frozen" else None

    def scale_of(self, weight: Tensor) -> Tensor:
        """The quantization scale(s) of `weight`: shape (1, 1) or (rows, 1)."""
        raise NotImplementedError

    def quantize_at(self, weight: Tensor, scale: Tensor) -> Tensor:
        """`weight` quantized on the levels of `scale`."""
        raise NotImplementedError

    def quantize(self, weight: Tensor) -> Tensor:
        return self.quantize_at(weight, self.scale_of(weight))

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


class FrozenShares(nn.Module):
    """INQ state of one layer: which weights are frozen, at which quantized values, on which scale.

    The buffers are the truth: the layer computes with `apply(latent)`, which takes the frozen
    values where `frozen` is set, so those entries neither change nor pass a gradient to the
    latent weight, whatever the optimizer does to the latent entries behind them.
    """

    def __init__(self, compressor: QuantizedWeights, weight: Tensor) -> None:
        super().__init__()
        self.compressor = compressor
        self.register_buffer("frozen", torch.zeros_like(weight, dtype=torch.bool))
        self.register_buffer("frozen_values", torch.zeros_like(weight.detach()))
        self.register_buffer("scale", torch.zeros_like(compressor.scale_of(weight.detach())))

    @torch.no_grad()
    def advance(self, weight: Tensor, level: float) -> None:
        """Freeze the largest |w| not yet frozen until round(level * n) weights are."""
        count = weight.numel()
        target = count if level >= 1.0 else round_half_up(level * count)
        done = int(self.frozen.sum())
        if target < done:
            raise ValueError(f"INQ shares only grow: {done} weights are frozen, level {level} asks for {target}")
        if target == done:
            return
        if done == 0:
            self.scale.copy_(self.compressor.scale_of(weight))
        magnitude = weight.abs().reshape(1, -1).masked_fill(self.frozen.reshape(1, -1), -1.0)
        new = ~smallest_mask(magnitude, count - target + done).reshape(weight.shape)
        self.frozen_values.copy_(torch.where(new, self.compressor.quantize_at(weight, self.scale), self.frozen_values))
        self.frozen |= new

    def apply(self, weight: Tensor) -> Tensor:
        return torch.where(self.frozen, self.frozen_values, weight)
