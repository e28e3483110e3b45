"""The compact stored form of a compressed model: one safetensors file.

Each compressed weight is stored in its compressor's form (bitmask or CSR plus the nonzero values
for pruning, packed sign bits plus scales for binary, sign-magnitude k-bit codes plus row scales
for quantization, the two factors for low rank); everything else in the state dict as it is. The
file is an 8-byte header length, a JSON header (tensor names, shapes, offsets and the layers'
forms) and then the tensors' bytes, which add up to `vcon.stats(model)["model"]["bytes_compressed"]`.
The header also holds the sha256 of everything else (`content_sha256`), checked on every load: a
damaged or truncated file is refused, never loaded. Loading gives back the exported model bit for bit.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
from typing import Any

import torch
from torch import Tensor, nn

from vcon.compressors import from_spec
from vcon.compressors.packing import decode
from vcon.exporting import CompressedLinear, LowRankLinear, export, is_blended
from vcon.integrity import DamagedFile

FORMAT = "vcon-compact/2"
UNCHECKED_FORMAT = "vcon-compact/1"  # written before the checksum: loaded without a check
DIGEST_KEY = "content_sha256"
WHAT = "a compact model (vcon.save_compact)"
REBUILD = "Rebuild it: save the model again with vcon.save_compact(model, path)"


def _exported(model: nn.Module) -> nn.Module:
    return export(model) if is_blended(model) else model


def compact_state(model: nn.Module) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """(tensors, layers): what `save_compact` writes. `layers` maps each compressed layer's name
    to its description (kind, form, shape, spec); tensors sharing storage are stored once
    (the others are listed under "aliases")."""
    model = _exported(model)
    tensors: dict[str, Tensor] = {}
    layers: dict[str, Any] = {}
    encoded: set[str] = set()
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        if isinstance(module, CompressedLinear):
            form, parts = module.compressor.encode(module.weight)
            tensors.update({f"{prefix}weight.{key}": part for key, part in parts.items()})
            encoded.add(f"{prefix}weight")
            layers[name] = {"kind": "linear", "form": form, "shape": list(module.weight.shape),
                            "bias": module.bias is not None, "spec": module.compressor.to_spec()}
        elif isinstance(module, LowRankLinear):
            layers[name] = {"kind": "lowrank", "form": "factors", "shape": [module.out_features, module.in_features],
                            "rank": module.rank, "bias": module.second.bias is not None,
                            "spec": module.compressor.to_spec()}
    aliases: dict[str, str] = {}
    first_of_storage: dict[tuple[int, int, tuple[int, ...]], str] = {}
    for key, tensor in model.state_dict().items():
        if key in encoded:
            continue
        identity = (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape))
        if tensor.numel() and identity in first_of_storage:
            aliases[key] = first_of_storage[identity]
            continue
        first_of_storage[identity] = key
        tensors[key] = tensor
    stored: set[int] = set()
    for key, tensor in tensors.items():
        tensor = tensor.detach().to("cpu").contiguous()
        pointer = tensor.untyped_storage().data_ptr()
        tensors[key] = tensor.clone() if pointer in stored else tensor  # safetensors refuses shared storage
        stored.add(pointer)
    return tensors, {"layers": layers, "aliases": aliases}


def payload_bytes(tensors: dict[str, Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors.values())


def save_compact(model: nn.Module, path: str | os.PathLike[str]) -> int:
    """Write the compact form of `model` (blended or exported) to `path`; returns the file size."""
    from safetensors.torch import save_file

    tensors, layout = compact_state(model)
    metadata = {"format": FORMAT, "layers": json.dumps(layout["layers"]), "aliases": json.dumps(layout["aliases"])}
    metadata[DIGEST_KEY] = content_sha256(tensors, metadata)
    save_file(tensors, os.fspath(path), metadata=metadata)
    return os.path.getsize(path)


def content_sha256(tensors: dict[str, Tensor], metadata: dict[str, str]) -> str:
    """sha256 of what a compact file holds: its metadata but this digest, then each tensor's name,
    dtype, shape and bytes, by name."""
    described = {key: value for key, value in metadata.items() if key != DIGEST_KEY}
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode())
    for key in sorted(tensors):
        tensor = tensors[key].detach().to("cpu").contiguous()
        digest.update(json.dumps([key, str(tensor.dtype), list(tensor.shape)]).encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def _read(path: str | os.PathLike[str]) -> tuple[dict[str, str], dict[str, Tensor]]:
    """The metadata and tensors of a compact file, checked against the digest it carries."""
    from safetensors import safe_open

    try:
        with safe_open(os.fspath(path), framework="pt") as stored:
            metadata = stored.metadata() or {}
            tensors = {key: stored.get_tensor(key) for key in stored.keys()}
    except Exception as error:  # noqa: BLE001 - safetensors reports a cut or garbled file in several ways
        raise DamagedFile(path, WHAT, f"it cannot be read ({type(error).__name__}: {error})", REBUILD) from None
    if metadata.get("format") == FORMAT and content_sha256(tensors, metadata) != metadata.get(DIGEST_KEY):
        raise DamagedFile(path, WHAT, "its content does not match the sha256 recorded when it was written", REBUILD)
    if metadata.get("format") not in (FORMAT, UNCHECKED_FORMAT):
        raise ValueError(f"{path} is not a {FORMAT} file (format: {metadata.get('format')!r})")
    return metadata, tensors


def _new_layer(info: dict[str, Any], dtype: torch.dtype) -> nn.Module:
    out_features, in_features = info["shape"]
    compressor = from_spec(info["spec"])  # the file's edge: a spec becomes the compressor again
    if info["kind"] == "lowrank":
        layer: nn.Module = LowRankLinear(in_features, out_features, info["rank"], info["bias"], compressor)
    else:
        layer = CompressedLinear(in_features, out_features, info["bias"], compressor)
    return layer.to(dtype)


def load_compact(path: str | os.PathLike[str], model: nn.Module) -> nn.Module:
    """The exported compressed model stored at `path`. `model` gives the architecture: the same
    network dense, blended or exported (it is copied, not changed). A damaged file raises
    vcon.integrity.DamagedFile (a ValueError) before anything is built."""
    metadata, tensors = _read(path)
    layers, aliases = json.loads(metadata["layers"]), json.loads(metadata["aliases"])
    skeleton = export(model) if is_blended(model) else copy.deepcopy(model)
    state: dict[str, Tensor] = {}
    for name, info in layers.items():
        prefix = f"{name}." if name else ""
        if info["kind"] == "linear":
            weight_key = f"{prefix}weight"
            parts = {key[len(weight_key) + 1:]: tensors.pop(key) for key in list(tensors)
                     if key.startswith(weight_key + ".")}
            state[weight_key] = decode(info["form"], parts, tuple(info["shape"]))
            dtype = state[weight_key].dtype
        else:
            dtype = tensors[f"{prefix}first.weight"].dtype
        new = _new_layer(info, dtype)
        old = skeleton.get_submodule(name)
        device = next(old.parameters(), torch.empty(0)).device
        new = new.to(device)
        if name:
            parent_name, _, child = name.rpartition(".")
            setattr(skeleton.get_submodule(parent_name) if parent_name else skeleton, child, new)
        else:
            skeleton = new
    state.update(tensors)
    state.update({key: state[target] for key, target in aliases.items()})
    skeleton.load_state_dict(state, strict=True)
    return skeleton
