"""Everything a cell needs before its first step: device, data, model, compression, step counts."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader

from vcon.api import compress
from vcon.compressors import SpecError, from_spec
from vcon.data import DatasetBundle, DatasetOptions, build_dataset
from vcon.integrity import DamagedFile
from vcon.models import Classifier, build_model
from vcon.models.tokenizer import load_tokenizer
from vcon.run_record import METRICS_FILE, load_metrics, rebuild_command, verify_recorded
from vcon.train.batches import EpochBatches
from vcon.train.config import CellConfig, ConfigError, to_steps
from vcon.train.distributed import World
from vcon.vocabulary import DENSE, ITERATIVE, VCON

DENSE_CHECKPOINT = "dense.pt"
COMPRESSED_CHECKPOINT = "model.pt"


@dataclass
class PreparedCell:
    """A cell ready to train."""

    config: CellConfig
    device: torch.device
    data: DatasetBundle
    model: Classifier
    train_loader: DataLoader
    batches: EpochBatches
    steps_per_epoch: int
    total_steps: int
    q: int
    iterative_t: int
    warmup_steps: int
    dense_reference: dict[str, float] | None
    world: World
    eval_sparse_from: int | None = None  # from this step on, validation every eval_sparse_every steps
    eval_sparse_every: int | None = None

    @property
    def method(self) -> str:
        return DENSE if self.config.is_dense else self.config.method


def pick_device(name: str, world: World = World()) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device: cuda was asked for but no CUDA device is available; use device=auto or cpu")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return world.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _dense_run_dir(init: str) -> Path | None:
    path = Path(init)
    return path if (path / DENSE_CHECKPOINT).is_file() or (path / METRICS_FILE).is_file() else None


def _recorded_config(run_dir: Path) -> dict[str, Any]:
    """The config an unfinished run (no metrics.json) recorded in config.yaml; {} when it is not readable."""
    try:
        return yaml.safe_load((run_dir / "config.yaml").read_text()) or {}
    except (OSError, ValueError, yaml.YAMLError, AttributeError):
        return {}


def _role(recorded: dict[str, Any], config: CellConfig) -> str:
    """What the dense run is to this cell, for messages: its pretrained model, or its dense start."""
    model, dataset, seed = (recorded.get(key, "?") for key in ("model", "dataset", "seed"))
    if "dataset" in recorded and dataset != config.dataset:
        return f"the pretrained model of {model} (its dense run on {dataset}, seed {seed})"
    return f"the dense model of {model} on {dataset} (seed {seed}) that this cell starts from"


def _read_model(checkpoint: Path, what: str) -> Any:
    try:
        return torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - a cut or garbled file fails in several ways inside torch
        detail = " ".join(str(error).split()).split(". ")[0][:200]
        problem = f"it cannot be read ({type(error).__name__}: {detail})"
        raise DamagedFile(checkpoint, what, problem, rebuild_command(checkpoint.parent)) from None


def _load_dense(model: Classifier, run_dir: Path, config: CellConfig, num_classes: int) -> dict[str, float] | None:
    """Load a dense run's weights. A run of this dataset gives all of them and its test metrics
    (the dense reference); a run of another dataset (a source task) gives all but the
    classification head, which keeps its fresh initialisation, sized to this task. A finished run's
    metrics.json and model are checked against the checksums it recorded before they are used."""
    checkpoint = run_dir / DENSE_CHECKPOINT
    metrics = load_metrics(run_dir, f"the run init names ({run_dir})") if (run_dir / METRICS_FILE).is_file() else None
    recorded = (metrics.get("config") or {}) if metrics is not None else _recorded_config(run_dir)
    what = _role(recorded, config)
    if metrics is not None:
        verify_recorded(run_dir, DENSE_CHECKPOINT, metrics, what)
    if not checkpoint.is_file():
        raise ConfigError(f"init: {run_dir} holds no {DENSE_CHECKPOINT}; is it the DIR of a finished dense `vcon train` run?")
    if "model" in recorded and recorded["model"] != config.model:
        raise ConfigError(f"init: {run_dir} is a dense run of model {recorded['model']!r}, this cell's model is "
                          f"{config.model!r}; allowed: a dense run of the same model")
    transfer = "dataset" in recorded and recorded["dataset"] != config.dataset
    state = _read_model(checkpoint, what)
    saved = state.get("model", {}) if isinstance(state, dict) else {}
    if transfer:
        saved = {key: tensor for key, tensor in saved.items() if not key.startswith(model.head_prefix)}
    own = model.state_dict()
    for key, tensor in saved.items():
        if key in own and tuple(tensor.shape) != tuple(own[key].shape):
            raise ConfigError(
                f"init: {checkpoint} does not fit this cell's model: {key} has shape {tuple(tensor.shape)} in the "
                f"checkpoint and {tuple(own[key].shape)} here (dataset {config.dataset!r} has {num_classes} classes); "
                f"allowed: a dense run whose head matches the dataset, or a run of another dataset (new head)"
            )
    try:
        missing, unexpected = model.load_state_dict(saved, strict=not transfer)
    except RuntimeError as error:
        raise ConfigError(f"init: {checkpoint} does not fit model {config.model!r}: {' '.join(str(error).split())[:400]}") from None
    if transfer and (unexpected or any(not key.startswith(model.head_prefix) for key in missing)):
        wrong = unexpected or [key for key in missing if not key.startswith(model.head_prefix)]
        raise ConfigError(f"init: {checkpoint} does not fit model {config.model!r}: {', '.join(wrong[:5])} "
                          f"{'unexpected' if unexpected else 'missing'}")
    if transfer or metrics is None:
        return None
    return metrics["test"]


def prepare_cell(config: CellConfig, world: World = World()) -> PreparedCell:
    """Build data and model, compress, and check the step counts; raises before any training.
    Under torchrun (`world`), the loader yields this rank's share of each global batch."""
    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device, world)
    seed_everything(config.seed)
    dense_dir = _dense_run_dir(config.init)
    model_init = "scratch" if dense_dir is not None else config.init
    tokenizer = load_tokenizer(config.model, model_init)
    options = DatasetOptions(root=config.data_root, seed=config.seed, image_size=config.image_size,
                             augment=config.augment, max_length=config.max_length, tokenizer=tokenizer,
                             train_size=config.train_size, image_recipe=config.image_recipe)
    data = build_dataset(config.dataset, options)
    model = build_model(config.model, data.num_classes, data.input_spec, model_init)
    dense_reference = _load_dense(model, dense_dir, config, data.num_classes) if dense_dir is not None else None

    try:
        batches = EpochBatches(len(data.train), config.batch_size, config.seed, world.rank, world.size)
    except ValueError as error:
        raise ConfigError(f"batch_size: {error}") from None
    # Its own generator: worker seeds drawn at each epoch's start must not touch the global RNG.
    train_loader = DataLoader(data.train, batch_sampler=batches, generator=torch.Generator(),
                              collate_fn=data.collate_fn, num_workers=config.workers,
                              pin_memory=device.type == "cuda", persistent_workers=config.workers > 0)
    steps_per_epoch = len(train_loader)
    total_steps = steps_per_epoch * config.epochs
    q = to_steps(config.q, steps_per_epoch) if config.method == VCON and not config.is_dense else 0
    iterative_t = (to_steps(config.iterative_t, steps_per_epoch) if config.iterative_t is not None
                   else math.ceil(0.2 * total_steps))
    warmup = to_steps(config.warmup_steps, steps_per_epoch)
    sparse_from, sparse_every = (None if value is None else to_steps(value, steps_per_epoch)
                                 for value in (config.eval_sparse_from, config.eval_sparse_every))
    if sparse_every == 0:
        raise ConfigError(f"eval_sparse_every = {config.eval_sparse_every!r} is 0 steps ({steps_per_epoch} steps per "
                          f"epoch); allowed: at least 1 step (a step count, or at least 1/{steps_per_epoch} epoch)")
    for key, value in (("q", q), ("iterative_t", iterative_t), ("warmup_steps", warmup)):
        if value > total_steps:
            raise ConfigError(
                f"{key} = {getattr(config, key)!r} is {value} steps, longer than the run "
                f"({config.epochs} epochs x {steps_per_epoch} steps = {total_steps}); allowed: at most {total_steps} "
                f"steps ({config.epochs}ep), or train longer"
            )
    if not config.is_dense:
        iterative = config.method == ITERATIVE
        try:
            if iterative:
                from_spec(config.compressor).check_iterative(iterative_t)
            compress(model, config.compressor, layers=config.layers, original=config.original, iterative=iterative)
        except SpecError as error:
            raise ConfigError(f"compressor: {error}") from None
    model.to(device)
    return PreparedCell(config, device, data, model, train_loader, batches, steps_per_epoch, total_steps, q, iterative_t,
                warmup, dense_reference, world, eval_sparse_from=sparse_from, eval_sparse_every=sparse_every)


def resolved_config(cell: PreparedCell) -> dict[str, Any]:
    """The cell config with step counts resolved, as written into DIR and metrics.json."""
    resolved = cell.config.to_dict()
    resolved.update(q=cell.q, iterative_t=cell.iterative_t,
                    warmup_steps=cell.warmup_steps, steps_per_epoch=cell.steps_per_epoch,
                    total_steps=cell.total_steps, device=str(cell.device))
    return resolved
