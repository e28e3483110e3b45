"""The training loop of one cell: AdamW with warm-up and cosine decay, beta and the compression level
set from the global step before every optimizer step, validation each epoch, test of the pure
compressed (exported) model at the end."""
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

import vcon
from vcon.data import compute_metrics
from vcon.train.setup import Cell


def lr_at(step: int, peak: float, floor: float, warmup: int, total: int) -> float:
    """Linear warm-up to `peak` over `warmup` steps, then cosine decay to `floor` at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    span = max(total - warmup, 1)
    progress = min((step - warmup) / span, 1.0)
    return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * progress))


def beta_at(cell: Cell, step: int) -> float:
    if cell.method == "dense":
        return 1.0
    return vcon.schedules.beta(cell.config.schedule, step, cell.q)


def to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, Mapping):
        return {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    return batch.to(device, non_blocking=True)


def loss_fn(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if logits.shape[-1] == 1:
        return F.mse_loss(logits.squeeze(-1).float(), target.float())
    return F.cross_entropy(logits.float(), target)


def autocast(cell: Cell):
    enabled = cell.device.type == "cuda" and cell.config.bf16 in ("auto", True)
    return torch.autocast(device_type=cell.device.type, dtype=torch.bfloat16, enabled=enabled)


@torch.no_grad()
def evaluate(cell: Cell, model: nn.Module, dataset: Any) -> dict[str, float]:
    """The data set's metrics (and mean loss) of `model` as it is now."""
    was_training = model.training
    model.eval()
    loader = torch.utils.data.DataLoader(dataset, batch_size=cell.config.eval_batch_size, shuffle=False,
                                         collate_fn=cell.data.collate_fn, num_workers=0)
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


def _drop_from_optimizer(optimizer: torch.optim.Optimizer, released: list[nn.Parameter]) -> None:
    gone = {id(p) for p in released}
    for group in optimizer.param_groups:
        group["params"] = [p for p in group["params"] if id(p) not in gone]
    for p in released:
        optimizer.state.pop(p, None)


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(cell: Cell, quiet: bool = False) -> dict[str, Any]:
    """Train the cell; returns history, the test metrics of the pure compressed model, timing."""
    config, model = cell.config, cell.model
    compressed = cell.method != "dense"
    iterative_total = cell.iterative_t if cell.method == "iterative" else None
    primary = cell.data.metric
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                                  weight_decay=config.weight_decay)
    mix_generator = torch.Generator().manual_seed(config.seed + 1)
    show_progress = not quiet and sys.stderr.isatty()

    history: list[dict[str, Any]] = []
    step, released, samples = 0, False, 0
    train_seconds = eval_seconds = 0.0
    lr = config.lr
    model.train()
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        loss_sum, batches = 0.0, 0
        bar = tqdm(cell.train_loader, desc=f"epoch {epoch}/{config.epochs}", leave=False, disable=not show_progress)
        for inputs, target in bar:
            beta = beta_at(cell, step)
            if compressed:
                vcon.set_beta(model, beta)
                vcon.set_step(model, step, iterative_total)
                if beta == 0.0 and not released:
                    _drop_from_optimizer(optimizer, vcon.release_original(model))
                    released = True
            lr = lr_at(step, config.lr, config.min_lr, cell.warmup_steps, cell.total_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            inputs, target = to_device(inputs, cell.device), target.to(cell.device)
            if cell.data.train_batch_transform is not None:
                inputs, target = cell.data.train_batch_transform(inputs, target, mix_generator)
            with autocast(cell):
                loss = loss_fn(model(inputs), target)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"the training loss is {loss.item()} at step {step} (epoch {epoch}); "
                                         f"lower the learning rate (lr = {config.lr}) or clip gradients (grad_clip)")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            step += 1
            samples += len(target)
            loss_sum += loss.item()
            batches += 1
            bar.set_postfix(loss=f"{loss_sum / batches:.3f}", beta=f"{beta:.2f}")
        train_seconds += time.perf_counter() - started

        started = time.perf_counter()
        beta = beta_at(cell, step)
        entry = {"epoch": epoch, "step": step, "beta": beta, "lr": lr, "train_loss": loss_sum / batches}
        if compressed:
            vcon.set_beta(model, beta)
            vcon.set_step(model, step, iterative_total)
            blended = evaluate(cell, model, cell.data.val)[primary]
            if beta > 0.0:
                vcon.set_beta(model, 0.0)
                entry.update(val_blended=blended, val_compressed=evaluate(cell, model, cell.data.val)[primary])
                vcon.set_beta(model, beta)
            else:
                entry.update(val_blended=blended, val_compressed=blended)
        else:
            value = evaluate(cell, model, cell.data.val)[primary]
            entry.update(val_blended=value, val_compressed=value)
        eval_seconds += time.perf_counter() - started
        history.append(entry)
        if not quiet:
            print(f"epoch {epoch}/{config.epochs}  step {step}  beta {beta:.3f}  loss {entry['train_loss']:.4f}  "
                  f"val {primary} {entry['val_blended']:.4f} (compressed {entry['val_compressed']:.4f})",
                  file=sys.stderr, flush=True)

    final = vcon.export(model) if compressed else model
    if compressed:
        vcon.set_beta(model, 0.0)
    started = time.perf_counter()
    test = evaluate(cell, final, cell.data.test)
    eval_seconds += time.perf_counter() - started
    return {
        "history": history,
        "test": test,
        "final_model": final,
        "steps": step,
        "timing": {
            "train_s": train_seconds,
            "eval_s": eval_seconds,
            "train_samples_per_s": samples / train_seconds if train_seconds > 0 else None,
            "peak_memory_mb": peak_memory_mb(cell.device),
        },
    }
