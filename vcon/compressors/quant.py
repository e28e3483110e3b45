"""Symmetric uniform k-bit weights with a per-row scale and a straight-through gradient."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from vcon.compressors import packing
from vcon.compressors.base import SpecError
from vcon.compressors.options import QuantOptions
from vcon.compressors.quantized import QuantizedWeights
from vcon.compressors.registry import register_compressor


@register_compressor
@dataclass(frozen=True)
class Quant(QuantOptions, QuantizedWeights):
    """w_q = clamp(round(w / s), -L, L) * s with L = 2^(bits-1) - 1 and s = max|w_row| / L, so each
    row takes at most 2L + 1 values on a symmetric grid (bits = 2: {-s, 0, s})."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.bits, int) or not 2 <= self.bits <= 8:
            raise SpecError(f"quant: bits must be an integer in 2..8, got {self.bits!r}")

    @property
    def levels(self) -> int:
        return 2 ** (self.bits - 1) - 1

    def scale_of(self, weight: Tensor) -> Tensor:
        scale = weight.abs().amax(dim=1, keepdim=True) / self.levels
        return torch.where(scale > 0, scale, torch.ones_like(scale))

    def quantize_at(self, weight: Tensor, scale: Tensor) -> Tensor:
        return torch.clamp(torch.round(weight / scale), -self.levels, self.levels) * scale

    def encode(self, compressed: Tensor) -> tuple[str, dict[str, Tensor]]:
        """Sign-magnitude `bits`-bit codes (ceil(n * bits / 8) bytes) plus one fp32 scale per row."""
        return packing.encode_codes(compressed, self.bits)
