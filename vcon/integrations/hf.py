"""`VconCallback`: VCON inside the Hugging Face `transformers.Trainer`, in one line of its set-up.

    Trainer(model, args, train_dataset=data, callbacks=[VconCallback({"name": "prune", "sparsity": 0.9}, q=1000)])

- When the Trainer is made (`on_init_end`), the model's selected layers are compressed in place
  (`vcon.compress`; a model compressed already is left as it is). Not later: the Trainer makes its
  optimizer, and on a resume loads the checkpoint's weights, before training begins, so the
  compressed layers must exist by then. A callback added afterwards (`trainer.add_callback`) stops
  the training at its start with an error saying so.
- Before every optimizer step: beta = `vcon.schedules.beta(schedule, global_step, q)` and
  `vcon.set_step(model, global_step)`, a pure function of the Trainer's global step (optimizer steps,
  not batches: with gradient accumulation every batch of one step sees the same beta), so a resume
  from a Trainer checkpoint continues exactly.
- Every log entry (`trainer.state.log_history`, the progress output, the callbacks after this one)
  gets `vcon/beta` (for the steps that follow, as in `vcon train`'s history) and statistics of the
  compressed model (`vcon.stats`). The reporting integrations of `report_to` come before the user's
  callbacks in the Trainer and do not see them.
- When training ends, `callback.exported` is the plain compressed model (`vcon.export`); with
  `compact=PATH`, the main process also writes its compact form there (`vcon.save_compact`).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn
from transformers import TrainerCallback

from vcon import schedules
from vcon.api import compress, set_beta, set_step, vanishing_layers
from vcon.compact import save_compact
from vcon.compressors import Compressor, from_spec
from vcon.exporting import export
from vcon.names import did_you_mean
from vcon.statistics import stats

LOGGED_STATISTICS = ("sparsity", "params_compressed", "bytes_compressed", "bytes_ratio")


class VconCallback(TrainerCallback):
    """Compress the Trainer's model and drive its transition to the compressed form over `q` optimizer
    steps (0: post-shot). `spec`, `layers` and `original` are those of `vcon.compress`; `schedule` is
    a beta shape of `vcon.schedules`; `compact`, where to write the compact form at the end."""

    def __init__(self, spec: Mapping[str, Any] | Compressor, q: int, schedule: str = "linear",
                 layers: Sequence[str] | None = None, original: str = "shared",
                 compact: str | os.PathLike[str] | None = None) -> None:
        if isinstance(q, bool) or not isinstance(q, int) or q < 0:
            raise ValueError(f"VconCallback: q = {q!r} is not allowed; allowed: optimizer steps, an integer >= 0")
        if schedule not in schedules.BETA_SCHEDULES:
            raise ValueError(f"VconCallback: unknown schedule {schedule!r}"
                             f"{did_you_mean(schedule, schedules.BETA_SCHEDULES)}; "
                             f"allowed: {', '.join(schedules.BETA_SCHEDULES)}")
        self.compressor = from_spec(spec)
        self.q, self.schedule, self.layers, self.original, self.compact = q, schedule, layers, original, compact
        self.beta = 1.0
        self.exported: nn.Module | None = None

    def on_init_end(self, args: Any, state: Any, control: Any, model: nn.Module | None = None, **kwargs: Any) -> None:
        if model is not None and not vanishing_layers(model):
            compress(model, self.compressor, layers=self.layers, original=self.original)

    def on_train_begin(self, args: Any, state: Any, control: Any, model: nn.Module | None = None,
                       optimizer: Any = None, **kwargs: Any) -> None:
        if model is None or not vanishing_layers(model):
            raise RuntimeError("VconCallback compresses the model when the Trainer is made; pass it in "
                               "Trainer(..., callbacks=[VconCallback(...)]), not with trainer.add_callback")
        if optimizer is not None:
            optimized = {id(p) for group in optimizer.param_groups for p in group["params"]}
            if any(p.requires_grad and id(p) not in optimized for p in model.parameters()):
                raise RuntimeError("VconCallback: the optimizer misses parameters of the compressed layers: it was "
                                   "made before the model was compressed (Trainer(optimizers=...)); let the Trainer "
                                   "make it, or make it after vcon.compress")
        self._advance(model, state.global_step)

    def on_step_end(self, args: Any, state: Any, control: Any, model: nn.Module | None = None, **kwargs: Any) -> None:
        self._advance(model, state.global_step)

    def _advance(self, model: nn.Module, step: int) -> None:
        self.beta = schedules.beta(self.schedule, step, self.q)
        set_beta(model, self.beta)
        set_step(model, step)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
               model: nn.Module | None = None, **kwargs: Any) -> None:
        total = stats(model)["total"]
        values = {"vcon/beta": self.beta, **{f"vcon/{key}": total[key] for key in LOGGED_STATISTICS}}
        if logs is not None:
            logs.update(values)
        if state.log_history:  # the Trainer recorded the entry before calling the callbacks
            state.log_history[-1].update(values)

    def on_train_end(self, args: Any, state: Any, control: Any, model: nn.Module | None = None,
                     **kwargs: Any) -> None:
        self.exported = export(model)
        if self.compact is not None and state.is_world_process_zero:
            save_compact(self.exported, self.compact)
