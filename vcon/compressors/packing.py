"""Compact stored forms of compressed weights: packed bits, k-bit codes, bitmask / CSR sparsity.

A stored form is a name plus a dict of tensors. `decode(form, parts, shape)` rebuilds the weight
bit for bit (signed zeros included); encoders check that before they answer and otherwise fall
back to the "dense" form, so a stored weight always round-trips exactly.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

Parts = dict[str, Tensor]
_INT_OF_SIZE = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def bitwise_equal(a: Tensor, b: Tensor) -> bool:
    """Same shape, dtype and bit pattern (so -0.0 differs from 0.0 and equal NaNs match)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    as_int = _INT_OF_SIZE[a.element_size()]
    return torch.equal(a.contiguous().view(as_int), b.contiguous().view(as_int))


def sign_bits(values: Tensor) -> Tensor:
    """True where the IEEE sign bit is set (negative numbers and -0.0)."""
    return torch.signbit(values)


def pack_bits(bits: Tensor) -> Tensor:
    """Booleans -> uint8, eight per byte, element 8j + i in bit i of byte j; ceil(n / 8) bytes."""
    flat = bits.reshape(-1).to(torch.uint8)
    pad = (-flat.numel()) % 8
    if pad:
        flat = torch.cat([flat, flat.new_zeros(pad)])
    weights = torch.tensor([1, 2, 4, 8, 16, 32, 64, 128], dtype=torch.uint8, device=flat.device)
    return (flat.view(-1, 8) * weights).sum(dim=1, dtype=torch.uint8)


def unpack_bits(packed: Tensor, count: int) -> Tensor:
    """Inverse of `pack_bits`: the first `count` booleans."""
    shifts = torch.arange(8, dtype=torch.uint8, device=packed.device)
    bits = (packed.unsqueeze(1) >> shifts) & 1
    return bits.reshape(-1)[:count].bool()


def pack_codes(codes: Tensor, bits: int) -> Tensor:
    """Unsigned integers below 2**bits -> a stream of `bits`-bit fields; ceil(n * bits / 8) bytes."""
    shifts = torch.arange(bits, dtype=torch.int32, device=codes.device)
    fields = (codes.reshape(-1, 1).to(torch.int32) >> shifts) & 1
    return pack_bits(fields)


def unpack_codes(packed: Tensor, bits: int, count: int) -> Tensor:
    """Inverse of `pack_codes`: `count` codes as int32."""
    fields = unpack_bits(packed, count * bits).view(count, bits).to(torch.int32)
    return (fields << torch.arange(bits, dtype=torch.int32, device=packed.device)).sum(dim=1, dtype=torch.int32)


def nbytes(parts: Parts) -> int:
    return sum(t.numel() * t.element_size() for t in parts.values())


# -- forms -------------------------------------------------------------------------------------

def encode_dense(weight: Tensor) -> tuple[str, Parts]:
    return "dense", {"weight": weight.detach().contiguous()}


def encode_sparse(weight: Tensor) -> tuple[str, Parts]:
    """The smaller of a bitmask of the nonzeros plus their values, and CSR (values, int32 column
    indices, int32 row pointers). "Nonzero" is by bit pattern: only +0.0 is left out."""
    weight = weight.detach()
    rows, cols = weight.shape
    nonzero = weight.view(_INT_OF_SIZE[weight.element_size()]) != 0
    values = weight[nonzero]
    count = values.numel()
    bitmask_bytes = math.ceil(rows * cols / 8) + count * weight.element_size()
    csr_bytes = count * (weight.element_size() + 4) + 4 * (rows + 1)
    if bitmask_bytes <= csr_bytes:
        return "bitmask", {"mask": pack_bits(nonzero), "values": values}
    columns = nonzero.nonzero()[:, 1].to(torch.int32)
    row_ptr = torch.zeros(rows + 1, dtype=torch.int32, device=weight.device)
    row_ptr[1:] = nonzero.sum(dim=1).cumsum(0)
    return "csr", {"values": values, "columns": columns, "row_ptr": row_ptr}


def encode_signs(weight: Tensor, per_row: bool) -> tuple[str, Parts]:
    """Weights taking +-scale (one scale per layer or per row): sign bits plus the scales."""
    weight = weight.detach()
    magnitude = weight.abs()
    scales = magnitude.amax(dim=1) if per_row else magnitude.amax().reshape(1)
    parts = {"signs": pack_bits(sign_bits(weight)), "scales": scales.contiguous()}
    return _checked("signs", parts, weight)


def encode_codes(weight: Tensor, bits: int) -> tuple[str, Parts]:
    """Weights q * s_row with integer |q| <= 2**(bits-1) - 1: sign-magnitude `bits`-bit codes plus
    the row scales. The scale is recovered from the row maximum and checked bit for bit."""
    weight = weight.detach()
    levels = 2 ** (bits - 1) - 1
    row_max = weight.abs().amax(dim=1, keepdim=True)
    base = torch.where(row_max > 0, row_max / levels, torch.ones_like(row_max))
    for scale in (base, torch.nextafter(base, base * 2), torch.nextafter(base, base * 0)):
        magnitude = torch.round(weight.abs() / scale)
        if magnitude.max() > levels:
            continue
        codes = magnitude.to(torch.int32) | (sign_bits(weight).to(torch.int32) << (bits - 1))
        parts = {"codes": pack_codes(codes, bits), "scales": scale.reshape(-1).contiguous()}
        form, checked = _checked(f"codes{bits}", parts, weight)
        if form != "dense":
            return form, checked
    return encode_dense(weight)


def _checked(form: str, parts: Parts, weight: Tensor) -> tuple[str, Parts]:
    if bitwise_equal(decode(form, parts, tuple(weight.shape), weight.dtype), weight):
        return form, parts
    return encode_dense(weight)


def decode(form: str, parts: Parts, shape: tuple[int, int], dtype: torch.dtype = torch.float32) -> Tensor:
    """The weight of a stored form, exactly as it was encoded."""
    rows, cols = shape
    if form == "dense":
        return parts["weight"].reshape(shape)
    if form == "bitmask":
        values = parts["values"]
        out = torch.zeros(rows * cols, dtype=values.dtype, device=values.device)
        out[unpack_bits(parts["mask"], rows * cols)] = values
        return out.view(rows, cols)
    if form == "csr":
        values, row_ptr = parts["values"], parts["row_ptr"].long()
        row_index = torch.repeat_interleave(torch.arange(rows, device=values.device), row_ptr.diff())
        out = torch.zeros(rows, cols, dtype=values.dtype, device=values.device)
        out[row_index, parts["columns"].long()] = values
        return out
    negative = None
    if form == "signs":
        scales = parts["scales"]
        negative = unpack_bits(parts["signs"], rows * cols).view(rows, cols)
        magnitude = scales.reshape(-1, 1).expand(rows, cols) if scales.numel() == rows else scales.expand(rows, cols)
        return torch.where(negative, -magnitude, magnitude).to(dtype)
    if form.startswith("codes"):
        bits = int(form[len("codes"):])
        codes = unpack_codes(parts["codes"], bits, rows * cols).view(rows, cols)
        negative = (codes >> (bits - 1)) & 1 == 1
        magnitude = (codes & ((1 << (bits - 1)) - 1)).to(parts["scales"].dtype)
        signed = torch.where(negative, -magnitude, magnitude)
        return (signed * parts["scales"].reshape(-1, 1)).to(dtype)
    raise ValueError(f"unknown stored form {form!r}")
