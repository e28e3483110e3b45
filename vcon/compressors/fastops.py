"""Exact selections for the compressors' values: float masks, in-place arithmetic, given buffers.

In eager mode on the CPU, C(W) is computed once per layer and step, and two things cost more than
its arithmetic. A bool mask and `torch.where` take several times longer than a comparison written
into a float tensor (1.0 / 0.0) followed by in-place arithmetic (about 10x for a 768 x 192 weight).
And every weight-sized temporary freed in the forward pass lets glibc give the top of the heap back
to the system and fault it in again moments later (tens of brk calls and thousands of page faults
per step), so the callers pass a buffer they already hold as `out`.

Each function returns its `torch.where` reference bit for bit, signed zeros included
(tests/core/test_fastops.py). Under torch.compile the reference itself is traced: inductor fuses
it, and it would drop the `+ 0.0` below.
"""
from __future__ import annotations

import torch
from torch import Tensor


def keep_above(values: Tensor, magnitude: Tensor, threshold: Tensor, out: Tensor | None = None) -> Tensor:
    """torch.where(magnitude > threshold, values, 0.0), pruned entries +0.0, for a finite threshold
    and values without NaN (then a kept value is nonzero and a pruned one finite). `out` may be
    `magnitude` itself."""
    if torch.compiler.is_compiling():
        return torch.where(magnitude > threshold, values, 0.0)
    keep = torch.gt(magnitude, threshold, out=torch.empty_like(magnitude) if out is None else out)
    return keep.mul_(values).add_(0.0)  # 0 * w is -0.0 for w < 0; -0.0 + 0.0 is +0.0


def signs_times(weight: Tensor, scale: Tensor, out: Tensor | None = None) -> Tensor:
    """torch.where(weight >= 0, scale, -scale): +scale for +0.0 and -0.0 alike."""
    if torch.compiler.is_compiling():
        return torch.where(weight >= 0, scale, -scale)
    signs = torch.ge(weight, 0, out=torch.empty_like(weight) if out is None else out)
    return signs.mul_(2.0).sub_(1.0).mul_(scale)  # (+1 or -1) * scale is exact


def sign_times(weight: Tensor, scale: Tensor, out: Tensor | None = None) -> Tensor:
    """torch.sign(weight) * scale: 0 stays 0 (binary's sign_zero: zero)."""
    if torch.compiler.is_compiling():
        return torch.sign(weight) * scale
    return torch.sign(weight, out=torch.empty_like(weight) if out is None else out).mul_(scale)


_SAME_SIZE_INT = {torch.float64: torch.int64, torch.float32: torch.int32, torch.float16: torch.int16,
                  torch.bfloat16: torch.int16}


def where_above_(magnitude: Tensor, threshold: Tensor, above: Tensor, below: Tensor) -> Tensor:
    """torch.where(magnitude > threshold, above, below), written into `above`'s memory (the mask
    goes into `magnitude`'s): the bits of `below`, with those of `above` where an all-ones integer
    mask says so. All four of one dtype, the tensors of one shape."""
    integer = _SAME_SIZE_INT.get(above.dtype)
    if torch.compiler.is_compiling() or integer is None or not above.dtype == below.dtype == magnitude.dtype:
        return torch.where(magnitude > threshold, above, below)
    mask = torch.gt(magnitude, threshold, out=magnitude.view(integer)).neg_()  # 1 -> -1: all bits set
    high, low = above.view(integer), below.view(integer)
    return high.bitwise_xor_(low).bitwise_and_(mask).bitwise_xor_(low).view(above.dtype)


def any_equal(a: Tensor, b: Tensor) -> bool:
    """bool((a == b).any())."""
    if torch.compiler.is_compiling():
        return bool((a == b).any())
    return bool(torch.eq(a, b, out=torch.empty(a.shape, dtype=a.dtype, device=a.device)).amax() > 0)
