"""Low rank: W (out x in) ~ B A by truncated SVD, A = V_r^T (r x in), B = U_r diag(S_r) (out x r)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from vcon import schedules
from vcon.compressors.base import FactorCompressor
from vcon.compressors.options import LowRankOptions, SpecError
from vcon.compressors.registry import register_compressor


@register_compressor
@dataclass(frozen=True)
class LowRank(LowRankOptions, FactorCompressor):
    """Truncated SVD at `rank`; both factors are trained and the bias is kept.

    bias: "shared" (the authors: one bias serves the dense branch and the factor pair, and gets
    the gradient of both) or "separate" (the factor pair has its own copy of the bias, blended
    with the dense one by beta; only the factor bias is exported).
    The iterative baseline starts at `start_rank` (default: 4 * rank, capped by the layer) and
    re-truncates by SVD in `rank_stages` geometric steps, reaching `rank` at T. optimizer_state: at
    each such step the factors are rewritten in a new basis, so their optimizer state is dropped
    ("reset": Adam starts afresh on them, as on a new layer; its first moment could be carried into
    the new basis, its elementwise second moment cannot) or "kept" as it was (design 1).
    """

    def check_layer(self, layer_name: str, weight: Tensor) -> None:
        limit = min(weight.shape)
        if self.rank > limit:
            raise SpecError(
                f"lowrank: rank {self.rank} is above min(out_features, in_features) = {limit} of "
                f"{layer_name} {tuple(weight.shape)}; choose rank <= {limit}"
            )

    @property
    def final_level(self) -> float:
        return float(self.rank)

    def first_rank(self, layer_shape: tuple[int, int]) -> int:
        start = self.start_rank if self.start_rank is not None else 4 * self.rank
        return max(self.rank, min(start, *layer_shape))

    def iterative_level(self, step: int, total: int, layer_shape: tuple[int, int]) -> float:
        return float(schedules.stepwise_rank(step, total, self.first_rank(layer_shape), self.rank, self.rank_stages))

    def factorize(self, weight: Tensor, rank: int) -> tuple[Tensor, Tensor]:
        """(B, A) of the best rank-`rank` approximation of `weight` in Frobenius norm."""
        u, s, vh = torch.linalg.svd(weight.detach().float(), full_matrices=False)
        return (u[:, :rank] * s[:rank]).to(weight.dtype), vh[:rank].to(weight.dtype)
