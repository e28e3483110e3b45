"""`vcon compare A B`: do two result folders (a reproduction and the committed tables, or two machines)
tell the same story? Per headline comparison: both gains, both classes, and whether they agree by the
rule that judges the two blocks of seeds (vcon.report.comparisons.agree). Exit 0 when every comparison
in both agrees, 1 when one does not, 2 when a folder cannot be read."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

from vcon.report.comparisons import agree

KEY = ["model", "dataset", "start", "compressor", "baseline"]
FILE = "comparisons.csv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("first", metavar="A", help=f"a tables folder holding {FILE} (e.g. results/tables)")
    parser.add_argument("second", metavar="B", help="another one, e.g. your reproduction's")


def read(folder: str) -> pd.DataFrame:
    path = Path(folder) / FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: A and B are tables folders written by `vcon aggregate` "
                                f"(e.g. results/tables), holding {FILE}")
    table = pd.read_csv(path, dtype={key: str for key in KEY}, keep_default_na=False,
                        na_values={"mean": [""], "low": [""], "high": [""]})
    missing = [c for c in (*KEY, "variant", "mean", "low", "high", "class", "n") if c not in table]
    if missing:
        raise ValueError(f"{path} lacks the columns {', '.join(missing)}; write it again with this version's "
                         f"`vcon aggregate`")
    return table


def compare(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison found in either table: both results, where it is found (both, A, B),
    and whether they agree (None unless found in both)."""
    merged = first.merge(second, on=KEY, how="outer", suffixes=("_a", "_b"), indicator=True, sort=False)
    found = {"both": "both", "left_only": "A", "right_only": "B"}
    rows = []
    for r in merged.to_dict("records"):
        where = found[r["_merge"]]
        agrees = agree(r["class_a"], float(r["mean_a"]), r["class_b"], float(r["mean_b"])) if where == "both" else None
        rows.append({**{k: r[k] for k in KEY}, "found": where, "agree": agrees,
                     **{f"{field}_{side}": r.get(f"{field}_{side}") for side in "ab"
                        for field in ("variant", "n", "mean", "low", "high", "class")}})
    return pd.DataFrame(rows)


def _gain(r: dict, side: str) -> str:
    if r["found"] not in ("both", side.upper()):
        return "--"
    mean, low, high = (float(r[f"{field}_{side}"]) for field in ("mean", "low", "high"))
    if math.isnan(mean):
        return "missing"
    interval = "" if math.isnan(low) else f" [{low:+.2f}, {high:+.2f}]"
    return f"{mean:+.2f}{interval} {r[f'class_{side}']} (n={int(float(r[f'n_{side}']))})"


def _verdict(r: dict) -> str:
    if r["found"] != "both":
        return f"only in {r['found']}"
    verdict = "agree" if r["agree"] else "DISAGREE"
    if r["variant_a"] != r["variant_b"]:
        verdict += f" (iterative variants differ: {r['variant_a']} vs {r['variant_b']})"
    return verdict


def run(args: argparse.Namespace) -> int:
    try:
        table = compare(read(args.first), read(args.second))
    except (OSError, ValueError) as error:
        print(f"vcon compare: error: {error}", file=sys.stderr)
        return 2
    print(f"A = {args.first}\nB = {args.second}")
    for r in table.to_dict("records"):
        variant = next((v for v in (r["variant_a"], r["variant_b"]) if isinstance(v, str) and v), "")
        start = f" (from {r['start']})" if r["start"] not in ("", "pretrained") else ""
        print(f"{r['model']} / {r['dataset']}{start} {r['compressor']}, VCON − {r['baseline']}"
              f"{f' ({variant})' if variant else ''}: A {_gain(r, 'a')} | B {_gain(r, 'b')} -> {_verdict(r)}")
    both = table[table["found"] == "both"]
    disagree = int((~both["agree"].astype(bool)).sum())
    alone = len(table) - len(both)
    print(f"{len(both) - disagree} of {len(both)} comparisons agree" + (f"; {alone} in one folder only" if alone else ""))
    return 1 if disagree else 0
