"""The public entry points: compress a model in place, drive beta and the step, release the original."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from vcon.blend import Vanishing, VanishingLinear, VanishingLowRank, modules_in_order, prepare_layers
from vcon.compressors import Compressor, FactorCompressor, SpecError, WeightCompressor, from_spec
from vcon.selection import select_layers


def _replace(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def compress(
    model: nn.Module,
    spec: Mapping[str, Any] | Compressor,
    layers: Sequence[str] | None = None,
    original: str = "shared",
    iterative: bool = False,
) -> nn.Module:
    """Replace the selected linear layers of `model` (in place) by blended layers; returns `model`.

    spec: e.g. {"name": "prune", "sparsity": 0.9, "granularity": "layer"}.
    layers: glob patterns of module names; None picks every linear inside the transformer blocks.
    original: "shared" | "frozen" | "copy" (see `VanishingLinear`).
    iterative: set up for the gradual baseline (low rank starts at its larger first rank; a
    quantizer with `quantized_share: frozen` keeps INQ's frozen shares).
    beta starts at 1 (the original model); call `set_beta`. A forward pre-hook on `model` computes what
    the layers derive from their weights alone back to back before each forward pass
    (`vcon.blend.prepare_layers`).
    """
    compressor = from_spec(spec)
    chosen = select_layers(model, layers)
    for name, linear in chosen.items():
        compressor.check_layer(name, linear.weight)
    for name, linear in chosen.items():
        if isinstance(compressor, WeightCompressor):
            layer: nn.Module = VanishingLinear(linear, compressor, original, iterative=iterative)
        elif isinstance(compressor, FactorCompressor):
            shape = tuple(linear.weight.shape)
            first = compressor.first_rank(shape) if iterative else None
            layer = VanishingLowRank(linear, compressor, original, initial_rank=first)
        else:
            raise SpecError(f"compressor {compressor.name!r} is neither a weight nor a factor compressor")
        _replace(model, name, layer)
    if prepare_layers not in model._forward_pre_hooks.values():
        model.register_forward_pre_hook(prepare_layers)
    return model


def vanishing_layers(model: nn.Module) -> list[Vanishing]:
    return [m for m in modules_in_order(model) if isinstance(m, Vanishing)]


def _require_layers(model: nn.Module) -> list[Vanishing]:
    layers = vanishing_layers(model)
    if not layers:
        raise ValueError("the model has no vanishing layer; call vcon.compress(model, spec) first")
    return layers


def set_beta(model: nn.Module, beta: float) -> None:
    """Weight of the original branch in every blended layer: 1 = original, 0 = compressed only."""
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta must be in [0, 1], got {beta}")
    for layer in _require_layers(model):
        layer.beta = float(beta)


def set_step(model: nn.Module, step: int, iterative_total: int | None = None) -> None:
    """Tell every blended layer the global optimizer step (for masks refreshed every k steps).

    With `iterative_total` = T, also set each layer's compression level from the iterative
    baseline's schedule at this step (cubic sparsity, INQ share, stepwise rank). A rank step rewrites
    a layer's factors in a new basis: before the next optimizer step, drop the optimizer state that
    no longer fits them, `reset_optimizer_state(optimizer, rewritten_parameters(model))`.
    """
    for layer in _require_layers(model):
        layer.step = int(step)
        if iterative_total is not None and isinstance(layer, (VanishingLinear, VanishingLowRank)):
            shape = (layer.out_features, layer.in_features)
            layer.set_level(layer.compressor.iterative_level(step, iterative_total, shape))


def rewritten_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The factors that rank steps rewrote in a new basis since the last call, where their compressor
    says `optimizer_state: reset` (empty under `kept`); each layer's mark is cleared. However often
    `set_step` ran in between (an evaluation at the step, say), each rank step is reported once."""
    rewritten: list[nn.Parameter] = []
    for layer in _require_layers(model):
        if isinstance(layer, VanishingLowRank) and bool(layer.rewritten):
            layer.rewritten.fill_(False)
            if layer.compressor.optimizer_state == "reset":
                rewritten += [layer.factor_a, layer.factor_b]
    return rewritten


def reset_optimizer_state(optimizer: torch.optim.Optimizer, parameters: list[nn.Parameter]) -> None:
    """Forget the optimizer's state of `parameters` (e.g. Adam's moments and step count): the next
    step treats them as new."""
    for parameter in parameters:
        optimizer.state.pop(parameter, None)


def release_original(model: nn.Module) -> list[nn.Parameter]:
    """Free the original branch of every layer once beta is 0 for good; returns the released
    parameters (remove them from the optimizer). beta can no longer be raised afterwards."""
    layers = _require_layers(model)
    if any(layer.beta != 0.0 for layer in layers):
        raise RuntimeError("set beta to 0 before releasing the original branch")
    return [p for layer in layers for p in layer.release_original()]
