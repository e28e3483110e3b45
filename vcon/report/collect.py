"""Load every run's metrics.json into pandas: one row per run, plus one row per (run, epoch).

Runs the grid expects but that have no readable metrics.json stay in the table with status
"missing" (or "invalid") and NaN values; nothing is filled in.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from vcon.atomic import write_text
from vcon.report import checks
from vcon.run_ids import IDENTITY, parse
from vcon.run_record import metrics_problem

HISTORY_KEYS = ["epoch", "step", "beta", "lr", "train_loss", "val_blended", "val_compressed"]


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts to dotted columns; lists (history, per-layer stats) are left out."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            flat.update(flatten(item, f"{name}."))
        elif not isinstance(item, list):
            flat[name] = item
    return flat


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def run_row(identity: dict[str, str], metrics: Mapping[str, Any]) -> dict[str, Any]:
    metric = metrics.get("metric", "accuracy")
    history = metrics.get("history") or []
    last = history[-1] if history else {}
    row: dict[str, Any] = {**identity, "status": "ok", "problem": "", "metric": metric,
                           "value": _number((metrics.get("test") or {}).get(metric)),
                           "val_final": _number(last.get("val_compressed")),
                           "epochs_logged": len(history)}
    for section in ("test", "dense_reference", "compression", "timing", "environment", "config"):
        block = metrics.get(section)
        if isinstance(block, Mapping):
            row.update(flatten(block, f"{section}."))
    return row


def read_cells(path: str | Path) -> pd.DataFrame:
    """The workflow's manifest of expected runs (results/tables/cells.csv)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def collect(runs_root: str | Path, cells: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, history). With `cells`, exactly the expected runs, absent ones marked missing;
    without, every run found under `runs_root`. A run whose metrics.json cannot be trusted is kept
    with its status (invalid: unreadable, unknown schema, another cell's result; stale: made from
    another config than the workflow's now) and the problem, and its value left out (NaN). A metrics.json
    of schema 2 is checked against the sha256 it carries (vcon.run_record)."""
    root = Path(runs_root)
    found = {str(p.parent.relative_to(root).as_posix()): p for p in sorted(root.glob("**/metrics.json"))}
    if cells is not None:
        identities = [{key: str(row[key]) for key in IDENTITY} for _, row in cells.iterrows()]
    else:
        identities = [parse(run_id) for run_id in found]
    specs = dict(zip(cells["run"], cells["compressor_spec"])) if cells is not None and "compressor_spec" in cells else {}
    expected = dict(zip(cells["run"], cells["config"])) if cells is not None and "config" in cells else {}
    rows, history_rows = [], []
    for identity in identities:
        path = found.get(identity["run"])
        metrics, problem = metrics_problem(path) if path else (None, "no metrics.json")
        spec = specs.get(identity["run"], "")
        if metrics is None:
            status = "invalid" if path else "missing"
            rows.append({**identity, "compressor_spec": spec, "status": status, "problem": problem,
                         "value": math.nan})
            continue
        compressor = (metrics.get("config") or {}).get("compressor")
        if not spec and isinstance(compressor, Mapping):
            spec = json.dumps(compressor, sort_keys=True)
        row = {"compressor_spec": spec, **run_row(identity, metrics)}
        problem = checks.cell_problem(identity, metrics)
        status = "invalid" if problem else "ok"
        if not problem and expected.get(identity["run"]):
            problem = checks.config_problem(json.loads(expected[identity["run"]]), metrics.get("config"))
            status = "stale" if problem else "ok"
        if problem:
            row.update(status=status, problem=problem, value=math.nan, val_final=math.nan)
        rows.append(row)
        if not problem:
            for entry in metrics.get("history") or []:
                history_rows.append({**identity, **{k: _number(entry.get(k)) for k in HISTORY_KEYS}})
    runs = pd.DataFrame(rows, columns=_columns(rows))
    runs["env_drift"] = checks.environment_drift(runs) if len(runs) else pd.Series(dtype=str)
    history = pd.DataFrame(history_rows, columns=[*IDENTITY, *HISTORY_KEYS])
    return runs, history


def unexpected(runs_root: str | Path, cells: pd.DataFrame) -> list[str]:
    """Run folders holding a metrics.json that the grid does not expect (moved, renamed, or an old grid)."""
    root = Path(runs_root)
    wanted = set(cells["run"])
    return sorted(run for run in (p.parent.relative_to(root).as_posix() for p in root.glob("**/metrics.json"))
                  if run not in wanted)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    columns = [*IDENTITY, "compressor_spec", "status", "problem", "env_drift", "metric", "value", "val_final",
               "epochs_logged"]
    for row in rows:
        columns += [key for key in row if key not in columns]
    return columns


def _identity_as_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for column in columns:
        if column in frame:
            frame[column] = frame[column].fillna("").astype(str)
    return frame


def read_runs(path: str | Path) -> pd.DataFrame:
    """runs.csv back, identity columns as strings (seed "0", q "120" or "12ep")."""
    text = [*IDENTITY, "compressor_spec", "status", "problem", "env_drift", "metric"]
    return _identity_as_text(pd.read_csv(path, dtype={key: str for key in text}), text)


def read_history(path: str | Path) -> pd.DataFrame:
    return _identity_as_text(pd.read_csv(path, dtype={key: str for key in IDENTITY}), list(IDENTITY))


MACHINE_PREFIXES = ("timing.", "environment.")


def write(runs: pd.DataFrame, history: pd.DataFrame, out_dir: str | Path) -> None:
    """runs.csv holds what a run computed; machine.csv (run, timing.*, environment.*) what differs on
    every rerun, so that a diff of runs.csv shows only what a change moved."""
    out = Path(out_dir)
    machine = [c for c in runs.columns if c.startswith(MACHINE_PREFIXES)]
    write_text(out / "runs.csv", runs.drop(columns=machine).to_csv(index=False))
    write_text(out / "machine.csv", runs[["run", *machine]].to_csv(index=False))
    write_text(out / "history.csv", history.to_csv(index=False))
