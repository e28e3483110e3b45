"""`vcon plot`: the paper's figures (PNG and PDF) from the tables `vcon aggregate` wrote."""
from __future__ import annotations

import argparse
from pathlib import Path

from vcon.report import collect, plots
from vcon.report.options import ReportOptions, add_report_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--figure", choices=[*plots.FIGURES, "all"], default="all",
                        help="which figure (default: all)")
    parser.add_argument("--runs", default="results/tables/runs.csv", help="runs table of `vcon aggregate` "
                        "(default: %(default)s)")
    parser.add_argument("--history", default="results/tables/history.csv", help="per-epoch table of "
                        "`vcon aggregate` (default: %(default)s)")
    parser.add_argument("--out", default="figures", help="output directory (default: %(default)s)")
    parser.add_argument("--prefix", default="", help="file name prefix, e.g. levels_ (default: none)")
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    names = plots.FIGURES if args.figure == "all" else (args.figure,)
    runs = history = None
    if any(name != "schedules" for name in names):
        runs = collect.read_runs(args.runs)
        history = collect.read_history(args.history) if Path(args.history).exists() else None
    options = ReportOptions.from_args(args)
    for name in names:
        paths = plots.draw(name, args.out, runs, history, options, args.prefix)
        print("wrote " + ", ".join(str(p) for p in paths))
    return 0
