"""`vcon fetch cifar10|cifar100|glue-<task>|imagenet [--root DIR]` and `vcon fetch checkpoint ID`.

Exit codes: 0 there (already, or downloaded now); 2 not there and not to be had from this machine (the
message says what to place where), a bad name, or data that was there already but differs from the receipt
of its earlier fetch (the message says what to delete); 1 the download started and failed (nothing left behind).
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
from vcon.fetch import receipts
from vcon.fetch.sources import CHECKPOINT, DownloadFailed, Fetched, Unavailable, fetch_checkpoint, fetch_dataset
from vcon.integrity import DamagedFile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", metavar="WHAT", help="cifar10, cifar100, glue-<task> or imagenet (into the data "
                        "directory), or `checkpoint` (a hub checkpoint into the Hugging Face cache)")
    parser.add_argument("hub_id", nargs="?", metavar="ID", help="with `checkpoint`: a hub id (owner/name) or a "
                        "registered name of one (vit-tiny, ...)")
    parser.add_argument("--root", help="data directory, as the config key data_root (default: VCON_<NAME>_ROOT, "
                        "then VCON_DATA_ROOT)")
    parser.add_argument("--receipt", type=Path, help="write what was fetched, where, when and each file's sha256, as "
                        "JSON (last, atomically); data found there already is first checked against this file's "
                        "earlier version, if any")


def run(args: argparse.Namespace) -> int:
    # A stop (Snakemake's, a scheduler's) unwinds like an error: the temporary download directory is removed.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        fetched = _fetch(args)
        if args.receipt and not fetched.downloaded:
            _check_against_earlier(args.receipt, fetched)
    except (Unavailable, DamagedFile) as error:
        print(f"vcon fetch: error: {error}", file=sys.stderr)
        return 2
    except DownloadFailed as error:
        print(f"vcon fetch: error: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    receipt = receipts.receipt(fetched, args.root, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               socket.gethostname())
    if args.receipt:
        write_text(args.receipt, json.dumps(receipt, indent=2) + "\n")
    print(f"{fetched.what}: {'downloaded to' if fetched.downloaded else 'already in'} {receipt['where']}")
    return 0


def _check_against_earlier(path: Path, fetched: Fetched) -> None:
    """Data found in place is checked against the receipt of its earlier fetch, when there is one for
    the same place: a damaged copy is reported (what to delete), never recorded anew as good. An
    earlier receipt that cannot be read is replaced (it is what this fetch rebuilds)."""
    if not path.exists():
        return
    try:
        earlier = receipts.read_receipt(path)
    except DamagedFile:
        return
    if earlier["where"] == str(Path(fetched.where).resolve()):
        receipts.verify(path)


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
