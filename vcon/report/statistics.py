"""The numbers behind the tables: summaries over seeds, gains paired by seed with 95 % intervals,
and the choice of the VCON column's Q."""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from vcon import lengths
from vcon.report import comparisons
from vcon.vocabulary import INTERVALS

BEST_Q = "best"
GROUP = ["model", "dataset", "start", "compressor"]  # one row of the tables: an experiment, its start, a compressor
LEVEL = 0.95


def summary(values: pd.Series) -> dict[str, float]:
    """mean, std (ddof 1; NaN for one value), n (values present), expected (rows)."""
    present = values.dropna()
    return {"mean": present.mean() if len(present) else math.nan,
            "std": present.std(ddof=1) if len(present) > 1 else math.nan,
            "n": len(present), "expected": len(values)}


def paired_differences(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    """a - b per seed, for the seeds present in both (values x 100)."""
    left = a.set_index("seed")["value"].dropna()
    right = b.set_index("seed")["value"].dropna()
    seeds = left.index.intersection(right.index)
    return (left[seeds] - right[seeds]) * 100


def t_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """mean +- t(level, n - 1) * s / sqrt(n); NaN for fewer than two values."""
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if data.size < 2:
        return math.nan, math.nan
    from scipy import stats

    half = stats.t.ppf(0.5 + level / 2, data.size - 1) * data.std(ddof=1) / math.sqrt(data.size)
    return float(data.mean() - half), float(data.mean() + half)


def bca_interval(values: Sequence[float], level: float = LEVEL, resamples: int = 10000,
                 seed: int = 0) -> tuple[float, float]:
    """BCa bootstrap interval of the mean (scipy.stats.bootstrap); NaN for fewer than two values,
    the value itself when all values are equal."""
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if data.size < 2:
        return math.nan, math.nan
    if np.all(data == data[0]):
        return float(data[0]), float(data[0])
    from scipy import stats

    result = stats.bootstrap((data,), np.mean, confidence_level=level, n_resamples=resamples, method="BCa",
                             rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def interval(values: Sequence[float], method: str = "t", resamples: int = 10000) -> tuple[float, float]:
    """The 95 % interval of the mean of `values` by `method` (one of INTERVALS)."""
    if method == "t":
        return t_interval(values)
    if method == "bca":
        return bca_interval(values, resamples=resamples)
    raise ValueError(f"unknown interval {method!r}; valid: {', '.join(INTERVALS)}")


def excludes_zero(low: float, high: float) -> bool:
    """Whether an interval lies wholly above or wholly below 0 (NaN: no)."""
    return bool(low > 0 or high < 0)


def interquartile_mean(values: pd.Series) -> float:
    """The mean of the middle half of the values (25 % trimmed from each end; rliable's IQM)."""
    present = values.dropna()
    if present.empty:
        return math.nan
    from scipy import stats

    return float(stats.trim_mean(present, 0.25))


def seed_label(seeds: Sequence[str]) -> str:
    """`0-5` for consecutive seeds, else `0, 2, 4`."""
    numbers = sorted(int(s) for s in seeds)
    if not numbers:
        return ""
    if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 2:
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(map(str, numbers))


def paired_gain(vcon: pd.DataFrame, baseline: pd.DataFrame, method: str = "t",
                resamples: int = 10000) -> dict[str, object]:
    """VCON minus a baseline, paired by seed (points): mean, spread, 95 % interval and its half-width,
    median and interquartile mean, its class, the seeds a half-width of 1 point would need, and the
    same on each of two disjoint blocks of the seeds, with whether the class replicates over them."""
    diffs = paired_differences(vcon, baseline)
    low, high = interval(list(diffs), method, resamples)
    stats = summary(diffs)
    cls = comparisons.classify(low, high)
    gain: dict[str, object] = {
        **stats, "expected": min(len(vcon), len(baseline)), "low": low, "high": high,
        "excludes_zero": excludes_zero(low, high), "half_width": (high - low) / 2, "median": diffs.median(),
        "iqm": interquartile_mean(diffs), "class": cls, "seeds_needed": comparisons.seeds_needed(stats["std"]),
    }
    seeds = sorted(set(vcon["seed"]) | set(baseline["seed"]), key=int)
    blocks = []
    for name, block in zip(("block_a", "block_b"), comparisons.split_blocks(seeds)):
        part = diffs[diffs.index.isin(block)]
        block_low, block_high = interval(list(part), method, resamples)
        block_class = comparisons.classify(block_low, block_high)
        mean = part.mean() if len(part) else math.nan
        gain.update({f"{name}_seeds": seed_label(block), f"{name}_mean": mean, f"{name}_class": block_class})
        blocks.append((block_class, mean))
    gain["replicates"] = comparisons.replicates(cls, stats["mean"], blocks) if len(blocks) == 2 else False
    return gain


# --- choosing the VCON column ------------------------------------------------------------------

def parse_headline(values: Sequence[str] | None) -> dict[str, str]:
    """["12ep"] or ["default=12ep", "bert-base=2ep"] -> {"default": "12ep", "bert-base": "2ep"}."""
    headline = {"default": BEST_Q}
    for value in values or []:
        model, sep, q = value.rpartition("=")
        headline[model if sep else "default"] = q.strip()
    return headline


def q_order(runs: pd.DataFrame, q_values: Iterable[str]) -> list[str]:
    """Q labels sorted by their length in steps (from the resolved configs), else by the label."""
    steps = pd.to_numeric(runs.get("config.q", pd.Series(dtype=float)), errors="coerce")
    by_label = steps.groupby(runs["q"]).median() if "config.q" in runs else pd.Series(dtype=float)

    def key(q: str) -> tuple[float, bool, float]:
        length = lengths.parse(q or 0)
        measured = by_label.get(q, math.nan)
        in_epochs = length.epochs is not None
        return (measured if not math.isnan(measured) else math.inf, in_epochs,
                length.epochs if in_epochs else length.steps)

    return sorted(set(q_values), key=key)


def choose_vcon(runs: pd.DataFrame, headline: dict[str, str], schedule: str) -> pd.DataFrame:
    """The Q of the VCON column per (model, dataset, start, compressor): the configured one, or with
    "best" the Q whose mean final validation metric (compressed model) is highest."""
    vcon = runs[(runs["method"] == "vcon") & (runs["schedule"] == schedule)]
    rows = []
    for (model, dataset, start, compressor), group in vcon.groupby(GROUP, sort=False):
        wanted = headline.get(model, headline.get("default", BEST_Q))
        if wanted != BEST_Q:
            rows.append((model, dataset, start, compressor, wanted, "configured"))
            continue
        score = group["val_final"].where(group["val_final"].notna(), group["value"])
        means = score.groupby(group["q"]).mean().dropna()
        if means.empty:
            continue
        rows.append((model, dataset, start, compressor, means.idxmax(), "best on validation"))
    return pd.DataFrame(rows, columns=[*GROUP, "q", "selection"])


def picked_q(choice: pd.DataFrame, model: str, dataset: str, start: str, compressor: str) -> tuple[str, str]:
    """(Q, how it was chosen) of one group in `choose_vcon`'s table; ("", "") when it has no VCON run."""
    hit = choice[(choice["model"] == model) & (choice["dataset"] == dataset) & (choice["start"] == start)
                 & (choice["compressor"] == compressor)]
    return (hit.iloc[0]["q"], hit.iloc[0]["selection"]) if len(hit) else ("", "")
