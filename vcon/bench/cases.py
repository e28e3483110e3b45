"""The ways of fine-tuning one model that the benchmark compares, each set up as the trainer does it:
AdamW over the trainable parameters, beta and the step set before every optimizer step. Weight
compressors also get the authors' mechanism (`vcon.bench.authors`) at post-shot and in the transition."""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

import vcon
from vcon.bench.authors import DataSwap
from vcon.bench.measure import Case
from vcon.compressors import WeightCompressor
from vcon.train.loop import adamw

TRANSITION_BETA = 0.5
ITERATIVE_TOTAL = 1000      # T of the iterative baseline; its steps are taken at T / 2, mid-ramp
AFTER_Q_WARM_STEPS = 2      # transition steps before Q, so that AdamW holds state for the original
KINDS = ("dense", "posthoc", "transition", "after_q", "iterative")
AUTHORS_KINDS = ("authors_posthoc", "authors_transition")


def kinds_for(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """KINDS, and AUTHORS_KINDS for a weight compressor."""
    return KINDS + AUTHORS_KINDS if isinstance(vcon.from_spec(spec), WeightCompressor) else KINDS


def _optimizer(model: nn.Module) -> torch.optim.Optimizer:
    return adamw(model, lr=1e-4, weight_decay=0.0)


def drop_from_optimizer(optimizer: torch.optim.Optimizer, released: list[nn.Parameter]) -> None:
    """Forget released parameters and their AdamW state, as the trainer does at t = Q."""
    gone = {id(p) for p in released}
    for group in optimizer.param_groups:
        group["params"] = [p for p in group["params"] if id(p) not in gone]
    for parameter in released:
        optimizer.state.pop(parameter, None)


def _driver(model: nn.Module, beta: float, iterative: bool):
    def before_step(step: int) -> None:
        vcon.set_beta(model, beta)
        if iterative:
            vcon.set_step(model, ITERATIVE_TOTAL // 2, iterative_total=ITERATIVE_TOTAL)
        else:
            vcon.set_step(model, step)
    return before_step


def build_case(kind: str, dense: nn.Module, spec: Mapping[str, Any] | None, inputs: Tensor, target: Tensor,
               autocast: bool = False, compile_model: bool = False) -> Case:
    """A ready-to-step case of `kind` (see KINDS, AUTHORS_KINDS) from a copy of the dense model."""
    model = copy.deepcopy(dense).train()
    if kind == "dense":
        case = Case(kind, model, _optimizer(model), inputs, target, autocast=autocast)
    elif kind in AUTHORS_KINDS:
        compressor = vcon.from_spec(spec)
        if not isinstance(compressor, WeightCompressor):
            raise ValueError(f"the authors' mechanism swaps weights; {compressor.name!r} is no weight compressor")
        swap = DataSwap(model, compressor, TRANSITION_BETA if kind == "authors_transition" else 0.0)
        case = Case(kind, model, _optimizer(model), inputs, target, lambda step: swap.swap_in(), autocast,
                    swap.restore)
    else:
        vcon.compress(model, spec, iterative=kind == "iterative")
        beta = TRANSITION_BETA if kind in ("transition", "after_q") else 0.0
        vcon.set_beta(model, beta)
        optimizer = _optimizer(model)
        case = Case(kind, model, optimizer, inputs, target, _driver(model, beta, kind == "iterative"), autocast)
        if kind == "after_q":
            for _ in range(AFTER_Q_WARM_STEPS):
                case.step()
            vcon.set_beta(model, 0.0)
            case.before_step = _driver(model, 0.0, False)
        if beta == 0.0 or kind == "after_q":
            drop_from_optimizer(optimizer, vcon.release_original(model))
    if compile_model:
        case.model = torch.compile(case.model)
    return case
