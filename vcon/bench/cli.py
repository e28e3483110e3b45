"""`vcon bench`: the speed and size benchmark (docs/benchmark.md)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

QUICK_MODEL = "bert-mini"


def _names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vcon.bench.cases import AUTHORS_KINDS, KINDS
    from vcon.bench.fixtures import COMPRESSORS, MODELS

    parser.add_argument("--models", type=_names, default=list(MODELS),
                        help=f"comma-separated, from {', '.join(MODELS)} (default: all)")
    parser.add_argument("--compressors", type=_names, default=list(COMPRESSORS),
                        help=f"comma-separated, from {', '.join(COMPRESSORS)} (default: all)")
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per case (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per case first (default 3)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2; 0 = torch's default)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | auto (cuda when present)")
    parser.add_argument("--compile", action="store_true", help="torch.compile every case's model")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA only)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a quick look: {QUICK_MODEL} only, 3 repeats, 1 warm-up step")
    parser.add_argument("--profile", metavar="COMPRESSOR",
                        help="instead of the benchmark, profile a few steps of this compressor's --profile-case")
    parser.add_argument("--profile-case", default="posthoc", choices=KINDS + AUTHORS_KINDS,
                        help="the case --profile profiles (default posthoc)")
    parser.add_argument("--trim-heap", action="store_true",
                        help="leave glibc's heap trimming on (default: off, see vcon.bench.measure.keep_heap)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")


def run(args: argparse.Namespace) -> int:
    import torch

    from vcon.bench.measure import keep_heap
    from vcon.bench.fixtures import COMPRESSORS, MODELS
    from vcon.bench.report import table, targets, targets_text
    from vcon.bench.run import Options, run_benchmark

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("vcon bench: --device cuda but no CUDA device is available", file=sys.stderr)
        return 2
    for name in args.models:
        if name not in MODELS:
            print(f"vcon bench: unknown model {name!r}; valid: {', '.join(MODELS)}", file=sys.stderr)
            return 2
    for name in args.compressors + ([args.profile] if args.profile else []):
        if name not in COMPRESSORS:
            print(f"vcon bench: unknown compressor {name!r}; valid: {', '.join(COMPRESSORS)}", file=sys.stderr)
            return 2
    options = Options(models=[QUICK_MODEL] if args.quick else args.models, compressors=args.compressors,
                      repeats=3 if args.quick else args.repeats, warmup=1 if args.quick else args.warmup,
                      batch_size=args.batch_size, device=device, compile=args.compile, bf16=args.bf16,
                      heap_kept=False if args.trim_heap else keep_heap())
    if args.profile:
        from vcon.bench.cases import kinds_for
        from vcon.bench.profile import profile_case

        if args.profile_case not in kinds_for(COMPRESSORS[args.profile]):
            print(f"vcon bench: {args.profile} has no {args.profile_case} case", file=sys.stderr)
            return 2
        print(profile_case(options, args.profile, args.profile_case))
        return 0
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    log(f"vcon bench: {', '.join(options.models)} x {len(options.compressors)} compressors, device {device}, "
        f"{torch.get_num_threads()} threads, {options.repeats} repeats")
    def write(report: dict) -> None:
        report["targets"] = targets(report["results"])
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=1) + "\n")

    report = run_benchmark(options, log, on_result=write)
    print(table(report["results"]))
    print(targets_text(report["targets"]))
    return 0
