"""Whether a run's metrics.json can be trusted for the cell it sits in: the same cell (not a folder
moved or renamed by hand), the config the workflow would run now, and the same environment as the
rest of its group."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pandas as pd

from vcon import lengths
from vcon.vocabulary import DENSE, DENSE_METHODS

LENGTH_KEYS = ("q", "iterative_t", "warmup_steps")
# Resolved by the trainer for the machine it ran on: not part of what the workflow asks for.
MACHINE_KEYS = ("device",)
DRIFT_GROUP = ["model", "dataset"]


def _steps(label: Any, steps_per_epoch: Any) -> int | None:
    """Steps of a length written as 120, "120" or "12ep"; None when it is none or epochs cannot be converted."""
    try:
        length = lengths.parse(label)
    except lengths.LengthError:
        return None
    if length.epochs is not None and not isinstance(steps_per_epoch, int):
        return None
    return length.to_steps(steps_per_epoch)


def cell_problem(identity: Mapping[str, str], metrics: Mapping[str, Any]) -> str:
    """Why the metrics belong to another cell than the folder they sit in, or ""."""
    cell = metrics.get("cell")
    if not isinstance(cell, Mapping):
        return "metrics.json has no cell"
    config = metrics.get("config") if isinstance(metrics.get("config"), Mapping) else {}
    per_epoch = config.get("steps_per_epoch")
    wrong = []
    # The trainer records every dense run as "dense"; the grid names pretraining and runs from scratch.
    folder = {**identity, "method": DENSE if identity["method"] in DENSE_METHODS else identity["method"]}
    for key in ("dataset", "method", "seed"):
        if key in cell and str(cell[key]) != folder[key]:
            wrong.append(f"{key} {cell[key]!r} (folder: {identity[key]!r})")
    if identity["method"] == "vcon" and "schedule" in cell and cell["schedule"] != identity["schedule"]:
        wrong.append(f"schedule {cell['schedule']!r} (folder: {identity['schedule']!r})")
    if identity["method"] in ("posthoc", "vcon") and "q" in cell:
        want = _steps(identity["q"], per_epoch)
        if want is not None and _steps(cell["q"], per_epoch) != want:
            wrong.append(f"q {cell['q']!r} (folder: {identity['q']!r})")
    if identity["method"] == "iterative" and "iterative_t" in config:
        want = _steps(identity["iterative_t"], per_epoch)
        if want is not None and _steps(config["iterative_t"], per_epoch) != want:
            wrong.append(f"iterative_t {config['iterative_t']!r} (folder: {identity['iterative_t']!r})")
    if not wrong:
        return ""
    return "metrics.json is another cell's (folder moved or renamed?): " + ", ".join(wrong)


def _same(key: str, want: Any, got: Any, per_epoch: Any) -> bool:
    if key in MACHINE_KEYS:
        return True
    if key == "compressor" and isinstance(want, Mapping):
        return isinstance(got, Mapping) and all(got.get(k) == v for k, v in want.items())
    if key in LENGTH_KEYS and want is not None:
        steps = _steps(want, per_epoch)
        return steps is None or _steps(got, per_epoch) == steps
    if key == "iterative_t" and want is None:
        return True  # the trainer's default, 20 % of the run, recorded in steps
    return want == got


def config_problem(expected: Mapping[str, Any], recorded: Any) -> str:
    """The keys where the recorded config differs from the cell config the workflow would run now, or ""."""
    if not isinstance(recorded, Mapping):
        return "metrics.json records no config"
    per_epoch = recorded.get("steps_per_epoch")
    differ = [f"{key} {recorded.get(key, '(absent)')!r} (workflow now: {want!r})"
              for key, want in expected.items() if not _same(key, want, recorded.get(key), per_epoch)]
    if not differ:
        return ""
    return "made from another config than the workflow's now: " + "; ".join(differ)


def _signature(row: Mapping[str, Any]) -> dict[str, str]:
    found = {k: row[k] for k in row if k.startswith("environment.packages.") or k in (
        "environment.git_commit", "environment.git_dirty")}
    return {k.removeprefix("environment.").removeprefix("packages."): str(v) for k, v in found.items()
            if not (isinstance(v, float) and v != v)}


def environment_drift(runs: pd.DataFrame) -> pd.Series:
    """Per run, the package versions / git commit that differ from the most common ones of its
    (model, dataset) group, e.g. "torch 2.13.0 (group: 2.14.1)"; "" when none or unknown."""
    drift = pd.Series("", index=runs.index, dtype=object)
    usable = runs[runs["status"] == "ok"] if "status" in runs else runs
    for _, group in usable.groupby(DRIFT_GROUP, sort=False):
        signatures = {index: _signature(row) for index, row in group.to_dict("index").items()}
        keys = sorted({k for sig in signatures.values() for k in sig})
        common = {k: Counter(sig[k] for sig in signatures.values() if k in sig).most_common(1)[0][0] for k in keys}
        for index, sig in signatures.items():
            drift[index] = "; ".join(f"{k} {sig[k]} (group: {common[k]})" for k in keys
                                     if k in sig and sig[k] != common[k])
    return drift


def drift_note(runs: pd.DataFrame, limit: int = 5) -> str:
    """A note for under the tables naming the runs made in another environment, or ""."""
    if "env_drift" not in runs:
        return ""
    drifted = runs[runs["env_drift"].fillna("").astype(str) != ""]
    if drifted.empty:
        return ""
    shown = "; ".join(f"{r.run}: {r.env_drift}" for r in drifted.head(limit).itertuples(index=False))
    more = f"; and {len(drifted) - limit} more" if len(drifted) > limit else ""
    return (f"Environment drift: {len(drifted)} run(s) were made with other package versions or code than the rest "
            f"of their model/dataset group (included above; column env_drift of runs.csv): {shown}{more}.")
