"""Where a dataset's files are: the config key `data_root`, else a per-dataset environment
variable (e.g. `VCON_CIFAR_ROOT`), else `VCON_DATA_ROOT`.

A configured directory may hold the data itself or a sub-directory named after the dataset
(e.g. `DATA_ROOT/cifar-10-batches-py` or `DATA_ROOT/imagenet/train`).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

DATA_ROOT_ENV = "VCON_DATA_ROOT"


def configured_root(root: str | os.PathLike[str] | None, env_var: str) -> tuple[Path, str] | None:
    """The configured data directory and what configured it, or None when nothing did."""
    if root is not None:
        return Path(root).expanduser(), "config key data_root"
    for name in (env_var, DATA_ROOT_ENV):
        value = os.environ.get(name)
        if value:
            return Path(value).expanduser(), f"environment variable {name}"
    return None


def how_to_configure(env_var: str) -> str:
    return (
        f"Set the data directory with the config key `data_root` (e.g. `vcon train --set data_root=DIR`), "
        f"or the environment variable {env_var} or {DATA_ROOT_ENV}."
    )


def find_data(
    dataset: str,
    root: str | os.PathLike[str] | None,
    env_var: str,
    required: Sequence[str],
    subdirs: Sequence[str] = (),
    how_to_get: str = "",
    include_base: bool = True,
) -> Path:
    """The first candidate directory holding every path in `required`; FileNotFoundError otherwise.

    Candidates are the configured directory (unless `include_base` is false) and its `subdirs`.
    The error says where the data was expected, which key or variable sets the location, and how to get the data.
    """
    found = configured_root(root, env_var)
    get = f" To get the data: {how_to_get}" if how_to_get else ""
    if found is None:
        raise FileNotFoundError(
            f"{dataset}: no data directory configured. {how_to_configure(env_var)} "
            f"It must contain {', '.join(required)}.{get}"
        )
    base, source = found
    candidates = [base] * include_base + [base / sub for sub in subdirs]
    for candidate in candidates:
        if all((candidate / item).exists() for item in required):
            return candidate
    raise FileNotFoundError(
        f"{dataset}: data not found under {base} (set by {source}). Expected {', '.join(required)} "
        f"in {' or '.join(str(c) for c in candidates)}. "
        f"{how_to_configure(env_var)}{get}"
    )
