"""Symmetric uniform k-bit weights with a per-row scale and a straight-through gradient (registered
as `quant`, the name configs use)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from vcon.compressors import packing
from vcon.compressors.options import QuantOptions
from vcon.compressors.quantized import QuantizedWeights
from vcon.compressors.registry import register_compressor


@register_compressor
@dataclass(frozen=True)
class Quant(QuantOptions, QuantizedWeights):
    """w_q = clamp(round(w / s), -L, L) * s with L = 2^(bits-1) - 1 and s = max|w_row| / L, so each
    row takes at most 2L + 1 values on a symmetric grid (bits = 2: {-s, 0, s})."""

    @property
    def levels(self) -> int:
        return 2 ** (self.bits - 1) - 1

    def scale_of(self, weight: Tensor, magnitude: Tensor | None = None) -> Tensor:
        """s = max|w_row| / L (1 for an all-zero row); `magnitude`: |weight| if already at hand."""
        magnitude = weight.abs() if magnitude is None else magnitude
        scale = magnitude.amax(dim=1, keepdim=True) / self.levels
        return torch.where(scale > 0, scale, torch.ones_like(scale))

    def quantize_at(self, weight: Tensor, scale: Tensor, out: Tensor | None = None) -> Tensor:
        """clamp(round(w / s), -L, L) * s, in `out` if given."""
        steps = torch.div(weight, scale, out=torch.empty_like(weight) if out is None else out)
        return steps.round_().clamp_(-self.levels, self.levels).mul_(scale)

    def quantize(self, weight: Tensor) -> Tensor:
        out = torch.abs(weight, out=torch.empty_like(weight))  # |w|, then w / s, rounded, ...: one buffer
        return self.quantize_at(weight, self.scale_of(weight, out), out=out)

    def encode(self, compressed: Tensor) -> tuple[str, dict[str, Tensor]]:
        """Sign-magnitude `bits`-bit codes (ceil(n * bits / 8) bytes) plus one fp32 scale per row."""
        return packing.encode_codes(compressed, self.bits)
