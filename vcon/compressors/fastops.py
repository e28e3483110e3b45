"""Exact selections for the compressors' values, written with float masks.

On the CPU a bool mask and `torch.where` cost several times more than a comparison written into a
float tensor (1.0 / 0.0) followed by in-place arithmetic (about 10x for a 768 x 192 weight), and in
eager mode C(W) is computed once per layer and step. Each function returns its `torch.where`
reference bit for bit, signed zeros included (tests/core/test_fast_paths.py). Under torch.compile
the reference itself is traced: inductor fuses it, and it would drop the `+ 0.0` below.
"""
from __future__ import annotations

import torch
from torch import Tensor


def keep_above(values: Tensor, magnitude: Tensor, threshold: Tensor) -> Tensor:
    """torch.where(magnitude > threshold, values, 0.0), pruned entries +0.0, for a finite threshold
    and values without NaN (then a kept value is nonzero and a pruned one finite)."""
    if torch.compiler.is_compiling():
        return torch.where(magnitude > threshold, values, 0.0)
    keep = torch.gt(magnitude, threshold, out=torch.empty_like(magnitude))
    return keep.mul_(values).add_(0.0)  # 0 * w is -0.0 for w < 0; -0.0 + 0.0 is +0.0


def signs_times(weight: Tensor, scale: Tensor) -> Tensor:
    """torch.where(weight >= 0, scale, -scale): +scale for +0.0 and -0.0 alike."""
    if torch.compiler.is_compiling():
        return torch.where(weight >= 0, scale, -scale)
    signs = torch.ge(weight, 0, out=torch.empty_like(weight))
    return signs.mul_(2.0).sub_(1.0).mul_(scale)  # (+1 or -1) * scale is exact


_SAME_SIZE_INT = {torch.float64: torch.int64, torch.float32: torch.int32, torch.float16: torch.int16,
                  torch.bfloat16: torch.int16}


def where_above(magnitude: Tensor, threshold: Tensor, above: Tensor, below: Tensor) -> Tensor:
    """torch.where(magnitude > threshold, above, below) for `above` and `below` of magnitude's shape
    and one dtype: the bits of `below`, with those of `above` where an all-ones integer mask says so."""
    integer = _SAME_SIZE_INT.get(above.dtype)
    if torch.compiler.is_compiling() or integer is None or below.dtype != above.dtype:
        return torch.where(magnitude > threshold, above, below)
    mask = torch.gt(magnitude, threshold, out=torch.empty(magnitude.shape, dtype=integer, device=magnitude.device))
    mask.neg_()  # 1 -> -1: all bits set
    high, low = above.view(integer), below.view(integer)
    return torch.bitwise_xor(high, low).bitwise_and_(mask).bitwise_xor_(low).view(above.dtype)


def any_equal(a: Tensor, b: Tensor) -> bool:
    """bool((a == b).any())."""
    if torch.compiler.is_compiling():
        return bool((a == b).any())
    return bool(torch.eq(a, b, out=torch.empty(a.shape, dtype=a.dtype, device=a.device)).amax() > 0)
