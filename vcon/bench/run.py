"""Run the benchmark: for each model and compressor, the five cases side by side, then the
exported model's inference time and stored size."""
from __future__ import annotations

import copy
import os
import platform
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

import vcon
from vcon.bench.cases import build_case, kinds_for
from vcon.bench.measure import interleaved, paired_ratio, peak_step_bytes
from vcon.bench.fixtures import COMPRESSORS, MODELS

RATIOS = {  # name -> (numerator case, denominator case); those of absent cases are left out
    "posthoc/dense": ("posthoc", "dense"),
    "transition/posthoc": ("transition", "posthoc"),
    "transition/dense": ("transition", "dense"),
    "after_q/posthoc": ("after_q", "posthoc"),
    "iterative/posthoc": ("iterative", "posthoc"),
    "iterative/dense": ("iterative", "dense"),
    "authors_posthoc/dense": ("authors_posthoc", "dense"),
    "authors_transition/dense": ("authors_transition", "dense"),
    "posthoc/authors_posthoc": ("posthoc", "authors_posthoc"),
    "transition/authors_transition": ("transition", "authors_transition"),
}


@dataclass
class Options:
    models: list[str]
    compressors: list[str]
    repeats: int = 10
    warmup: int = 3
    batch_size: int = 32
    device: str = "cpu"
    compile: bool = False
    bf16: bool = False
    seed: int = 0
    heap_kept: bool = False  # glibc's heap trimming turned off (vcon.bench.measure.keep_heap)


def _median_ms(times: list[float]) -> float:
    return 1000 * statistics.median(times)


def _spread_ms(times: list[float]) -> list[float]:
    return [1000 * min(times), 1000 * max(times)]


@torch.inference_mode()
def _inference(dense: torch.nn.Module, exported: torch.nn.Module, inputs: torch.Tensor,
               options: Options) -> dict[str, Any]:
    dense, exported = dense.eval(), exported.eval()
    times = interleaved({"dense": lambda: dense(inputs), "exported": lambda: exported(inputs)},
                        options.repeats * 2, options.warmup, inputs.device)
    return {"dense_ms": _median_ms(times["dense"]), "exported_ms": _median_ms(times["exported"]),
            "exported/dense": paired_ratio(times["exported"], times["dense"])}


def _stored(dense: torch.nn.Module, exported: torch.nn.Module) -> dict[str, Any]:
    report = vcon.stats(exported)
    with tempfile.TemporaryDirectory() as folder:
        compact, plain = Path(folder, "compact.safetensors"), Path(folder, "dense.safetensors")
        vcon.save_compact(exported, compact)
        vcon.save_compact(dense, plain)
        compact_bytes, dense_bytes = compact.stat().st_size, plain.stat().st_size
    return {
        "layers_bytes_compressed": report["total"]["bytes_compressed"],
        "layers_bytes_dense": report["total"]["bytes_dense"],
        "layers_ratio": report["total"]["bytes_ratio"],
        "model_bytes_compressed": report["model"]["bytes_compressed"],
        "file_bytes": compact_bytes,
        "dense_file_bytes": dense_bytes,
        "file_ratio": compact_bytes / dense_bytes,
        "forms": sorted({layer["form"] for layer in report["layers"]}),
    }


def bench_group(model_name: str, label: str, options: Options, log=print) -> dict[str, Any]:
    """The cases of one model and compressor (`kinds_for`), timed side by side."""
    device = torch.device(options.device)
    torch.manual_seed(options.seed)
    bench_model = MODELS[model_name]
    dense = bench_model.build().to(device)
    inputs, target = bench_model.batch(options.batch_size, torch.Generator().manual_seed(options.seed))
    inputs, target = inputs.to(device), target.to(device)
    spec = COMPRESSORS[label]
    autocast = options.bf16 and device.type == "cuda"
    cases = {kind: build_case(kind, dense, spec, inputs, target, autocast, options.compile)
             for kind in kinds_for(spec)}
    pairs = {name: (a, b) for name, (a, b) in RATIOS.items() if a in cases and b in cases}
    times = interleaved({kind: case.step for kind, case in cases.items()}, options.repeats, options.warmup, device)
    peak = {kind: peak_step_bytes(case) for kind, case in cases.items()}
    result: dict[str, Any] = {
        "model": model_name,
        "compressor": label,
        "spec": spec,
        "step_ms": {kind: _median_ms(t) for kind, t in times.items()},
        "step_ms_range": {kind: _spread_ms(t) for kind, t in times.items()},
        "peak_mb": {kind: b / 2**20 for kind, b in peak.items()},
        "ratios": {name: paired_ratio(times[a], times[b]) for name, (a, b) in pairs.items()},
        "memory_ratios": {name: peak[a] / peak[b] for name, (a, b) in pairs.items()},
    }
    posthoc = cases["posthoc"].model
    posthoc = getattr(posthoc, "_orig_mod", posthoc)
    exported = vcon.export(posthoc)
    result["inference"] = _inference(copy.deepcopy(dense), exported, inputs, options)
    result["stored"] = _stored(dense, exported)
    log(f"  {model_name} {label}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in result["step_ms"].items()))
    return result


def machine(options: Options) -> dict[str, Any]:
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": options.device,
    }
    if options.device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(options.device))
    return info


def run_benchmark(options: Options, log=print, on_result=None) -> dict[str, Any]:
    """All (model, compressor) groups; `on_result(report so far)` after each one."""
    report: dict[str, Any] = {"machine": machine(options), "options": asdict(options), "results": []}
    for model_name in options.models:
        for label in options.compressors:
            report["results"].append(bench_group(model_name, label, options, log))
            sys.stdout.flush()
            if on_result is not None:
                on_result(report)
    return report
