"""Magnitude pruning: zero the weights of smallest |w|, per layer, per output row, or N:M."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch
from torch import Tensor

from vcon import schedules
from vcon.compressors.base import SpecError, WeightCompressor, round_half_up, smallest_mask, straight_through
from vcon.compressors.registry import register_compressor

GRADIENTS = ("straight_through", "masked")
_N_M = re.compile(r"^(\d+):(\d+)$")


@register_compressor
@dataclass(frozen=True)
class Prune(WeightCompressor):
    """Magnitude pruning.

    granularity: "layer" zeroes round(s * numel) weights of the whole matrix; "row" zeroes
    round(s * in_features) weights of each output row; "N:M" keeps the N largest of every M
    consecutive weights along a row (sparsity is then 1 - N/M and need not be given).
    Ties: among weights of equal |w| the one with the lower index is pruned first.
    update_every: recompute the mask from the latent weights every k steps (1: every step, as the
    authors do; 0: freeze the mask computed when the layer is compressed).
    gradient: "straight_through" (pruned latent weights keep their gradient and can come back) or
    "masked" (the gradient of W * mask: pruned weights get none from the compressed branch).
    ramp_every: update interval (steps) of the iterative baseline's cubic sparsity ramp.
    """

    name = "prune"
    sparsity: float | None = None
    granularity: str = "layer"
    update_every: int = 1
    gradient: str = "straight_through"
    ramp_every: int = 1

    def __post_init__(self) -> None:
        match = _N_M.match(self.granularity)
        if match:
            n, m = int(match.group(1)), int(match.group(2))
            if not 0 < n < m:
                raise SpecError(f"prune: granularity {self.granularity!r} needs 0 < N < M, e.g. '2:4'")
            implied = 1.0 - n / m
            if self.sparsity is not None and not math.isclose(self.sparsity, implied):
                raise SpecError(
                    f"prune: sparsity {self.sparsity} disagrees with granularity {self.granularity!r}, "
                    f"which means sparsity {implied}; drop the sparsity key"
                )
            object.__setattr__(self, "sparsity", implied)
        elif self.granularity not in ("layer", "row"):
            raise SpecError(
                f"prune: unknown granularity {self.granularity!r}; valid: 'layer', 'row' or 'N:M' (e.g. '2:4')"
            )
        if self.sparsity is None:
            object.__setattr__(self, "sparsity", 0.9)
        if not isinstance(self.sparsity, (int, float)) or not 0.0 <= self.sparsity < 1.0:
            raise SpecError(f"prune: sparsity must be a number in [0, 1), got {self.sparsity!r}")
        if not isinstance(self.update_every, int) or self.update_every < 0:
            raise SpecError(f"prune: update_every must be an integer >= 0 (0 freezes the mask), got {self.update_every!r}")
        if self.gradient not in GRADIENTS:
            raise SpecError(f"prune: unknown gradient {self.gradient!r}; valid: {', '.join(GRADIENTS)}")
        if not isinstance(self.ramp_every, int) or self.ramp_every < 1:
            raise SpecError(f"prune: ramp_every must be an integer >= 1, got {self.ramp_every!r}")

    @property
    def refresh_every(self) -> int:  # type: ignore[override]
        return self.update_every

    @property
    def n_m(self) -> tuple[int, int] | None:
        match = _N_M.match(self.granularity)
        return (int(match.group(1)), int(match.group(2))) if match else None

    @property
    def final_level(self) -> float:
        return float(self.sparsity)

    def iterative_level(self, step: int, total: int, layer_shape: tuple[int, int]) -> float:
        return schedules.gradual_sparsity(step, total, self.final_level, every=self.ramp_every)

    def check_layer(self, layer_name: str, weight: Tensor) -> None:
        if self.n_m and weight.shape[1] % self.n_m[1]:
            raise SpecError(
                f"prune: granularity {self.granularity!r} needs in_features divisible by {self.n_m[1]}, "
                f"but {layer_name} has {weight.shape[1]}"
            )

    def state(self, weight: Tensor, level: float) -> Tensor:
        """The keep-mask (True = kept) at sparsity `level`."""
        magnitude = weight.detach().abs()
        out_features, in_features = magnitude.shape
        if self.n_m:
            m = self.n_m[1]
            groups = magnitude.reshape(-1, m)
            return ~smallest_mask(groups, round_half_up(level * m)).reshape(out_features, in_features)
        if self.granularity == "row":
            return ~smallest_mask(magnitude, round_half_up(level * in_features))
        flat = magnitude.reshape(1, -1)
        return ~smallest_mask(flat, round_half_up(level * flat.numel())).reshape(out_features, in_features)

    def values(self, weight: Tensor, state: Tensor | None, level: float) -> Tensor:
        mask = self.state(weight, level) if state is None else state
        return weight * mask

    def forward_weight(self, weight: Tensor, state: Tensor | None, level: float) -> Tensor:
        mask = self.state(weight, level) if state is None else state
        if self.gradient == "masked":
            return weight * mask
        return straight_through(weight, weight.detach() * mask)

    def stored_bytes(self, compressed: Tensor) -> int:
        """The smaller of a bitmask plus fp32 values and CSR (fp32 values, int32 columns and row pointers)."""
        rows, cols = compressed.shape
        nonzeros = int(torch.count_nonzero(compressed))
        bitmask = math.ceil(rows * cols / 8) + 4 * nonzeros
        csr = 8 * nonzeros + 4 * (rows + 1)
        return min(bitmask, csr)
