"""Compression statistics, per compressed layer and in total, from the exported (pure compressed) form.

Sparsity is zeros / weights, where the denominator is the number of entries of the compressed
layers' weight matrices (biases excluded). Bytes count dense storage against the compact form
`vcon.save_compact` writes (bitmask or CSR for pruning, packed bits plus scales for binary/quant,
the two factors for low rank); biases and every other tensor are stored as they are in both.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from vcon.compact import compact_state, payload_bytes
from vcon.exporting import CompressedLinear, LowRankLinear, export, is_blended

SPARSITY_DENOMINATOR = "weight entries of the compressed layers (biases excluded)"


def _stored(tensors: dict[str, Tensor], keys: list[str]) -> int:
    return sum(payload_bytes({k: tensors[k]}) for k in keys if k in tensors)


def _layer_stats(name: str, layer: nn.Module, form: str, tensors: dict[str, Tensor]) -> dict[str, Any]:
    compressor = layer.compressor
    prefix = f"{name}." if name else ""
    bias_params = 0
    if isinstance(layer, LowRankLinear):
        weight = layer.second.weight @ layer.first.weight
        if layer.second.bias is not None:
            bias_params = layer.second.bias.numel()
        stored_params = layer.first.weight.numel() + layer.second.weight.numel()
        stored_keys = [f"{prefix}first.weight", f"{prefix}second.weight", f"{prefix}second.bias"]
        rank = layer.rank
        distinct = None
    else:
        weight = layer.weight
        if layer.bias is not None:
            bias_params = layer.bias.numel()
        stored_params = int(torch.count_nonzero(weight))
        stored_keys = [k for k in tensors if k.startswith(f"{prefix}weight.")] + [f"{prefix}bias"]
        rank = None
        distinct = int(torch.unique(weight).numel())
    out_features, in_features = weight.shape
    zeros = int(weight.numel() - torch.count_nonzero(weight))
    return {
        "name": name,
        "compressor": compressor.name,
        "form": form,
        "shape": [out_features, in_features],
        "weights": weight.numel(),
        "zeros": zeros,
        "sparsity": zeros / weight.numel(),
        "distinct_values": distinct,
        "rank": rank,
        "params_dense": weight.numel() + bias_params,
        "params_compressed": stored_params + bias_params,
        "bytes_dense": weight.element_size() * (weight.numel() + bias_params),
        "bytes_compressed": _stored(tensors, stored_keys),
    }


@torch.no_grad()
def stats(model: nn.Module) -> dict[str, Any]:
    """Per-layer and total statistics of a compressed model (blended or exported).

    `bytes_compressed` counts exactly the tensor bytes `vcon.save_compact` writes (per layer: the
    stored form of the weight plus the bias; "model": every tensor of the file)."""
    if is_blended(model):
        model = export(model)
    tensors, layout = compact_state(model)
    layers = [
        _layer_stats(name, module, layout["layers"][name]["form"], tensors)
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
    stored = payload_bytes(tensors)
    other_bytes = stored - total["bytes_compressed"]
    whole = {
        "params_dense": other_params + total["params_dense"],
        "bytes_dense": other_bytes + total["bytes_dense"],
        "bytes_compressed": stored,
    }
    whole["bytes_ratio"] = whole["bytes_compressed"] / whole["bytes_dense"]
    return {"layers": layers, "total": total, "model": whole}
