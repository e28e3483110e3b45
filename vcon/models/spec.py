"""Reading and checking the builder arguments shared by all models."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def check_num_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int (1 = regression), got {num_classes!r}")
    return num_classes


def problem_type(num_classes: int) -> str:
    """Hugging Face `problem_type`: one output is a regression, more are single-label classes."""
    return "regression" if num_classes == 1 else "single_label_classification"


def spec_int(input_spec: Mapping[str, Any], key: str, model: str, default: int | None = None) -> int:
    """`input_spec[key]` as a positive int; `default` when absent, an error when there is none."""
    value = input_spec.get(key, default)
    if value is None:
        raise ValueError(f"model {model!r} needs input_spec[{key!r}] (got keys {sorted(input_spec)})")
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"input_spec[{key!r}] must be a positive int, got {value!r}")
    return int(value)


def require_scratch(model: str, init: str | None) -> None:
    """Embedded models have no pretrained weights: only `init="scratch"` (the default) is meaningful."""
    if init not in (None, "scratch"):
        raise ValueError(
            f"model {model!r} is built from code and has no pretrained weights: use init='scratch' "
            f"(got {init!r}; weights of an earlier `vcon train` run are loaded by the trainer)"
        )
