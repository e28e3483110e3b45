"""Export: the plain compressed model, without the original branch.

Weight compressors become `CompressedLinear` (an nn.Linear holding C(W) exactly: true zeros, exactly
two values per binary scale group); low rank becomes `LowRankLinear` (two linears, A then B).
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from vcon.blend import VanishingBlock, VanishingLinear, VanishingLowRank, prepare_layers
from vcon.compressors import Compressor, FactorCompressor, WeightCompressor


class CompressedLinear(nn.Linear):
    """A linear layer whose weight is already in compressed form; `compressor` says which."""

    is_compressed = True

    def __init__(self, in_features: int, out_features: int, bias: bool, compressor: WeightCompressor) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.compressor: Compressor = compressor


class LowRankLinear(nn.Module):
    """y = B (A x) + b with A: rank x in and B: out x rank."""

    is_compressed = True

    def __init__(self, in_features: int, out_features: int, rank: int, bias: bool,
                 compressor: FactorCompressor) -> None:
        super().__init__()
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        self.first = nn.Linear(in_features, rank, bias=False)
        self.second = nn.Linear(rank, out_features, bias=bias)
        self.compressor: Compressor = compressor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x))


@torch.no_grad()
def export_layer(layer: nn.Module) -> nn.Module:
    if isinstance(layer, VanishingLinear):
        out = CompressedLinear(layer.in_features, layer.out_features, layer.bias is not None, layer.compressor)
        out.weight.copy_(layer.exported_weight())
        if layer.bias is not None:
            out.bias.copy_(layer.bias)
    elif isinstance(layer, VanishingLowRank):
        factor_b, factor_a = layer.factors()
        bias = layer.compressed_bias
        out = LowRankLinear(layer.in_features, layer.out_features, factor_a.shape[0], bias is not None,
                            layer.compressor)
        out.first.weight.copy_(factor_a)
        out.second.weight.copy_(factor_b)
        if bias is not None:
            out.second.bias.copy_(bias)
    elif isinstance(layer, VanishingBlock):
        out = copy.deepcopy(layer.compressed_block)
    else:
        raise TypeError(f"not a vanishing layer: {type(layer).__name__}")
    return out.to(next(layer.parameters()).device).requires_grad_(True)


def is_blended(model: nn.Module) -> bool:
    """Whether `model` still holds vanishing (blended) layers."""
    return any(isinstance(m, (VanishingLinear, VanishingLowRank, VanishingBlock)) for m in model.modules())


def export(model: nn.Module) -> nn.Module:
    """A copy of `model` in plain compressed form; equal to the blended model at beta = 0."""
    exported = copy.deepcopy(model)
    for key, hook in list(exported._forward_pre_hooks.items()):
        if hook is prepare_layers:
            del exported._forward_pre_hooks[key]
    for name, module in list(exported.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, (VanishingLinear, VanishingLowRank, VanishingBlock)):
                setattr(module, child_name, export_layer(child))
    return exported
