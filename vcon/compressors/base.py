"""What every compressor is: a small frozen config that knows how to compress one linear layer."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from vcon.compressors import packing
from vcon.compressors.fastops import any_equal


class _StraightThrough(torch.autograd.Function):
    """Forward: the given compressed values, exactly. Backward: the gradient passes unchanged to
    the latent full-precision weight."""

    @staticmethod
    def forward(ctx: Any, latent: Tensor, values: Tensor) -> Tensor:
        return values

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


def straight_through(latent: Tensor, values: Tensor) -> Tensor:
    """`values` in the forward pass, identity gradient to `latent` in the backward pass."""
    return _StraightThrough.apply(latent, values)


def round_half_up(x: float) -> int:
    """round() as taught in school (Python's round() goes to even on .5)."""
    return int(math.floor(x + 0.5))


def smallest_mask(values: Tensor, k: int) -> Tensor:
    """Boolean mask with True on exactly the k smallest entries of each row of a 2-D tensor.

    Ties are broken by position: among equal values the one with the lower index is taken first.
    """
    return ~largest_mask(values, k)


def largest_mask(values: Tensor, k: int) -> Tensor:
    """The complement of `smallest_mask(values, k)`: True on all but the k smallest of each row.

    One O(n) selection per row (`kth_smallest`); the position tie-break is only worked out when
    a row has a tie at its threshold.
    """
    rows, n = values.shape
    if k <= 0:
        return torch.ones_like(values, dtype=torch.bool)
    if k >= n:
        return torch.zeros_like(values, dtype=torch.bool)
    threshold, tied = kth_smallest(values, k)
    above = values > threshold
    if not tied:
        return above
    tied_entries = values == threshold
    still_needed = k - (values < threshold).sum(dim=1, keepdim=True)
    return above | (tied_entries & (tied_entries.cumsum(dim=1) > still_needed))


SORTING_NETWORK_MAX = 8
OPTIMAL_NETWORKS = {4: ((0, 1), (2, 3), (0, 2), (1, 3), (1, 2))}  # 5 comparators (Knuth, TAOCP 5.3.4)


def sorting_network(n: int) -> tuple[tuple[int, int], ...]:
    """Comparators (i, j), i < j, that sort n wires: the optimal one for n = 4, else odd-even
    transposition (n rounds)."""
    if n in OPTIMAL_NETWORKS:
        return OPTIMAL_NETWORKS[n]
    return tuple((i, i + 1) for round_index in range(n) for i in range(round_index % 2, n - 1, 2))


def sorted_columns(values: Tensor, wanted: tuple[int, ...]) -> list[Tensor]:
    """Columns `wanted` of `values` (2-D) with each row sorted ascending, by a sorting network of
    elementwise min / max over the columns; only the comparator outputs that lead to `wanted` are
    computed (8 of the 10 for the middle pair of 4)."""
    plan, needed = [], set(wanted)
    for i, j in reversed(sorting_network(values.shape[1])):
        low, high = i in needed, j in needed
        if low or high:
            plan.append((i, j, low, high))
            needed |= {i, j}
    columns = list(values.unbind(dim=1))
    for i, j, low, high in reversed(plan):
        a, b = columns[i], columns[j]
        if low:
            columns[i] = torch.minimum(a, b)
        if high:
            columns[j] = torch.maximum(a, b)
    return [columns[w] for w in wanted]


def kth_smallest(values: Tensor, k: int, reorder: bool = False) -> tuple[Tensor, bool]:
    """The k-th smallest entry of each row of a 2-D tensor (1 <= k < n) as a (rows, 1) tensor, and
    whether any row's (k+1)-th smallest equals it (a tie at the threshold). No full sort: rows of
    at most 8 go through a sorting network of elementwise min/max, other rows on the CPU through
    numpy's introselect (`partition`, about 10x faster than torch.kthvalue here), else kthvalue.
    reorder: the rows of `values` may be left permuted (numpy then partitions in place, no copy)."""
    n = values.shape[1]
    if n <= SORTING_NETWORK_MAX:
        kth, following = sorted_columns(values, (k - 1, k))
        return kth.unsqueeze(1), any_equal(kth, following)
    if values.device.type == "cpu" and values.dtype in (torch.float32, torch.float64):
        array = values.detach().numpy()
        if reorder and not torch.compiler.is_compiling():  # torch._numpy has no in-place partition
            array.partition(k - 1, axis=1)
        else:
            array = np.partition(array, k - 1, axis=1)
        kth = array[:, k - 1:k]
        return torch.from_numpy(kth.copy()), bool((array[:, k:].min(axis=1, keepdims=True) == kth).any())
    kth = values.kthvalue(k, dim=1, keepdim=True).values
    return kth, bool(((values <= kth).sum(dim=1) != k).any())


@dataclass(frozen=True)
class Compressor:
    """Base of every compressor config. Subclasses are dataclasses whose fields are the spec keys."""

    name: ClassVar[str]

    def check_layer(self, layer_name: str, weight: Tensor) -> None:
        """Raise SpecError when this spec cannot compress a weight of this shape."""

    def to_spec(self) -> dict[str, Any]:
        fields = dataclasses.asdict(self)
        return {"name": self.name, **{k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}}

    @property
    def final_level(self) -> float:
        """The compression level of post-shot and VCON runs (and of iterative runs from T on)."""
        raise NotImplementedError

    def iterative_level(self, step: int, total: int, layer_shape: tuple[int, int]) -> float:
        """The level of the gradual baseline at `step` of `total`."""
        raise NotImplementedError

    def check_iterative(self, total: int) -> None:
        """Raise SpecError when the gradual baseline's schedule does not fit in T = `total` steps."""


@dataclass(frozen=True)
class WeightCompressor(Compressor):
    """Replaces a weight W by C(W) of the same shape (pruning, binarization, quantization)."""

    refresh_every: ClassVar[int] = 1
    identity_gradient: ClassVar[bool] = True  # forward_weight passes the gradient to the latent weight unchanged

    def state(self, weight: Tensor, level: float) -> Tensor | None:
        """What may be cached between steps (a pruning mask); None when there is nothing."""
        return None

    def iterative_state(self, weight: Tensor) -> torch.nn.Module | None:
        """A module holding what the iterative baseline keeps between steps (INQ's frozen shares),
        with `advance(weight, level)` and `apply(weight)`; None when the level says it all."""
        return None

    def values(self, weight: Tensor, state: Tensor | None, level: float) -> Tensor:
        """The exact compressed weight, without gradient."""
        raise NotImplementedError

    def forward_weight(self, weight: Tensor, state: Tensor | None, level: float) -> Tensor:
        """The compressed weight in training: exact values forward, straight-through gradient."""
        return straight_through(weight, self.values(weight.detach(), state, level))

    def encode(self, compressed: Tensor) -> tuple[str, dict[str, Tensor]]:
        """The compact stored form of an exported weight: a form name (see `vcon.compressors.packing`)
        and its tensors; `packing.decode` gives the weight back bit for bit."""
        return packing.encode_dense(compressed)


@dataclass(frozen=True)
class FactorCompressor(Compressor):
    """Replaces a weight W (out x in) by a product B A of smaller factors (low rank)."""

    def factorize(self, weight: Tensor, rank: int) -> tuple[Tensor, Tensor]:
        raise NotImplementedError
