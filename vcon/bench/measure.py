"""Timing and peak memory of training steps, measured side by side.

Time: every case is warmed up, then the cases take turns (one step each, the starting case
rotating every round) so that slow phases of a shared machine hit all of them alike; the result is
each case's list of step times, compared by the median of per-round ratios.

Peak memory on the CPU: the bytes of every tensor alive before the step (parameters, gradients,
buffers, tensors held by modules, optimizer state; each storage once) plus the highest net amount
the step allocates on top, from the allocation events of `torch.profiler` (`profile_memory=True`).
That counts torch's own allocations only, not the Python heap or allocator caches. On CUDA:
`torch.cuda.max_memory_allocated` over the step.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass
class Case:
    """One way of fine-tuning: a model, its optimizer, the batch, and hooks run before every step
    and between the backward pass and the optimizer step."""

    name: str
    model: nn.Module
    optimizer: torch.optim.Optimizer
    inputs: Tensor
    target: Tensor
    before_step: Callable[[int], None] = lambda step: None
    autocast: bool = False
    after_backward: Callable[[], None] = lambda: None
    steps: int = 0

    def forward_loss(self) -> Tensor:
        with torch.autocast(self.inputs.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            logits = self.model(self.inputs)
        return torch.nn.functional.cross_entropy(logits.float(), self.target)

    def step(self) -> None:
        """One optimizer step as the trainer takes it."""
        self.before_step(self.steps)
        self.optimizer.zero_grad(set_to_none=True)
        self.forward_loss().backward()
        self.after_backward()
        self.optimizer.step()
        self.steps += 1


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def keep_heap() -> bool:
    """Have glibc's malloc keep freed memory in the heap: no trimming of its top, no mmap below
    32 MiB. By default the top of the heap goes back to the system whenever enough of it is free,
    and the next allocations fault those pages in again, a few percent of a step that depends on
    the order of allocations (the cases' and their neighbours'), not on their arithmetic. Returns
    whether it applied (glibc only)."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_TRIM_THRESHOLD, 1 << 30)) and bool(mallopt(M_MMAP_THRESHOLD, 32 << 20))


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(calls: dict[str, Callable[[], None]], repeats: int, warmup: int,
                device: torch.device) -> dict[str, list[float]]:
    """`repeats` wall times (seconds) of each call, the calls taking turns after `warmup` rounds."""
    names = list(calls)
    for _ in range(warmup):
        for name in names:
            calls[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            synchronize(device)
            started = time.perf_counter()
            calls[name]()
            synchronize(device)
            times[name].append(time.perf_counter() - started)
    return times


def paired_ratio(numerator: list[float], denominator: list[float]) -> dict[str, float]:
    """Median and quartiles of the per-round ratios numerator[i] / denominator[i]."""
    ratios = sorted(a / b for a, b in zip(numerator, denominator))
    if len(ratios) == 1:
        return {"median": ratios[0], "q1": ratios[0], "q3": ratios[0]}
    q1, _, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return {"median": statistics.median(ratios), "q1": q1, "q3": q3}


def _storages(tensors: Iterable[Tensor]) -> int:
    seen: set[int] = set()
    total = 0
    for tensor in tensors:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in seen and storage.nbytes() > 0:
            seen.add(storage.data_ptr())
            total += storage.nbytes()
    return total


def _live_tensors(model: nn.Module, optimizer: torch.optim.Optimizer) -> Iterable[Tensor]:
    for parameter in model.parameters():
        yield parameter
        if parameter.grad is not None:
            yield parameter.grad
    yield from model.buffers()
    for module in model.modules():
        yield from (value for value in vars(module).values() if isinstance(value, Tensor))
    for state in optimizer.state.values():
        yield from (value for value in state.values() if isinstance(value, Tensor))


def live_bytes(case: Case) -> int:
    return _storages(_live_tensors(case.model, case.optimizer))


def peak_step_bytes(case: Case) -> int:
    """Peak bytes of torch tensors during one training step (see the module docstring)."""
    device = case.inputs.device
    case.before_step(case.steps)
    case.optimizer.zero_grad(set_to_none=True)
    if device.type == "cuda":
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        case.forward_loss().backward()
        case.after_backward()
        case.optimizer.step()
        synchronize(device)
        case.steps += 1
        return torch.cuda.max_memory_allocated(device)
    start = live_bytes(case)
    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activities, profile_memory=True) as profiler:
        case.forward_loss().backward()
        case.after_backward()
        case.optimizer.step()
    case.steps += 1
    events = [(event.start_ns(), event.nbytes()) for event in profiler.profiler.kineto_results.events()
              if event.name() == "[memory]" and event.device_type() == torch.autograd.DeviceType.CPU]
    running = peak = 0
    for _, nbytes in sorted(events):
        running += nbytes
        peak = max(peak, running)
    return start + peak
