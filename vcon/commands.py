"""The `vcon` sub-commands: one module per command, exposing `add_arguments(parser)` and
`run(args) -> int`, imported only when its command runs, so `vcon --help` is fast."""
from __future__ import annotations

import argparse
import importlib

COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("vcon.train.cli", "train one cell (model x dataset x compressor x method x seed x Q)"),
    "aggregate": ("vcon.report.cli_aggregate", "collect run metrics into the paper's tables"),
    "plot": ("vcon.report.cli_plot", "draw the paper's figures from the aggregated tables"),
    "compare": ("vcon.report.cli_compare", "do two result folders agree? gains, classes and the replication rule"),
    "bench": ("vcon.bench.cli", "time and size dense, post-shot, VCON and iterative fine-tuning side by side"),
    "fetch": ("vcon.fetch.cli", "download a data set or hub checkpoint the grid needs, or say where to place it"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vcon", description="Vanishing Contributions benchmark suite")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = argv[0] if argv else None
    for name, (module, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == wanted:
            importlib.import_module(module).add_arguments(command_parser)
    return parser


def run_command(argv: list[str]) -> int:
    """Run one sub-command in this process."""
    args = build_parser(argv).parse_args(argv)
    module = importlib.import_module(COMMANDS[args.command][0])
    return int(module.run(args) or 0)
