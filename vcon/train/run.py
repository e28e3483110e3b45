"""`train_cell`: one cell from config to a complete run folder, metrics.json written last."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
import yaml

import vcon
from vcon.train import environment
from vcon.train.config import CellConfig
from vcon.train.loop import train
from vcon.train.outputs import METRICS_FILE, SCHEMA_VERSION, save_torch, write_csv, write_json, write_text
from vcon.train.setup import COMPRESSED_CHECKPOINT, DENSE_CHECKPOINT, build_cell, resolved_config


class RunExistsError(FileExistsError):
    """The run folder already holds a complete run."""


def check_out_dir(out_dir: Path, force: bool) -> None:
    metrics = out_dir / METRICS_FILE
    if metrics.exists():
        if not force:
            raise RunExistsError(f"{metrics} exists: this run is complete. Pass --force to train it again "
                                 f"and overwrite it, or choose another --out")
        metrics.unlink()


def _write_tensorboard(out_dir: Path, history: list[dict[str, Any]]) -> None:
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(log_dir=str(out_dir / "tensorboard")) as writer:
        for entry in history:
            for key in ("beta", "lr", "train_loss", "val_blended", "val_compressed"):
                writer.add_scalar(key, entry[key], entry["step"])


def train_cell(config: CellConfig, out_dir: str | Path, quiet: bool = False, force: bool = False) -> dict[str, Any]:
    """Train one cell into `out_dir`; returns the metrics written to `out_dir/metrics.json`."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    check_out_dir(out_dir, force)
    cell = build_cell(config)
    resolved = resolved_config(cell)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
    setup_seconds = time.perf_counter() - started

    result = train(cell, quiet=quiet)
    final = result["final_model"]
    if cell.method == "dense":
        save_torch(out_dir / DENSE_CHECKPOINT, {"model": final.state_dict(), "config": resolved})
        compression = None
    else:
        save_torch(out_dir / COMPRESSED_CHECKPOINT, {"model": final.state_dict(), "config": resolved,
                                                     "compressor": config.compressor})
        compression = vcon.stats(final)
    write_csv(out_dir / "history.csv", result["history"])
    if config.tensorboard:
        _write_tensorboard(out_dir, result["history"])

    timing = dict(result["timing"], setup_s=setup_seconds)
    timing["wall_s"] = time.perf_counter() - started
    metrics = {
        "schema_version": SCHEMA_VERSION,
        "cell": {
            "model": config.model,
            "dataset": config.dataset,
            "compressor": config.compressor["name"] if config.compressor else "none",
            "method": cell.method,
            "q": cell.q,
            "schedule": config.schedule,
            "seed": config.seed,
        },
        "config": resolved,
        "metric": cell.data.metric,
        "test": result["test"],
        "dense_reference": cell.dense_reference,
        "history": result["history"],
        "compression": compression,
        "timing": timing,
        "environment": environment.describe(cell.device),
    }
    write_json(out_dir / METRICS_FILE, metrics)
    return metrics
