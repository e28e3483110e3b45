"""`vcon train --config CELL.yaml --out DIR [--set key=value ...]`."""
from __future__ import annotations

import argparse
import os
import sys

from vcon.train.config import describe_compressors, describe_keys
from vcon.vocabulary import NO_COMPRESSOR


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "cell config keys (YAML file or --set):\n" + describe_keys() + \
        "\n\ncompressor specs ({name: NAME, KEY: VALUE, ...}), each NAME with its keys:\n" + describe_compressors()
    parser.add_argument("--config", help="YAML file describing one cell (keys below); omitted keys take their defaults")
    parser.add_argument("--out", required=True, help="run folder: receives metrics.json, history.csv, config.yaml, checkpoints")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one key (YAML value), e.g. --set lr=3e-4 --set 'compressor={name: binary}'")
    parser.add_argument("--force", action="store_true", help="train again even if DIR holds a complete run (overwrites it)")
    parser.add_argument("--fetched", action="append", default=[], metavar="RECEIPT",
                        help="receipt of a `vcon fetch` of what this cell reads: its files are checked against it "
                             "before any work (the workflow passes each cell's receipts)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")


def run(args: argparse.Namespace) -> int:
    from vcon.fetch import receipts
    from vcon.train.config import ConfigError, load_config
    from vcon.train.checkpoint import CheckpointError
    from vcon.train.interrupt import EXIT_INTERRUPTED, Interrupted
    from vcon.train.lock import RunLockedError
    from vcon.train.resume import TrainingDiverged
    from vcon.train.run import RunExistsError, train_cell

    source = args.config or "defaults"
    try:
        config, source = load_config(args.config, args.overrides)
        for receipt in args.fetched:
            receipts.verify(receipt)
        metrics = train_cell(config, args.out, quiet=args.quiet, force=args.force)
    except ConfigError as error:  # checks that needed the data or model do not know the file: name it
        text = str(error)
        print(f"vcon train: error: {text if text.startswith(source) else f'{source}: {text}'}", file=sys.stderr)
        return 2
    except (RunExistsError, ValueError, FileNotFoundError, ConnectionError, CheckpointError, RunLockedError) as error:
        print(f"vcon train: error: {error}", file=sys.stderr)
        return 2
    except TrainingDiverged as error:
        print(f"vcon train: error: {error}", file=sys.stderr)
        return 1
    except Interrupted as stopped:
        if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 alone reports
            print(f"vcon train: {stopped}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if metrics is None:  # a rank other than 0 under torchrun
        return 0
    test = metrics["test"][metrics["metric"]]
    cell = metrics["cell"]
    label = cell["method"] if cell["compressor"] == NO_COMPRESSOR else f"{cell['method']} {cell['compressor']}"
    print(f"{label}: test {metrics['metric']} {test:.4f} "
          f"({metrics['timing']['wall_s']:.1f} s) -> {args.out}")
    return 0
