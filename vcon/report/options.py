"""Command-line options shared by `vcon aggregate` and `vcon plot`."""
from __future__ import annotations

import argparse

from vcon.report.statistics import INTERVALS


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Which VCON runs are shown (headline Q, beta shape) and how the paired gains' interval is made."""
    parser.add_argument("--headline-q", action="append", metavar="[MODEL=]Q",
                        help="Q of the VCON column and curves, e.g. 12ep or bert-base=2ep (repeatable); 'best' "
                        "picks the Q with the best final validation metric (default: best)")
    parser.add_argument("--schedule", default="linear", help="beta shape of the Q sweep (default: %(default)s)")
    parser.add_argument("--interval", choices=INTERVALS, default="t", help="95 %% interval of the paired gains: "
                        "t (Student-t) or bca (BCa bootstrap) (default: %(default)s)")
    parser.add_argument("--bootstrap", type=int, default=10000, help="bootstrap resamples of --interval bca "
                        "(default: %(default)s)")
