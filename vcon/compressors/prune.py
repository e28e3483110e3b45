"""Magnitude pruning: zero the weights of smallest |w|, per layer, per output row, or N:M."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from vcon import schedules
from vcon.compressors import packing
from vcon.compressors.base import (SORTING_NETWORK_MAX, WeightCompressor, kth_smallest, largest_mask, round_half_up,
                                   straight_through)
from vcon.compressors.fastops import keep_above
from vcon.compressors.options import PruneOptions, SpecError
from vcon.compressors.registry import register_compressor


@register_compressor
@dataclass(frozen=True)
class Prune(PruneOptions, WeightCompressor):
    """Magnitude pruning.

    granularity: "layer" zeroes round(s * numel) weights of the whole matrix; "row" zeroes
    round(s * in_features) weights of each output row; "N:M" keeps the N largest of every M
    consecutive weights along a row (sparsity is then 1 - N/M and need not be given).
    ties: "exact" (among weights of equal |w| the one with the lower index is pruned first, so
    exactly the stated count is pruned) or "keep" (the authors' rule: keep every weight with |w| >=
    the threshold the kept count gives, so a tie there keeps extra weights).
    update_every: recompute the mask from the latent weights every k steps (1: every step, as the
    authors do; 0: freeze the mask computed when the layer is compressed).
    gradient: "straight_through" (pruned latent weights keep their gradient and can come back) or
    "masked" (the gradient of W * mask: pruned weights get none from the compressed branch).
    ramp_every: update interval (steps) of the iterative baseline's cubic sparsity ramp.
    """

    @property
    def refresh_every(self) -> int:  # type: ignore[override]
        return self.update_every

    @property
    def identity_gradient(self) -> bool:  # type: ignore[override]
        return self.gradient == "straight_through"

    @property
    def final_level(self) -> float:
        return float(self.sparsity)

    def iterative_level(self, step: int, total: int, layer_shape: tuple[int, int]) -> float:
        return schedules.gradual_sparsity(step, total, self.final_level, every=self.ramp_every, start=self.ramp_start,
                                          initial=float(self.ramp_initial), updates=self.ramp_updates)

    def check_iterative(self, total: int) -> None:
        try:
            schedules.ramp(total, self.ramp_every, self.ramp_start, self.ramp_updates)
        except ValueError as error:
            raise SpecError(f"prune: {error}") from None

    def iterative_state(self, weight: Tensor) -> nn.Module | None:
        """Zhu & Gupta's mask (`gradient: masked`); with the straight-through gradient the mask is
        recomputed from the latent weights like post-shot's, at the ramp's level."""
        return GradualMask(self, weight) if self.gradient == "masked" else None

    def check_layer(self, layer_name: str, weight: Tensor) -> None:
        if self.n_m and weight.shape[1] % self.n_m[1]:
            raise SpecError(
                f"prune: granularity {self.granularity!r} needs in_features divisible by {self.n_m[1]}, "
                f"but {layer_name} has {weight.shape[1]}"
            )

    def state(self, weight: Tensor, level: float) -> Tensor:
        """The keep-mask (True = kept) at sparsity `level`."""
        groups, k = self._groups(weight.detach(), level)
        return self._kept(groups.abs(), k).view_as(weight)

    def _kept(self, magnitude: Tensor, k: int) -> Tensor:
        """True on the entries of each row that survive pruning k of them."""
        if self.ties == "exact" or k <= 0 or k >= magnitude.shape[1]:
            return largest_mask(magnitude, k)
        return magnitude >= magnitude.kthvalue(k + 1, dim=1, keepdim=True).values

    def values(self, weight: Tensor, state: Tensor | None, level: float) -> Tensor:
        if state is None:
            return self._pruned(weight.detach(), level)
        return torch.where(state, weight, 0.0)  # pruned entries are +0.0, whatever the sign of w

    def _groups(self, weight: Tensor, level: float) -> tuple[Tensor, int]:
        """The weight as rows of one selection each, and how many entries each row loses."""
        if self.n_m:
            m = self.n_m[1]
            return weight.reshape(-1, m), round_half_up(level * m)
        if self.granularity == "row":
            return weight, round_half_up(level * weight.shape[1])
        return weight.reshape(1, -1), round_half_up(level * weight.numel())

    def _pruned(self, weight: Tensor, level: float) -> Tensor:
        """The pruned weight without a stored mask: one selection of the threshold, then one pass."""
        groups, k = self._groups(weight, level)
        if k <= 0:
            return weight.clone()
        if k >= groups.shape[1]:
            return torch.zeros_like(weight)
        keep_ties = self.ties == "keep"
        out = torch.empty_like(weight)  # |w| (which the selection may reorder), then the pruned weight
        magnitude = torch.abs(groups, out=out.view(groups.shape))
        finite = (groups.shape[0] == 1 and not keep_ties) or bool(torch.isfinite(magnitude.sum()))
        if keep_ties and not finite:  # NaN or inf weights: the authors' rule as written
            return torch.where(self._kept(groups.abs(), k), groups, 0.0).view_as(weight)
        wide = groups.shape[1] > SORTING_NETWORK_MAX  # numpy's selection, in place
        threshold, tied = kth_smallest(magnitude, k, reorder=wide)
        if tied:  # exact: the lower index goes first; keep: every |w| >= the threshold stays
            return torch.where(self._kept(groups.abs(), k), groups, 0.0).view_as(weight)
        # No tie: the k-th smallest |w| is below the (k+1)-th, so both rules keep exactly |w| > threshold.
        if groups.shape[0] == 1:  # one threshold: hardshrink zeroes |w| <= t (as +0.0) in one pass
            return torch.hardshrink(weight, float(threshold), out=out)
        if wide:
            torch.abs(groups, out=magnitude)  # in order again
        if not finite:  # NaN or inf weights: keep_above's 0 * w would be NaN
            return torch.where(magnitude > threshold, groups, 0.0).view_as(weight)
        return keep_above(groups, magnitude, threshold, out=magnitude).view_as(weight)

    def forward_weight(self, weight: Tensor, state: Tensor | None, level: float) -> Tensor:
        if self.gradient == "masked":
            mask = self.state(weight, level) if state is None else state
            return torch.where(mask, weight, 0.0)
        return straight_through(weight, self.values(weight.detach(), state, level))

    def encode(self, compressed: Tensor) -> tuple[str, dict[str, Tensor]]:
        """The smaller of a bitmask plus the nonzero values and CSR (values, int32 columns and row pointers)."""
        return packing.encode_sparse(compressed)


class GradualMask(nn.Module):
    """The mask of one layer in Zhu & Gupta's gradual pruning (`gradient: masked`, iterative baseline).

    It changes only when the ramp's level does (every dt steps from t_0): the new mask keeps the
    largest |w| among the weights still kept, so a pruned weight stays pruned. The layer computes
    with W * mask, whose gradient is exactly 0 on pruned entries.
    """

    def __init__(self, compressor: Prune, weight: Tensor) -> None:
        super().__init__()
        self.compressor = compressor
        self.register_buffer("mask", torch.ones_like(weight, dtype=torch.bool))
        self.register_buffer("level", torch.zeros((), dtype=torch.float64))

    @torch.no_grad()
    def advance(self, weight: Tensor, level: float) -> None:
        held = float(self.level)
        if level == held:
            return
        if level < held:
            raise ValueError(f"the sparsity ramp only grows: the mask is at {held}, level {level} asks for less")
        self.mask.copy_(self.compressor.state(torch.where(self.mask, weight, 0.0), level))
        self.level.fill_(level)

    def apply(self, weight: Tensor) -> Tensor:
        return torch.where(self.mask, weight, 0.0)
