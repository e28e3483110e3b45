"""Binary weights: sign(w) * mean(|w|), with a straight-through gradient to the latent weights."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from vcon.compressors import packing
from vcon.compressors.quantized import QuantizedWeights
from vcon.compressors.registry import register_compressor
from vcon.compressors.base import SpecError
from vcon.compressors.fastops import signs_times

SCALES = ("layer", "row")


@register_compressor
@dataclass(frozen=True)
class Binary(QuantizedWeights):
    """w_b = sign(w) * mean(|w|), with sign(0) = +1 so every weight takes one of exactly two values
    per scale group. scale: one mean per layer (the authors) or per output row."""

    name = "binary"
    scale: str = "layer"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.scale not in SCALES:
            raise SpecError(f"binary: unknown scale {self.scale!r}; valid: {', '.join(SCALES)}")

    def quantize(self, weight: Tensor) -> Tensor:
        out = torch.abs(weight, out=torch.empty_like(weight))  # |w|, then the signs, in one buffer
        if self.scale == "row":
            scale = out.mean(dim=1, keepdim=True)
        else:
            scale = out.mean()
        return signs_times(weight, scale, out=out)  # torch.where(weight >= 0, scale, -scale)

    def encode(self, compressed: Tensor) -> tuple[str, dict[str, Tensor]]:
        """Packed sign bits (ceil(n / 8) bytes) plus the fp32 scale(s)."""
        return packing.encode_signs(compressed, per_row=self.scale == "row")
