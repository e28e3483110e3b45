"""A cell, one `vcon train` job: its identity as canonical strings, its run id and its cell config."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from vcon import lengths, run_ids
from vcon.vocabulary import DENSE_METHODS, METHODS, PRETRAINED


class GridError(ValueError):
    """The workflow config does not describe a valid, non-empty set of distinct cells."""


def canonical_length(value: Any, what: str = "Q") -> str:
    """A length as a path-safe string: steps "120" or epochs "12ep" (vcon.lengths)."""
    try:
        return lengths.canonical(value, what)
    except lengths.LengthError as error:
        raise GridError(str(error)) from None


@dataclass(frozen=True)
class Cell:
    """One training job: its identity (canonical strings) and its full cell config."""

    model: str
    dataset: str
    compressor: str  # label from the config's `compressors`, or NO_COMPRESSOR for a dense run
    method: str  # pretrain | dense | dense-scratch | posthoc | iterative | vcon
    variant: str  # "" (dense) | "q0" | "t{T}" or "t{T}-{iterative variant}" | "q{Q}-{schedule}"
    seed: str
    config: dict[str, Any] = field(compare=False, hash=False, repr=False)
    resources: dict[str, Any] = field(compare=False, hash=False, repr=False)
    init_run: str | None = field(default=None, compare=False, hash=False)  # run id of the run it starts from
    start: str = PRETRAINED  # of a compression cell (dense runs: PRETRAINED)

    @property
    def run_id(self) -> str:
        return run_ids.spell(self.model, self.dataset, self.method, self.seed, self.compressor, self.variant, self.start)

    def run_dir(self, root: str = run_ids.RUNS_ROOT) -> str:
        return f"{root}/{self.run_id}"

    def row(self) -> dict[str, str]:
        """The cell's identity as a flat row (the workflow's manifest of expected runs)."""
        spec = self.config["compressor"]
        return {**run_ids.parse(self.run_id), "compressor_spec": json.dumps(spec, sort_keys=True) if spec else "",
                "config": json.dumps(self.config, sort_keys=True)}


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
