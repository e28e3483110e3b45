"""Compression statistics, per compressed layer and in total, from the exported (pure compressed) form.

Sparsity is zeros / weights, where the denominator is the number of entries of the compressed
layers' weight matrices (biases excluded). Bytes count fp32 dense storage against the compact form
each compressor needs (bitmask or CSR for pruning, packed bits plus scales for binary/quant,
the two factors for low rank); biases are stored in fp32 in both.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from vcon.blend import VanishingLinear, VanishingLowRank
from vcon.compressors import from_spec
from vcon.export import CompressedLinear, LowRankLinear, export

FP32 = 4
SPARSITY_DENOMINATOR = "weight entries of the compressed layers (biases excluded)"


def _layer_stats(name: str, layer: nn.Module) -> dict[str, Any]:
    compressor = from_spec(layer.spec)
    bias_params = 0
    if isinstance(layer, LowRankLinear):
        weight = layer.second.weight @ layer.first.weight
        if layer.second.bias is not None:
            bias_params = layer.second.bias.numel()
        stored_params = layer.first.weight.numel() + layer.second.weight.numel()
        bytes_weight = FP32 * stored_params
        rank = layer.rank
        distinct = None
    else:
        weight = layer.weight
        if layer.bias is not None:
            bias_params = layer.bias.numel()
        stored_params = int(torch.count_nonzero(weight))
        bytes_weight = compressor.stored_bytes(weight)
        rank = None
        distinct = int(torch.unique(weight).numel())
    out_features, in_features = weight.shape
    zeros = int(weight.numel() - torch.count_nonzero(weight))
    return {
        "name": name,
        "compressor": compressor.name,
        "shape": [out_features, in_features],
        "weights": weight.numel(),
        "zeros": zeros,
        "sparsity": zeros / weight.numel(),
        "distinct_values": distinct,
        "rank": rank,
        "params_dense": weight.numel() + bias_params,
        "params_compressed": stored_params + bias_params,
        "bytes_dense": FP32 * (weight.numel() + bias_params),
        "bytes_compressed": bytes_weight + FP32 * bias_params,
    }


@torch.no_grad()
def stats(model: nn.Module) -> dict[str, Any]:
    """Per-layer and total statistics of a compressed model (blended or exported)."""
    if any(isinstance(m, (VanishingLinear, VanishingLowRank)) for m in model.modules()):
        model = export(model)
    layers = [
        _layer_stats(name, module)
        for name, module in model.named_modules()
        if isinstance(module, (CompressedLinear, LowRankLinear))
    ]
    if not layers:
        raise ValueError("the model has no compressed layer; call vcon.compress(model, spec) first")
    weights = sum(layer["weights"] for layer in layers)
    zeros = sum(layer["zeros"] for layer in layers)
    total = {
        "layers": len(layers),
        "weights": weights,
        "zeros": zeros,
        "sparsity": zeros / weights,
        "sparsity_denominator": SPARSITY_DENOMINATOR,
        "params_dense": sum(layer["params_dense"] for layer in layers),
        "params_compressed": sum(layer["params_compressed"] for layer in layers),
        "bytes_dense": sum(layer["bytes_dense"] for layer in layers),
        "bytes_compressed": sum(layer["bytes_compressed"] for layer in layers),
    }
    total["bytes_ratio"] = total["bytes_compressed"] / total["bytes_dense"]
    compressed_modules = {id(p) for m in model.modules() if isinstance(m, (CompressedLinear, LowRankLinear)) for p in m.parameters()}
    other_params = sum(p.numel() for p in model.parameters() if id(p) not in compressed_modules)
    whole = {
        "params_dense": other_params + total["params_dense"],
        "bytes_dense": FP32 * other_params + total["bytes_dense"],
        "bytes_compressed": FP32 * other_params + total["bytes_compressed"],
    }
    whole["bytes_ratio"] = whole["bytes_compressed"] / whole["bytes_dense"]
    return {"layers": layers, "total": total, "model": whole}
