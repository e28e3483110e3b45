"""Name -> builder registry: `@register_dataset(name)` on a `(DatasetOptions) -> DatasetBundle`."""
from __future__ import annotations

import difflib
from collections.abc import Callable

from vcon.data.bundle import DatasetBundle, DatasetOptions
from vcon.data.splits import train_subset

Builder = Callable[[DatasetOptions], DatasetBundle]

DATASETS: dict[str, Builder] = {}


def register_dataset(name: str) -> Callable[[Builder], Builder]:
    """Decorator registering `builder` under `name`; a name can be registered once."""

    def decorate(builder: Builder) -> Builder:
        if name in DATASETS:
            raise ValueError(f"dataset {name!r} is already registered")
        DATASETS[name] = builder
        return builder

    return decorate


def list_datasets() -> list[str]:
    return sorted(DATASETS)


def build_dataset(name: str, options: DatasetOptions | None = None) -> DatasetBundle:
    """Build the registered dataset `name` (its `train_size` examples when given); ValueError naming
    the known ones if there is none."""
    if name not in DATASETS:
        close = difflib.get_close_matches(name, DATASETS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown dataset {name!r}.{hint} Registered datasets: {', '.join(list_datasets())}")
    options = options if options is not None else DatasetOptions()
    bundle = DATASETS[name](options)
    # A builder that splits per seed itself (digits) returns exactly train_size examples already.
    if options.train_size is not None and len(bundle.train) != options.train_size:
        try:
            bundle.train = train_subset(bundle.train, options.train_size, options.seed)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    return bundle
