"""Lengths of a run's phases (Q, T, warm-up): optimizer steps (`120`) or epochs (`12ep`, `1.5ep`).

One grammar for the trainer, the grid and the reports. Epochs become steps once a run knows its
steps per epoch: round(epochs x steps per epoch). The canonical spelling ("120", "12ep", "1.5ep")
names run folders, so it never depends on how a number was written (120, 120.0, "120", " 12 EP ").
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

_EPOCHS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*ep\s*$", re.IGNORECASE)
_STEPS = re.compile(r"^\s*(\d+)\s*$")
PATTERN = r"^\s*([0-9]+|[0-9]+(\.[0-9]+)?\s*[eE][pP])\s*$"  # either, as one JSON-schema pattern


class LengthError(ValueError):
    """A value that is not a length; the message names it and the two allowed forms."""


@dataclass(frozen=True)
class Length:
    """A step count, or a number of epochs (exactly one of the two is set)."""

    steps: int | None = None
    epochs: float | None = None

    @property
    def canonical(self) -> str:
        if self.epochs is None:
            return str(self.steps)
        return f"{self.epochs:g}ep"

    @property
    def value(self) -> int | str:
        """How a cell config writes it: the step count as an int, epochs as "12ep"."""
        return self.steps if self.epochs is None else self.canonical

    @property
    def is_zero(self) -> bool:
        return (self.steps if self.epochs is None else self.epochs) == 0

    def to_steps(self, steps_per_epoch: int) -> int:
        return self.steps if self.epochs is None else int(round(self.epochs * steps_per_epoch))


def parse(value: Any, what: str = "length") -> Length:
    """A length from 120, 120.0, "120", "12ep" or "1.5ep"; LengthError for anything else."""
    if isinstance(value, bool):
        raise _error(value, what)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value >= 0:
        return Length(steps=value)
    if isinstance(value, str):
        steps, epochs = _STEPS.match(value), _EPOCHS.match(value)
        if steps:
            return Length(steps=int(steps.group(1)))
        if epochs and math.isfinite(float(epochs.group(1))):
            return Length(epochs=float(epochs.group(1)))
    raise _error(value, what)


def _error(value: Any, what: str) -> LengthError:
    return LengthError(f"{what} must be a step count >= 0 (120) or epochs written like '12ep', got {value!r}")


def canonical(value: Any, what: str = "length") -> str:
    return parse(value, what).canonical


def to_steps(value: Any, steps_per_epoch: int, what: str = "length") -> int:
    return parse(value, what).to_steps(steps_per_epoch)
