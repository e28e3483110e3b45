"""A cell, one `vcon train` job: its identity as canonical strings, its run id and its cell config."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from vcon import lengths
from vcon.methods import METHODS

# Dense runs: the source-task pretraining, the dense fine-tuning, and dense training from scratch.
PRETRAIN, DENSE, DENSE_SCRATCH = "pretrain", "dense", "dense-scratch"
DENSE_METHODS = (PRETRAIN, DENSE, DENSE_SCRATCH)
# Where compression cells start: the pretrained model with a new head (the pretraining, else
# training.init: the authors' demo), or the dense run fine-tuned on the task (their research script).
PRETRAINED, FINETUNED = "pretrained", "finetuned"
STARTS = (PRETRAINED, FINETUNED)
RUNS_ROOT = "results/runs"
CELLS_ROOT = "results/cells"  # the cell config of each run, as given to `vcon train --config`


class GridError(ValueError):
    """The workflow config does not describe a valid, non-empty set of distinct cells."""


def canonical_length(value: Any, what: str = "Q") -> str:
    """A length as a path-safe string: steps "120" or epochs "12ep" (vcon.lengths)."""
    try:
        return lengths.canonical(value, what)
    except lengths.LengthError as error:
        raise GridError(str(error)) from None


def canonical_seed(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise GridError(f"a seed must be a non-negative integer, got {value!r}")
    text = str(value).strip()
    if isinstance(value, float):
        if not value.is_integer():
            raise GridError(f"a seed must be a non-negative integer, got {value!r}")
        text = str(int(value))
    if not text.isdigit():
        raise GridError(f"a seed must be a non-negative integer, got {value!r}")
    return str(int(text))


@dataclass(frozen=True)
class Cell:
    """One training job: its identity (canonical strings) and its full cell config."""

    model: str
    dataset: str
    compressor: str  # label from the config's `compressors`, or "none" for a dense run
    method: str  # pretrain | dense | dense-scratch | posthoc | iterative | vcon
    variant: str  # "" (dense) | "q0" | "t{T}" or "t{T}-{iterative variant}" | "q{Q}-{schedule}"
    seed: str
    config: dict[str, Any] = field(compare=False, hash=False, repr=False)
    resources: dict[str, Any] = field(compare=False, hash=False, repr=False)
    init_run: str | None = field(default=None, compare=False, hash=False)  # run id of the run it starts from
    start: str = PRETRAINED  # of a compression cell (dense runs: PRETRAINED)

    @property
    def run_id(self) -> str:
        if self.method in DENSE_METHODS:
            return f"{self.model}/{self.dataset}/{self.method}/seed{self.seed}"
        start = f"{FINETUNED}/" if self.start == FINETUNED else ""
        return f"{self.model}/{self.dataset}/{start}{self.compressor}/{self.method}/{self.variant}/seed{self.seed}"

    def run_dir(self, root: str = RUNS_ROOT) -> str:
        return f"{root}/{self.run_id}"

    @property
    def q(self) -> str:
        return self.variant[1:].split("-")[0] if self.method in ("posthoc", "vcon") else ""

    @property
    def schedule(self) -> str:
        return self.variant.split("-", 1)[1] if self.method == "vcon" else ""

    @property
    def iterative_t(self) -> str:
        return self.variant[1:].split("-")[0] if self.method == "iterative" else ""

    @property
    def iterative_variant(self) -> str:
        return self.variant.partition("-")[2] if self.method == "iterative" else ""

    def row(self) -> dict[str, str]:
        """The cell's identity as a flat row (the workflow's manifest of expected runs)."""
        return {
            "run": self.run_id,
            "model": self.model,
            "dataset": self.dataset,
            "start": "" if self.method in DENSE_METHODS else self.start,
            "compressor": self.compressor,
            "method": self.method,
            "q": self.q,
            "schedule": self.schedule,
            "iterative_t": self.iterative_t,
            "iterative_variant": self.iterative_variant,
            "seed": self.seed,
            "compressor_spec": json.dumps(self.config["compressor"], sort_keys=True) if self.config["compressor"] else "",
            "config": json.dumps(self.config, sort_keys=True),
        }


@dataclass
class Grid:
    cells: dict[str, Cell]  # run id -> cell, in expansion order

    def __len__(self) -> int:
        return len(self.cells)

    def counts(self) -> dict[str, int]:
        counted = Counter(cell.method for cell in self.cells.values())
        return {method: counted[method] for method in (*DENSE_METHODS, *METHODS) if counted[method]}

    def rows(self) -> list[dict[str, str]]:
        return [cell.row() for cell in self.cells.values()]

    def has_experiment(self, model: str, dataset: str) -> bool:
        return any(c.model == model and c.dataset == dataset for c in self.cells.values())
