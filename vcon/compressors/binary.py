"""Binary weights: sign(w) * mean(|w|), with a straight-through gradient to the latent weights."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from vcon.compressors import packing
from vcon.compressors.quantized import QuantizedWeights
from vcon.compressors.registry import register_compressor
from vcon.compressors.fastops import sign_times, signs_times
from vcon.compressors.options import BinaryOptions


@register_compressor
@dataclass(frozen=True)
class Binary(BinaryOptions, QuantizedWeights):
    """w_b = sign(w) * mean(|w|). scale: one mean per layer (the authors) or per output row.
    sign_zero: "plus" (sign(0) = +1, so every weight takes one of exactly two values per scale
    group) or "zero" (the authors' torch.sign: a weight of exactly 0 stays 0)."""

    def scale_of(self, weight: Tensor, magnitude: Tensor | None = None) -> Tensor:
        """mean |w| per layer, shape (1, 1), or per row; `magnitude`: |weight| if already at hand."""
        magnitude = weight.abs() if magnitude is None else magnitude
        if self.scale == "row":
            return magnitude.mean(dim=1, keepdim=True)
        return magnitude.mean().reshape(1, 1)

    def quantize_at(self, weight: Tensor, scale: Tensor, out: Tensor | None = None) -> Tensor:
        if self.sign_zero == "zero":
            return sign_times(weight, scale, out=out)  # torch.sign(weight) * scale
        return signs_times(weight, scale, out=out)  # torch.where(weight >= 0, scale, -scale)

    def quantize(self, weight: Tensor) -> Tensor:
        out = torch.abs(weight, out=torch.empty_like(weight))  # |w|, then the signs, in one buffer
        return self.quantize_at(weight, self.scale_of(weight, out), out=out)

    def encode(self, compressed: Tensor) -> tuple[str, dict[str, Tensor]]:
        """Packed sign bits (ceil(n / 8) bytes) plus the fp32 scale(s); with zeros (sign_zero:
        zero), 2-bit codes plus row scales."""
        form, parts = packing.encode_signs(compressed, per_row=self.scale == "row")
        if form == "dense" and self.sign_zero == "zero":
            return packing.encode_codes(compressed, 2)
        return form, parts
