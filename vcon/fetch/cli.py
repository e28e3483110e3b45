"""`vcon fetch cifar10|cifar100|glue-<task>|imagenet [--root DIR]` and `vcon fetch checkpoint ID`.

Exit codes: 0 there (already, or downloaded now); 2 not there and not to be had from this machine (the
message says what to place where), or a bad name; 1 the download started and failed (nothing left behind).
"""
from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path

from vcon.atomic import write_text
from vcon.fetch.sources import DownloadFailed, Fetched, Unavailable, fetch_checkpoint, fetch_dataset

CHECKPOINT = "checkpoint"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", metavar="WHAT", help="cifar10, cifar100, glue-<task> or imagenet (into the data "
                        "directory), or `checkpoint` (a hub checkpoint into the Hugging Face cache)")
    parser.add_argument("hub_id", nargs="?", metavar="ID", help="with `checkpoint`: a hub id (owner/name) or a "
                        "registered name of one (vit-tiny, ...)")
    parser.add_argument("--root", help="data directory, as the config key data_root (default: VCON_<NAME>_ROOT, "
                        "then VCON_DATA_ROOT)")
    parser.add_argument("--receipt", type=Path, help="write what was fetched, where, when, as JSON (last, atomically)")


def run(args: argparse.Namespace) -> int:
    # A stop (Snakemake's, a scheduler's) unwinds like an error: the temporary download directory is removed.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        fetched = _fetch(args)
    except Unavailable as error:
        print(f"vcon fetch: error: {error}", file=sys.stderr)
        return 2
    except DownloadFailed as error:
        print(f"vcon fetch: error: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    receipt = {
        "what": fetched.what, "kind": fetched.kind, "where": str(Path(fetched.where).resolve()),
        "source": fetched.source, "downloaded": fetched.downloaded,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "host": socket.gethostname(),
    }
    if args.receipt:
        write_text(args.receipt, json.dumps(receipt, indent=2) + "\n")
    print(f"{fetched.what}: {'downloaded to' if fetched.downloaded else 'already in'} {receipt['where']}")
    return 0


def _fetch(args: argparse.Namespace) -> Fetched:
    if args.what == CHECKPOINT:
        if not args.hub_id:
            raise Unavailable("`vcon fetch checkpoint` needs a hub id, e.g. "
                              "`vcon fetch checkpoint google/vit-base-patch16-224`")
        if args.root:
            raise Unavailable("--root is for data sets; checkpoints go to the Hugging Face cache (set HF_HOME)")
        return fetch_checkpoint(args.hub_id)
    if args.hub_id:
        raise Unavailable(f"unexpected argument {args.hub_id!r}: only `vcon fetch checkpoint` takes an ID")
    return fetch_dataset(args.what, args.root)
