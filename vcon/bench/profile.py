"""Where the time of a training step goes: `torch.profiler`, operators by self CPU time."""
from __future__ import annotations

import torch

from vcon.bench.cases import build_case
from vcon.bench.fixtures import COMPRESSORS, MODELS
from vcon.bench.run import Options

PROFILED_STEPS = 3


def profile_case(options: Options, label: str, kind: str = "posthoc", rows: int = 20) -> str:
    """The operator table of a few steps of one case (see `vcon.bench.cases.build_case`)."""
    bench_model = MODELS[options.models[0]]
    device = torch.device(options.device)
    torch.manual_seed(options.seed)
    dense = bench_model.build().to(device)
    inputs, target = bench_model.batch(options.batch_size, torch.Generator().manual_seed(options.seed))
    case = build_case(kind, dense, COMPRESSORS[label], inputs.to(device), target.to(device))
    for _ in range(options.warmup):
        case.step()
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as profiler:
        for _ in range(PROFILED_STEPS):
            with torch.profiler.record_function("train_step"):
                case.step()
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return (f"{bench_model.name}, {label} {kind}, {PROFILED_STEPS} steps, {torch.get_num_threads()} threads\n"
            + profiler.key_averages().table(sort_by=sort, row_limit=rows))
