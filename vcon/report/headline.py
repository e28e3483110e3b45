"""Which runs make the headline columns: per (model, dataset, start, compressor), post-shot, the
iterative baseline's headline variant and VCON at the headline Q, beside the dense runs. The tables,
the findings and the figures all read them from here."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vcon.vocabulary import DENSE, NO_COMPRESSOR, PRETRAIN
from vcon.report.options import ReportOptions
from vcon.report.statistics import choose_vcon, picked_q


@dataclass(frozen=True)
class Group:
    """One row of the headline tables: a compressor of an experiment, from one start."""

    model: str
    dataset: str
    metric: str
    start: str
    compressor: str  # the config's label
    name: str  # the registered compressor name
    q: str  # VCON's headline Q ("" without VCON runs)
    selection: str  # how that Q was chosen
    variant: str  # the iterative baseline's headline variant ("" without variants)
    runs: pd.DataFrame  # the group's compression runs
    dense: pd.DataFrame  # the experiment's dense runs

    def method(self, method: str, variant: str | None = None) -> pd.DataFrame:
        """The group's runs of post-shot, iterative (the headline variant unless `variant` is given),
        VCON (at the headline Q and the sweep's beta shape, set by `groups`), or dense."""
        if method == DENSE:
            return self.dense
        runs = self.runs[self.runs["method"] == method]
        if method == "iterative":
            return runs[_variant_column(runs) == (self.variant if variant is None else variant)]
        if method == "vcon":
            return runs[runs["q"] == self.q]
        return runs

    @property
    def variants(self) -> list[str]:
        """The iterative variants of the group, in run order ("" for a grid without variants)."""
        return list(dict.fromkeys(_variant_column(self.runs[self.runs["method"] == "iterative"])))


def _variant_column(runs: pd.DataFrame) -> pd.Series:
    if "iterative_variant" not in runs:
        return pd.Series([""] * len(runs), index=runs.index, dtype=str)
    return runs["iterative_variant"].fillna("").astype(str)


def experiments(runs: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(model, dataset, metric) of every target experiment, in run order."""
    out = []
    targets = runs[runs["method"] != PRETRAIN]
    for (model, dataset), group in targets.groupby(["model", "dataset"], sort=False):
        metrics = group["metric"].replace("", np.nan).dropna() if "metric" in group else pd.Series()
        out.append((model, dataset, metrics.iloc[0] if len(metrics) else "accuracy"))
    return out


def compressor_name(runs: pd.DataFrame) -> str:
    """The registered compressor name of a group's runs (from their specs)."""
    for spec in runs["compressor_spec"].dropna() if "compressor_spec" in runs else []:
        if spec:
            return json.loads(spec)["name"]
    return ""


def groups(runs: pd.DataFrame, options: ReportOptions) -> Iterator[Group]:
    """Every headline group of the runs, in grid order. The iterative variant is the configured one
    (`headline_iterative`: the model's entry, else `default`), else the only or first one present."""
    sweep = runs[(runs["method"] != "vcon") | (runs["schedule"] == options.schedule)]
    choice = choose_vcon(runs, options.headline_q, options.schedule)
    for model, dataset, metric in experiments(runs):
        exp = sweep[(sweep["model"] == model) & (sweep["dataset"] == dataset)]
        dense = exp[exp["method"] == DENSE]
        compressed = exp[exp["compressor"] != NO_COMPRESSOR]
        for (start, compressor), of in compressed.groupby(["start", "compressor"], sort=False):
            q, selection = picked_q(choice, model, dataset, start, compressor)
            name = compressor_name(of)
            group = Group(model, dataset, metric, start, compressor, name, q, selection, "", of, dense)
            chosen = {**options.headline_iterative.get("default", {}),
                      **options.headline_iterative.get(model, {})}.get(name)
            variants = group.variants
            variant = chosen if chosen in variants else variants[0] if variants else ""
            yield Group(model, dataset, metric, start, compressor, name, q, selection, variant, of, dense)
