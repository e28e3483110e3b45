"""`vcon aggregate`: every metrics.json under a runs directory into runs.csv, history.csv and the
paper-style tables (accuracy, beta ablation, and the authors' reference numbers when the runs hold
ViT-T/CIFAR-10)."""
from __future__ import annotations

import argparse

from vcon.vocabulary import PRETRAIN
from vcon.report import collect, tables
from vcon.report.reference import REFERENCE_EXPERIMENT
from vcon.report.options import ReportOptions, add_report_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", default="results/runs", help="root of the run directories (default: %(default)s)")
    parser.add_argument("--cells", help="manifest of expected runs (results/tables/cells.csv, written by the "
                        "workflow); absent runs appear as missing. Without it: every run found.")
    parser.add_argument("--out", default="results/tables", help="output directory (default: %(default)s)")
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    cells = collect.read_cells(args.cells) if args.cells else None
    runs, history = collect.collect(args.runs, cells)
    collect.write(runs, history, args.out)
    reference = None
    if cells is not None:
        model, dataset = REFERENCE_EXPERIMENT
        reference = bool(((cells["model"] == model) & (cells["dataset"] == dataset)).any())
    options = ReportOptions.from_args(args)
    if options.split == "validation":  # a pilot: the cells' final validation metric; a pretraining keeps its test one
        runs = runs.assign(value=runs["val_final"].where(runs["method"] != PRETRAIN, runs["value"]))
    written = tables.write_tables(runs, args.out, options, reference)
    counts = runs["status"].value_counts().to_dict() if len(runs) else {}
    print(f"{len(runs)} runs ({', '.join(f'{k} {v}' for k, v in counts.items()) or 'none found'}); "
          f"wrote {args.out}/runs.csv, machine.csv, history.csv and {len(written)} table files")
    missing = runs[runs["status"] != "ok"]
    for row in missing.head(20).itertuples(index=False):
        print(f"  {row.status}: {row.run} ({row.problem})")
    drifted = runs[runs["env_drift"].fillna("").astype(str) != ""] if len(runs) else runs
    for row in drifted.head(20).itertuples(index=False):
        print(f"  environment drift: {row.run} ({row.env_drift})")
    if cells is not None:
        extra = collect.unexpected(args.runs, cells)
        for run in extra[:20]:
            print(f"  not in the grid (ignored): {run}")
    return 0
