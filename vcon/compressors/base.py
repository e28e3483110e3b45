"""What every compressor is: a small frozen config that knows how to compress one linear layer."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor


class SpecError(ValueError):
    """A compressor spec that cannot be used, with a message naming the key and the valid values."""


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
    rows, n = values.shape
    if k <= 0:
        return torch.zeros_like(values, dtype=torch.bool)
    if k >= n:
        return torch.ones_like(values, dtype=torch.bool)
    threshold = values.kthvalue(k, dim=1, keepdim=True).values
    below = values < threshold
    tied = values == threshold
    still_needed = k - below.sum(dim=1, keepdim=True)
    return below | (tied & (tied.cumsum(dim=1) <= still_needed))


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


@dataclass(frozen=True)
class WeightCompressor(Compressor):
    """Replaces a weight W by C(W) of the same shape (pruning, binarization, quantization)."""

    refresh_every: ClassVar[int] = 1

    def state(self, weight: Tensor, level: float) -> Tensor | None:
        """What may be cached between steps (a pruning mask); None when there is nothing."""
        return None

    def values(self, weight: Tensor, state: Tensor | None, level: float) -> Tensor:
        """The exact compressed weight, without gradient."""
        raise NotImplementedError

    def forward_weight(self, weight: Tensor, state: Tensor | None, level: float) -> Tensor:
        """The compressed weight in training: exact values forward, straight-through gradient."""
        return straight_through(weight, self.values(weight.detach(), state, level))

    def stored_bytes(self, compressed: Tensor) -> int:
        """Bytes of the compact stored form of the compressed weight (bias not included)."""
        raise NotImplementedError


@dataclass(frozen=True)
class FactorCompressor(Compressor):
    """Replaces a weight W (out x in) by a product B A of smaller factors (low rank)."""

    def factorize(self, weight: Tensor, rank: int) -> tuple[Tensor, Tensor]:
        raise NotImplementedError
