"""The training loop of one cell: AdamW with warm-up and cosine decay, beta and the compression level
set from the global step before every optimizer step, validation each epoch or every `eval_every`
steps (sparser from `eval_sparse_from` on), test of the pure compressed (exported) model at the end."""
from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from vcon import schedules
from vcon.api import reset_optimizer_state, rewritten_parameters, set_beta, set_step
from vcon.data.metrics import compute_metrics
from vcon.exporting import export
from vcon.train.batches import epoch_seed, evaluation_batches
from vcon.train.interrupt import Interrupted
from vcon.train.resume import Checkpointing, Progress, TrainingDiverged, finite, release_original, restore
from vcon.train.setup import PreparedCell
from vcon.vocabulary import DENSE, ITERATIVE


def lr_at(step: int, peak: float, floor: float, warmup: int, total: int) -> float:
    """Linear warm-up to `peak` over `warmup` steps, then cosine decay to `floor` at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    span = max(total - warmup, 1)
    progress = min((step - warmup) / span, 1.0)
    return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * progress))


def beta_at(cell: PreparedCell, step: int) -> float:
    if cell.method == DENSE:
        return 1.0
    return schedules.beta(cell.config.schedule, step, cell.q)


def to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, Mapping):
        return {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    return batch.to(device, non_blocking=True)


def loss_fn(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if logits.shape[-1] == 1:
        return F.mse_loss(logits.squeeze(-1).float(), target.float())
    return F.cross_entropy(logits.float(), target)


def bf16_enabled(setting: str | bool, device_type: str) -> bool:
    """Whether the `bf16` key turns autocast on for this device: true, or auto on CUDA."""
    return setting is True or (setting == "auto" and device_type == "cuda")


def autocast(cell: PreparedCell):
    enabled = bf16_enabled(cell.config.bf16, cell.device.type)
    return torch.autocast(device_type=cell.device.type, dtype=torch.bfloat16, enabled=enabled)


@torch.no_grad()
def evaluate(cell: PreparedCell, model: nn.Module, dataset: Any) -> dict[str, float]:
    """The data set's metrics (and mean loss) of `model` as it is now."""
    was_training = model.training
    model.eval()
    # Its own generator: an evaluation must not draw from the global RNG the training uses.
    batches = evaluation_batches(dataset, cell.config.eval_batch_size)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=batches, collate_fn=cell.data.collate_fn,
                                         num_workers=0, generator=torch.Generator())
    logits, labels, loss_sum = [], [], 0.0
    for inputs, target in loader:
        inputs, target = to_device(inputs, cell.device), target.to(cell.device)
        with autocast(cell):
            out = model(inputs)
        loss_sum += float(loss_fn(out, target)) * len(target)
        logits.append(out.float().cpu())
        labels.append(target.cpu())
    model.train(was_training)
    all_labels = torch.cat(labels)
    metrics = compute_metrics(cell.data.metric, torch.cat(logits), all_labels)
    metrics["loss"] = loss_sum / len(all_labels)
    return metrics


def adamw(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW over the trainable parameters, all updated by one fused kernel: the per-tensor update's
    arithmetic (rounded differently in the last bits) without its per-tensor overhead."""
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=weight_decay,
                             fused=True)


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def evaluation_due(cell: PreparedCell, progress: Progress) -> bool:
    """Validate now? After every `eval_every`-th step and the last one; without `eval_every`, once an
    epoch's batches are all done; from step `eval_sparse_from` on, at the multiples of
    `eval_sparse_every` instead. Never twice at one step (a resumed run may ask again)."""
    if progress.history and progress.history[-1]["step"] == progress.step:
        return False
    if progress.step == cell.total_steps:
        return True
    every = cell.config.eval_every
    if cell.eval_sparse_from is not None and progress.step >= cell.eval_sparse_from:
        every = cell.eval_sparse_every
    if every is None:
        return progress.batch == cell.steps_per_epoch
    return progress.step % every == 0


def _global_batch(cell: PreparedCell, batch: int) -> int:
    """Examples in global batch number `batch` (0-based) of an epoch: the last one may be smaller."""
    return min(cell.config.batch_size, len(cell.data.train) - batch * cell.config.batch_size)


def _wrap(model: nn.Module, cell: PreparedCell) -> nn.Module:
    """The module the training step calls: DistributedDataParallel under torchrun, compiled when the
    config asks. Branches unused at beta = 1 get no gradient, so unused parameters are allowed;
    rebuilt when the original is released. Beta is a Python float: torch.compile recompiles for its
    first values, then treats it as a symbol (automatic dynamic shapes)."""
    network = model
    if cell.world.active:
        from torch.nn.parallel import DistributedDataParallel

        ids = [cell.device.index] if cell.device.type == "cuda" else None
        network = DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True, broadcast_buffers=False)
    return torch.compile(network) if cell.config.compile else network


def _validate(cell: PreparedCell, model: nn.Module, progress: Progress, iterative_total: int | None) -> dict[str, Any]:
    primary = cell.data.metric
    beta = beta_at(cell, progress.step)
    entry = {"epoch": progress.epoch, "step": progress.step, "beta": beta, "lr": progress.lr,
             "train_loss": progress.loss_sum / max(progress.loss_count, 1)}
    if cell.method != DENSE:
        set_beta(model, beta)
        set_step(model, progress.step, iterative_total)
        blended = evaluate(cell, model, cell.data.val)[primary]
        if beta > 0.0:
            set_beta(model, 0.0)
            entry.update(val_blended=blended, val_compressed=evaluate(cell, model, cell.data.val)[primary])
            set_beta(model, beta)
        else:
            entry.update(val_blended=blended, val_compressed=blended)
    else:
        value = evaluate(cell, model, cell.data.val)[primary]
        entry.update(val_blended=value, val_compressed=value)
    return entry


class _Run:
    """One cell's training in progress: its optimizer, random generator for batch transforms, and
    progress; a step, the end of an epoch and the finish."""

    def __init__(self, cell: PreparedCell, quiet: bool, saving: Checkpointing | None,
                 resume: dict[str, Any] | None) -> None:
        config, model = cell.config, cell.model
        self.cell, self.quiet, self.saving = cell, quiet, saving
        self.compressed = cell.method != DENSE
        self.iterative_total = cell.iterative_t if cell.method == ITERATIVE else None
        self.optimizer = adamw(model, config.lr, config.weight_decay)
        self.mix_generator = torch.Generator().manual_seed(config.seed + 1)
        self.progress = Progress(lr=config.lr)
        if resume is not None:
            self.progress = restore(resume, model, self.optimizer, self.mix_generator, cell.world)
            if saving is not None:
                saving.saved_step = self.progress.step
        self.show_progress = not quiet and sys.stderr.isatty() and cell.world.is_main
        self.network = _wrap(model, cell)
        model.train()

    def run_epoch(self) -> None:
        cell, progress = self.cell, self.progress
        started = time.perf_counter()
        cell.batches.set_position(progress.epoch, progress.batch)
        cell.train_loader.generator.manual_seed(epoch_seed(cell.config.seed, progress.epoch))
        bar = tqdm(cell.train_loader, desc=f"epoch {progress.epoch}/{cell.config.epochs}", leave=False,
                   disable=not self.show_progress, initial=progress.batch, total=cell.steps_per_epoch)
        for inputs, target in bar:
            beta = self.step(inputs, target)
            bar.set_postfix(loss=f"{progress.loss_sum / progress.loss_count:.3f}", beta=f"{beta:.2f}")
            progress.train_s += time.perf_counter() - started
            if evaluation_due(cell, progress):
                self.validate()
            self.boundary()
            started = time.perf_counter()
        progress.train_s += time.perf_counter() - started
        self.end_epoch()

    def step(self, inputs: Any, target: torch.Tensor) -> float:
        """One optimizer step at the step's beta, lr and compression level; returns its beta."""
        cell, progress, optimizer = self.cell, self.progress, self.optimizer
        config, model, world = cell.config, cell.model, cell.world
        beta = beta_at(cell, progress.step)
        if self.compressed:
            set_beta(model, beta)
            set_step(model, progress.step, self.iterative_total)
            reset_optimizer_state(optimizer, rewritten_parameters(model))
            if beta == 0.0 and not progress.released:
                release_original(model, optimizer)
                progress.released = True
                self.network = _wrap(model, cell)
        progress.lr = lr_at(progress.step, config.lr, config.min_lr, cell.warmup_steps, cell.total_steps)
        for group in optimizer.param_groups:
            group["lr"] = progress.lr
        inputs, target = to_device(inputs, cell.device), target.to(cell.device)
        if cell.data.train_batch_transform is not None:
            inputs, target = cell.data.train_batch_transform(inputs, target, self.mix_generator)
        with autocast(cell):
            loss = loss_fn(self.network(inputs), target)
        size = _global_batch(cell, progress.batch)
        batch_loss = loss.item()
        if world.active:  # the global batch's mean loss; DDP averages gradients over ranks
            batch_loss = world.sum([batch_loss * len(target)])[0] / size
            loss = loss * (len(target) * world.size / size)
        if not finite(batch_loss):
            raise self.diverged(f"the training loss is {batch_loss}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        trained = [p for group in optimizer.param_groups for p in group["params"]]
        if config.grad_clip is not None:
            norm = nn.utils.clip_grad_norm_(trained, config.grad_clip)
        else:
            norm = nn.utils.get_total_norm([p.grad for p in trained if p.grad is not None])
        if not finite(norm):
            raise self.diverged(f"the gradient norm is {float(norm)}")
        optimizer.step()
        progress.step += 1
        progress.batch += 1
        progress.samples += size
        progress.loss_sum += batch_loss
        progress.loss_count += 1
        return beta

    def end_epoch(self) -> None:
        if evaluation_due(self.cell, self.progress):
            self.validate()
        self.progress.epoch, self.progress.batch = self.progress.epoch + 1, 0
        self.boundary()

    def validate(self) -> None:
        cell, progress = self.cell, self.progress
        started = time.perf_counter()
        entry = _validate(cell, cell.model, progress, self.iterative_total)
        progress.eval_s += time.perf_counter() - started
        progress.history.append(entry)
        progress.loss_sum, progress.loss_count = 0.0, 0
        if not self.quiet and cell.world.is_main:
            print(f"epoch {progress.epoch}/{cell.config.epochs}  step {progress.step}  beta {entry['beta']:.3f}  "
                  f"loss {entry['train_loss']:.4f}  val {cell.data.metric} {entry['val_blended']:.4f} "
                  f"(compressed {entry['val_compressed']:.4f})", file=sys.stderr, flush=True)

    def boundary(self) -> None:
        """A step boundary: save a checkpoint when due, stop when asked."""
        if self.saving is None:
            return
        save, stop = self.saving.due(self.progress.step)
        if save:
            self.saving.save(self.progress, self.cell.model, self.optimizer, self.mix_generator)
        if stop:
            raise Interrupted(self.saving.path, self.progress.step, self.saving.stop.reason or "a request")

    def diverged(self, what: str) -> TrainingDiverged:
        kept = self.saving.kept() if self.saving is not None else "no checkpointing"
        config = self.cell.config
        return TrainingDiverged(f"{what} at step {self.progress.step} (epoch {self.progress.epoch}); {kept}; lower "
                                f"the learning rate (lr = {config.lr}) or clip gradients (grad_clip = {config.grad_clip})")

    def finish(self) -> dict[str, Any]:
        """Test the pure compressed (exported) model; the run's results."""
        cell, progress, model = self.cell, self.progress, self.cell.model
        final = export(model) if self.compressed else model
        if self.compressed:
            set_beta(model, 0.0)
        started = time.perf_counter()
        test = evaluate(cell, final, cell.data.test) if cell.world.is_main else {}
        progress.eval_s += time.perf_counter() - started
        return {
            "history": progress.history,
            "test": test,
            "final_model": final,
            "steps": progress.step,
            "timing": {
                "train_s": progress.train_s,
                "eval_s": progress.eval_s,
                "train_samples_per_s": progress.samples / progress.train_s if progress.train_s > 0 else None,
                "peak_memory_mb": peak_memory_mb(cell.device),
            },
        }


def train(cell: PreparedCell, quiet: bool = False, saving: Checkpointing | None = None,
          resume: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train the cell (from `resume`, a checkpoint's content, if given); returns history, the test
    metrics of the pure compressed model, timing. Raises Interrupted after saving when `saving.stop`
    asks for it, TrainingDiverged on a non-finite loss or gradient."""
    run = _Run(cell, quiet, saving, resume)
    while run.progress.epoch <= cell.config.epochs:
        run.run_epoch()
    return run.finish()
