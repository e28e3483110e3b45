"""`train_cell`: one cell from config to a complete run folder, metrics.json written last."""
from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import yaml

from vcon.atomic import write_text
from vcon.statistics import stats
from vcon.train import distributed, environment
from vcon.train.checkpoint import CHECKPOINT_DIR, config_difference, read_checkpoint, resume_path
from vcon.train.config import CellConfig
from vcon.train.distributed import World
from vcon.train.interrupt import StopRequest
from vcon.train.lock import RunLock
from vcon.train.loop import train
from vcon.train.resume import Checkpointing
from vcon.run_record import METRICS_FILE, sealed_metrics
from vcon.train.outputs import save_torch, write_csv, write_json
from vcon.train.setup import COMPRESSED_CHECKPOINT, DENSE_CHECKPOINT, PreparedCell, prepare_cell, resolved_config
from vcon.vocabulary import DENSE, NO_COMPRESSOR


class RunExistsError(FileExistsError):
    """The run folder already holds a complete run."""


class ResumeMismatchError(ValueError):
    """The run folder's checkpoint was saved under another config."""


def check_out_dir(out_dir: Path, force: bool) -> None:
    metrics = out_dir / METRICS_FILE
    if metrics.exists() and not force:
        raise RunExistsError(f"{metrics} exists: this run is complete. Pass --force to train it again "
                             f"and overwrite it, or choose another --out")


def _clear(out_dir: Path, force: bool) -> None:
    """Under the lock: drop what dead writers left (temporary files, partial TensorBoard events) and,
    with `force`, the previous run and its checkpoint."""
    check_out_dir(out_dir, force)
    for folder in (out_dir, out_dir / CHECKPOINT_DIR):
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
    if force:
        (out_dir / METRICS_FILE).unlink(missing_ok=True)
        shutil.rmtree(out_dir / CHECKPOINT_DIR, ignore_errors=True)


def _load_resume(path: Path, resolved: dict[str, Any]) -> dict[str, Any] | None:
    if not path.exists():
        return None
    state = read_checkpoint(path)
    differences = config_difference(state["config"], resolved)
    if differences:
        raise ResumeMismatchError(
            f"{path} was saved by a run of another config ({'; '.join(differences)}): "
            f"restore that config to resume it, or pass --force to discard the checkpoint and start over")
    return state


def _on_main(world: World, action: Callable[[], None]) -> None:
    """Run `action` on rank 0; its exception, if any, is raised on every rank."""
    error = None
    if world.is_main:
        try:
            action()
        except Exception as caught:  # noqa: BLE001 - re-raised below, on every rank
            error = caught
    error = world.broadcast(error)
    if error is not None:
        raise error


def _write_tensorboard(out_dir: Path, history: list[dict[str, Any]]) -> None:
    from torch.utils.tensorboard import SummaryWriter

    shutil.rmtree(out_dir / "tensorboard", ignore_errors=True)  # a killed attempt's partial events
    with SummaryWriter(log_dir=str(out_dir / "tensorboard")) as writer:
        for entry in history:
            for key in ("beta", "lr", "train_loss", "val_blended", "val_compressed"):
                writer.add_scalar(key, entry[key], entry["step"])


def _device_kind(config: CellConfig) -> str:
    if config.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return config.device


def train_cell(config: CellConfig, out_dir: str | Path, quiet: bool = False, force: bool = False,
               stop: StopRequest | None = None) -> dict[str, Any] | None:
    """Train one cell into `out_dir`, resuming from its checkpoint if there is one; returns the
    metrics written to `out_dir/metrics.json` (None on ranks other than 0 under torchrun).

    `stop` decides when to save and raise Interrupted; by default SIGTERM and SIGUSR1 do.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    check_out_dir(out_dir, force)
    world = distributed.current()
    distributed.init(world, _device_kind(config))
    created = not out_dir.exists()
    lock = RunLock(out_dir)
    stop = stop if stop is not None else StopRequest()
    try:
        stop.install()  # from here on a SIGTERM waits for the first step boundary
        _on_main(world, lambda: (lock.acquire(), _clear(out_dir, force)))
        return _train_locked(config, out_dir, quiet, stop, world, started)
    finally:
        stop.uninstall()
        lock.release()
        if created and world.is_main and out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()
        distributed.shutdown(world)


def _train_locked(config: CellConfig, out_dir: Path, quiet: bool, stop: StopRequest, world: World,
                  started: float) -> dict[str, Any] | None:
    cell = prepare_cell(config, world)
    resolved = resolved_config(cell)
    checkpoint = resume_path(out_dir)
    state = _load_resume(checkpoint, resolved)
    timing = {"wall_s": 0.0, "setup_s": 0.0, "resumed": 0}
    if state is not None:
        timing = dict(state["timing"], resumed=state["timing"]["resumed"] + 1)
        if world.is_main:
            print(f"resumed from {checkpoint} at step {state['progress']['step']}", file=sys.stderr, flush=True)
    if world.is_main:
        write_text(out_dir / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
    timing["setup_s"] += time.perf_counter() - started
    saving = Checkpointing(checkpoint, resolved, config.checkpoint_steps, config.checkpoint_minutes, stop, world,
                           timing, started=started)
    result = train(cell, quiet=quiet, saving=saving, resume=state)
    if not world.is_main:
        world.any(False)
        return None
    metrics = _write_outputs(config, cell, resolved, out_dir, result, saving.elapsed())
    shutil.rmtree(checkpoint.parent, ignore_errors=True)
    world.any(False)
    return metrics


def _write_outputs(config: CellConfig, cell: PreparedCell, resolved: dict[str, Any], out_dir: Path,
                   result: dict[str, Any], timing: dict[str, float]) -> dict[str, Any]:
    final = result["final_model"]
    if cell.method == DENSE:
        model_file = DENSE_CHECKPOINT
        save_torch(out_dir / model_file, {"model": final.state_dict(), "config": resolved})
        compression = None
    else:
        model_file = COMPRESSED_CHECKPOINT
        save_torch(out_dir / model_file, {"model": final.state_dict(), "config": resolved,
                                          "compressor": config.compressor})
        compression = stats(final)
    write_csv(out_dir / "history.csv", result["history"])
    if config.tensorboard:
        _write_tensorboard(out_dir, result["history"])

    timing = dict(result["timing"], setup_s=timing["setup_s"], resumed=timing["resumed"], wall_s=timing["wall_s"])
    metrics = {
        "cell": {
            "model": config.model,
            "dataset": config.dataset,
            "compressor": config.compressor["name"] if config.compressor else NO_COMPRESSOR,
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
    # What other jobs read from this folder, each with its sha256 and size; metrics.json sealed last.
    metrics = sealed_metrics(metrics, out_dir, ["config.yaml", "history.csv", model_file])
    write_json(out_dir / METRICS_FILE, metrics)
    return metrics
