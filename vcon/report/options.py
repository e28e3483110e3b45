"""The report's options, shared by `vcon aggregate` and `vcon plot` (the workflow passes them from the
config's `report:`)."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from vcon.report.statistics import parse_headline
from vcon.vocabulary import INTERVALS, SPLITS


@dataclass(frozen=True)
class ReportOptions:
    """Which runs the headline columns show and how the paired gains are summarised."""

    headline_q: dict[str, str] = field(default_factory=lambda: parse_headline(None))
    headline_iterative: dict[str, dict[str, str]] = field(default_factory=dict)  # model|default -> name -> variant
    schedule: str = "linear"
    interval: str = "t"
    resamples: int = 10000
    split: str = "test"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ReportOptions:
        return cls(parse_headline(args.headline_q), parse_headline_iterative(args.headline_iterative),
                   args.schedule, args.interval, args.bootstrap, args.split)


def parse_headline_iterative(values: list[str] | None) -> dict[str, dict[str, str]]:
    """["vit-digits/prune=zhu-gupta", "default/binary=inq"] -> {"vit-digits": {"prune": "zhu-gupta"}, ...}."""
    chosen: dict[str, dict[str, str]] = {}
    for value in values or []:
        where, sep, variant = value.partition("=")
        model, slash, name = where.partition("/")
        if not (sep and slash and model and name and variant):
            raise ValueError(f"--headline-iterative {value!r}: expected MODEL/COMPRESSOR=VARIANT, "
                             f"e.g. vit-digits/prune=zhu-gupta or default/prune=zhu-gupta")
        chosen.setdefault(model, {})[name] = variant
    return chosen


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Which VCON runs are shown (headline Q, beta shape), which iterative variant, and how the paired
    gains' interval is made."""
    parser.add_argument("--headline-q", action="append", metavar="[MODEL=]Q",
                        help="Q of the VCON column and curves, e.g. 12ep or bert-base=2ep (repeatable); 'best' "
                        "picks the Q with the best final validation metric (default: best)")
    parser.add_argument("--headline-iterative", action="append", metavar="MODEL/COMPRESSOR=VARIANT",
                        help="iterative variant of the headline column per model label (or default) and compressor "
                        "name, e.g. vit-digits/prune=zhu-gupta (repeatable; default: the only or first variant)")
    parser.add_argument("--schedule", default="linear", help="beta shape of the Q sweep (default: %(default)s)")
    parser.add_argument("--interval", choices=INTERVALS, default="t", help="95 %% interval of the paired gains: "
                        "t (Student-t) or bca (BCa bootstrap) (default: %(default)s)")
    parser.add_argument("--bootstrap", type=int, default=10000, help="bootstrap resamples of --interval bca and of "
                        "the probability of improvement's interval (default: %(default)s)")
    parser.add_argument("--split", choices=SPLITS, default="test", help="what the tables show: the test metric, or "
                        "the final validation metric of the compressed model (a pilot) (default: %(default)s)")
