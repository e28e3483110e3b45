"""The vanishing blend y = beta * f(x) + (1 - beta) * g(x): f the original block, g its compressed form.

For a linear layer with a weight compressor the blend is one matmul on the blended weight
W_eff = beta W_orig + (1 - beta) C(W), which is exactly the output blend. For low rank it is one
matmul on beta W + (1 - beta) B A while 0 < beta < 1 and the factor pair alone at beta = 0. For
any other pair of modules, `VanishingBlock` blends their outputs.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vcon.compressors.base import FactorCompressor, WeightCompressor, straight_through

ORIGINALS = ("shared", "frozen", "copy")


def _check_original(original: str) -> None:
    if original not in ORIGINALS:
        raise ValueError(f"unknown original branch {original!r}; valid: {', '.join(ORIGINALS)}")


class Vanishing(nn.Module):
    """What every blended layer has: beta, the compression level and the global step."""

    beta: float
    level: float
    step: int
    released: bool
    _prepared: tuple[tuple, Tensor] | None = None  # from prepare_layers, with what it depends on

    def _init_blend(self) -> None:
        self.beta = 1.0
        self.step = 0
        self.released = False

    def _prepare(self) -> None:
        """Compute ahead what this forward pass will need (see prepare_layers)."""

    def _values_key(self) -> tuple:
        """What the prepared tensor depends on."""
        raise NotImplementedError

    def _take_prepared(self) -> Tensor | None:
        """The tensor prepared before this forward pass, if its key still matches."""
        if torch.compiler.is_compiling():
            return None
        prepared, self._prepared = self._prepared, None
        if prepared is None or prepared[0] != self._values_key():
            return None
        return prepared[1]

    def set_level(self, level: float) -> None:
        self.level = float(level)

    def _check_beta(self) -> None:
        if self.released and self.beta > 0.0:
            raise RuntimeError("the original branch was released; beta must stay 0")


class VanishingLinear(Vanishing):
    """A linear layer blending its original weight with C(W) for a weight compressor C.

    original: "shared" (one latent weight feeds both branches, as the authors do), "frozen" (the
    original branch is a frozen copy of the dense weights) or "copy" (a separately trained copy).
    iterative: keep the compressor's iterative state (INQ's frozen shares), which then decides the
    compressed weight; its level starts at 0.
    """

    def __init__(self, linear: nn.Linear, compressor: WeightCompressor, original: str = "shared",
                 iterative: bool = False) -> None:
        super().__init__()
        _check_original(original)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.compressor = compressor
        self.original = original
        self.weight = linear.weight
        self.bias = linear.bias
        if original != "shared":
            trained = original == "copy"
            self.original_weight = nn.Parameter(linear.weight.detach().clone(), requires_grad=trained)
            self.original_bias = (
                None if linear.bias is None else nn.Parameter(linear.bias.detach().clone(), requires_grad=trained)
            )
        self.iterative_state = compressor.iterative_state(linear.weight) if iterative else None
        self.level = compressor.final_level if self.iterative_state is None else 0.0
        self._init_blend()
        # Cached compression state (a pruning mask) for masks refreshed every k > 1 steps or frozen.
        self.register_buffer("cached_state", None)
        self.register_buffer("cached_key", torch.tensor([-1.0, -1.0], dtype=torch.float64))
        if compressor.refresh_every != 1:
            self._state()  # a frozen mask is the one of the dense weights

    def _state(self) -> Tensor | None:
        every = self.compressor.refresh_every
        if every == 1:
            return None  # computed inside values(), without materializing a mask
        period = 0 if every == 0 else self.step // every
        key = torch.tensor([float(period), self.level], dtype=torch.float64)
        if self.cached_state is None or not torch.equal(key, self.cached_key.cpu()):
            self.cached_state = self.compressor.state(self.weight.detach(), self.level)
            self.cached_key = key.to(self.cached_key.device)
        return self.cached_state

    def set_level(self, level: float) -> None:
        if self.iterative_state is not None:
            self.iterative_state.advance(self.weight.detach(), level)
        self.level = float(level)

    def compressed_weight(self) -> Tensor:
        """C(W) with the compressor's training gradient."""
        if self.iterative_state is not None:
            return self.iterative_state.apply(self.weight)
        return self.compressor.forward_weight(self.weight, self._state(), self.level)

    @torch.no_grad()
    def exported_weight(self) -> Tensor:
        """C(W) exactly, without gradient: what the exported model holds."""
        if self.iterative_state is not None:
            return self.iterative_state.apply(self.weight.detach())
        return self.compressor.values(self.weight.detach(), self._state(), self.level)

    def _original_branch(self) -> tuple[Tensor, Tensor | None]:
        if self.original == "shared":
            return self.weight, self.bias
        return self.original_weight, self.original_bias

    def forward(self, x: Tensor) -> Tensor:
        self._check_beta()
        beta = self.beta
        if beta == 1.0:
            return F.linear(x, *self._original_branch())
        values = self._take_prepared()
        if values is None:
            values = self._straight_through_values()
        if values is not None:
            return F.linear(x, straight_through(self.weight, values), self.bias)
        if beta == 0.0:
            return F.linear(x, self.compressed_weight(), self.bias)
        weight, bias = self._original_branch()
        blended = torch.lerp(self.compressed_weight(), weight, beta)
        if bias is not self.bias:
            bias = torch.lerp(self.bias, bias, beta)
        return F.linear(x, blended, bias)

    def _straight_through_values(self) -> Tensor | None:
        """For a straight-through compressor, what one straight-through node carries from the latent W
        to the matmul: C(W) at beta = 0, and beta W + (1 - beta) C(W) on a shared W, whose gradient
        with respect to W is beta + (1 - beta) = the identity. None on the other paths, and with an
        iterative state (INQ's frozen shares pass no gradient to W)."""
        beta = self.beta
        if (not self.compressor.identity_gradient or self.iterative_state is not None or not 0.0 <= beta < 1.0
                or (beta > 0.0 and self.original != "shared")):
            return None
        latent = self.weight.detach()
        values = self.compressor.values(latent, self._state(), self.level)
        if beta > 0.0:
            if values.data_ptr() == latent.data_ptr():
                values = values.clone()
            values.lerp_(latent, beta)
        return values

    def _values_key(self) -> tuple:
        return (*_versions(self.weight), self.level, self.beta, self.step, torch.is_inference_mode_enabled())

    @torch.no_grad()
    def _prepare(self) -> None:
        if self.released and self.beta > 0.0:
            return  # forward() raises
        values = self._straight_through_values()
        self._prepared = None if values is None else (self._values_key(), values)

    def release_original(self) -> list[nn.Parameter]:
        """Drop the separate original branch (frozen/copy) once beta is 0 for good."""
        released: list[nn.Parameter] = []
        if self.original != "shared" and not self.released:
            released = [p for p in (self.original_weight, self.original_bias) if p is not None]
            del self.original_weight, self.original_bias
        self.released = True
        return released


def _versions(*tensors: Tensor | None) -> tuple:
    """Which memory each tensor has and how often it was changed in place."""
    return tuple((t.data_ptr(), t._version) if t is not None else None for t in tensors)


def modules_in_order(model: nn.Module) -> Iterator[nn.Module]:
    """model.modules() without building every module's name (1.6x faster for the ViT-Tiny's 276
    modules; it runs before every forward pass)."""
    seen, stack = set(), [model]
    while stack:
        module = stack.pop()
        if id(module) not in seen:
            seen.add(id(module))
            yield module
            stack.extend(child for child in reversed(module._modules.values()) if child is not None)


def prepare_layers(model: nn.Module, args: Any) -> None:
    """The forward pre-hook that `vcon.compress` puts on the model: what its blended layers compute
    from their weights alone (a compressor's straight-through values, the low-rank blend B A), back
    to back before the forward pass; each layer takes its own (Vanishing._take_prepared). On the CPU
    these few small ops take 2-4x longer one layer at a time between the forward pass's matrix
    products, whose code and data have just filled the caches (docs/benchmark.md)."""
    if torch.compiler.is_compiling():
        return
    for module in modules_in_order(model):
        if isinstance(module, Vanishing):
            module._prepare()


class VanishingLowRank(Vanishing):
    """A linear layer blending its dense branch with a trained factor pair B A.

    The dense branch is trained ("shared" and "copy", as the authors do) or "frozen". The bias is
    one parameter of both branches (compressor `bias: shared`, trained even when the dense branch
    is frozen), or the factor pair has its own (`separate`). The factors are allocated at the
    largest rank the layer will use; `level` is the active rank.
    """

    def __init__(self, linear: nn.Linear, compressor: FactorCompressor, original: str = "shared",
                 initial_rank: int | None = None) -> None:
        super().__init__()
        _check_original(original)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.compressor = compressor
        self.original = original
        self.weight = linear.weight
        self.bias = linear.bias
        separate = compressor.bias == "separate"
        if original == "frozen":
            self.weight.requires_grad_(False)
            if self.bias is not None and separate:
                self.bias.requires_grad_(False)
        rank = int(compressor.final_level if initial_rank is None else initial_rank)
        factor_b, factor_a = compressor.factorize(linear.weight, rank)
        self.factor_a = nn.Parameter(factor_a.contiguous())
        self.factor_b = nn.Parameter(factor_b.contiguous())
        self.factor_bias = nn.Parameter(linear.bias.detach().clone()) if separate and linear.bias is not None else None
        self.register_buffer("active_rank", torch.tensor(rank))
        # Set when a rank step rewrites the factors in a new basis, until `vcon.rewritten_parameters`
        # takes it (a buffer, so that a checkpoint taken in between keeps it).
        self.register_buffer("rewritten", torch.tensor(False))
        self.level = float(rank)
        self._init_blend()

    def set_level(self, level: float) -> None:
        """Set the active rank; lowering it re-truncates the current product B A by SVD and marks the
        factors `rewritten` (a new basis)."""
        rank = int(level)
        current = int(self.active_rank)
        if rank > self.factor_a.shape[0]:
            raise ValueError(f"rank {rank} is above the {self.factor_a.shape[0]} allocated for this layer")
        if rank < current:
            with torch.no_grad():
                product = self.factor_b[:, :current] @ self.factor_a[:current]
                factor_b, factor_a = self.compressor.factorize(product, rank)
                self.factor_b.zero_()
                self.factor_a.zero_()
                self.factor_b[:, :rank] = factor_b
                self.factor_a[:rank] = factor_a
            self.rewritten.fill_(True)
        self.active_rank.fill_(rank)
        self.level = float(rank)

    @property
    def compressed_bias(self) -> Tensor | None:
        """The bias of the factor pair (what the exported layer holds)."""
        return self.bias if self.factor_bias is None else self.factor_bias

    def factors(self) -> tuple[Tensor, Tensor]:
        rank = int(self.active_rank)
        if rank == self.factor_a.shape[0]:
            return self.factor_b, self.factor_a
        return self.factor_b[:, :rank], self.factor_a[:rank]

    def forward(self, x: Tensor) -> Tensor:
        self._check_beta()
        beta = self.beta
        factor_b, factor_a = self.factors()
        if beta == 0.0:
            return F.linear(F.linear(x, factor_a), factor_b, self.compressed_bias)
        if beta == 1.0:
            return F.linear(x, self.weight, self.bias)
        blended = self._take_prepared()
        if blended is None:
            blended = self._blended_weight()
        bias = self.bias if self.factor_bias is None else torch.lerp(self.factor_bias, self.bias, beta)
        return F.linear(x, blended, bias)

    def _blended_weight(self) -> Tensor:
        """beta W + (1 - beta) B A in one addmm; its backward is beta G for W and two thin matmuls."""
        factor_b, factor_a = self.factors()
        return torch.addmm(self.weight, factor_b, factor_a, beta=self.beta, alpha=1.0 - self.beta)

    def _values_key(self) -> tuple:
        return (*_versions(self.weight, self.factor_a, self.factor_b), int(self.active_rank), self.beta,
                torch.is_grad_enabled(), torch.is_inference_mode_enabled())

    def _prepare(self) -> None:
        """The blended weight, in the graph as the forward pass would build it (under its grad mode)."""
        if 0.0 < self.beta < 1.0 and not self.released:
            self._prepared = (self._values_key(), self._blended_weight())

    def release_original(self) -> list[nn.Parameter]:
        released: list[nn.Parameter] = []
        if not self.released:
            shared_bias = self.factor_bias is None
            released = [p for p in (self.weight, None if shared_bias else self.bias) if p is not None]
            del self.weight
            self.weight = None
            if not shared_bias:
                del self.bias
                self.bias = None
        self.released = True
        return released


class VanishingBlock(Vanishing):
    """The general output blend beta * original(x) + (1 - beta) * compressed(x) of two modules."""

    def __init__(self, original: nn.Module, compressed: nn.Module) -> None:
        super().__init__()
        self.original_block = original
        self.compressed_block = compressed
        self.level = 1.0
        self._init_blend()

    def forward(self, *args, **kwargs):
        self._check_beta()
        if self.beta == 0.0:
            return self.compressed_block(*args, **kwargs)
        if self.beta == 1.0:
            return self.original_block(*args, **kwargs)
        return self.beta * self.original_block(*args, **kwargs) + (1.0 - self.beta) * self.compressed_block(*args, **kwargs)

    def release_original(self) -> list[nn.Parameter]:
        released: list[nn.Parameter] = []
        if not self.released:
            released = list(self.original_block.parameters())
            del self.original_block
            self.original_block = None
        self.released = True
        return released
