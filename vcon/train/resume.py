"""What a resumable checkpoint holds and when one is written: the progress counters, the model,
optimizer and random states, saved at step boundaries every N steps / minutes or on request."""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vcon import api
from vcon.train.checkpoint import rng_state, set_rng_state, write_checkpoint
from vcon.train.distributed import World
from vcon.train.interrupt import StopRequest


class TrainingDiverged(FloatingPointError):
    """A non-finite loss, gradient or parameter; the message says where and what to change."""


@dataclass
class Progress:
    """Where a run stands at a step boundary; with the saved states it determines the rest of the run."""

    epoch: int = 1  # the epoch in progress, 1-based
    batch: int = 0  # global batches of it done (== steps per epoch: only its evaluation is left)
    step: int = 0  # optimizer steps done: beta, lr and the compression level follow from it
    samples: int = 0
    loss_sum: float = 0.0  # sum of the batch losses since the last evaluation
    loss_count: int = 0  # batches since the last evaluation
    lr: float = 0.0
    released: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    train_s: float = 0.0
    eval_s: float = 0.0


def release_original(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Free the original branch (beta is 0 for good) and take its parameters out of the optimizer."""
    gone = {id(p) for p in api.release_original(model)}
    for group in optimizer.param_groups:
        kept = [p for p in group["params"] if id(p) not in gone]
        for p in group["params"]:
            if id(p) in gone:
                optimizer.state.pop(p, None)
        group["params"] = kept


def non_finite_parameters(model: nn.Module) -> list[str]:
    return [name for name, p in model.named_parameters() if not bool(torch.isfinite(p).all())]


def snapshot(progress: Progress, model: nn.Module, optimizer: torch.optim.Optimizer,
             mix_generator: torch.Generator, world: World, config: dict[str, Any],
             timing: dict[str, float]) -> dict[str, Any]:
    """The checkpoint's content (a collective under torchrun: every rank's random states)."""
    return {
        "config": config,
        "progress": asdict(progress),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "mix_generator": mix_generator.get_state(),
        "rng": world.gather(rng_state()),
        "timing": timing,
    }


def restore(state: dict[str, Any], model: nn.Module, optimizer: torch.optim.Optimizer,
            mix_generator: torch.Generator, world: World) -> Progress:
    """Put a freshly built cell back where `state` was taken; returns its progress."""
    progress = Progress(**state["progress"])
    if progress.released:
        api.set_beta(model, 0.0)
        release_original(model, optimizer)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    mix_generator.set_state(state["mix_generator"])
    states = state["rng"]
    set_rng_state(states[world.rank] if len(states) == world.size else states[0])
    return progress


@dataclass
class Checkpointing:
    """When to write DIR/checkpoint/resume.pt, and writing it (rank 0 only)."""

    path: Path
    config: dict[str, Any]  # the resolved config: a resume requires the same
    every_steps: int | None
    every_minutes: float | None
    stop: StopRequest | None
    world: World
    timing: dict[str, float]  # accumulated before this attempt: wall_s, setup_s, resumed
    started: float = field(default_factory=time.perf_counter)  # this attempt's start
    last_saved: float = field(default_factory=time.perf_counter)
    saved_step: int | None = None

    def due(self, step: int) -> tuple[bool, bool]:
        """(save now, then stop), the same on every rank."""
        stop = self.stop is not None and self.stop.requested(step)
        by_steps = bool(self.every_steps) and step > 0 and step % self.every_steps == 0
        by_time = (self.every_minutes is not None and self.world.is_main
                   and time.perf_counter() - self.last_saved >= 60.0 * self.every_minutes)
        if self.world.active:
            stop, by_time = (value > 0 for value in self.world.sum([float(stop), float(by_time)]))
        return stop or by_steps or by_time, stop

    def kept(self) -> str:
        if self.saved_step is None:
            return "no checkpoint was saved before"
        return f"the last good checkpoint {self.path} (step {self.saved_step}) is kept"

    def elapsed(self) -> dict[str, float]:
        return dict(self.timing, wall_s=self.timing.get("wall_s", 0.0) + time.perf_counter() - self.started)

    def save(self, progress: Progress, model: nn.Module, optimizer: torch.optim.Optimizer,
             mix_generator: torch.Generator) -> None:
        bad = non_finite_parameters(model)
        if bad:
            raise TrainingDiverged(
                f"parameters became non-finite by step {progress.step} (epoch {progress.epoch}): {', '.join(bad[:5])}; "
                f"not saving them; {self.kept()}; lower lr or set grad_clip")
        state = snapshot(progress, model, optimizer, mix_generator, self.world, self.config, self.elapsed())
        if self.world.is_main:
            write_checkpoint(self.path, state)
        self.saved_step = progress.step
        self.last_saved = time.perf_counter()


def finite(value: float | torch.Tensor) -> bool:
    return math.isfinite(float(value))
