"""Name -> builder registry: `@register_dataset(name)` on a `(DatasetOptions) -> DatasetBundle`."""
from __future__ import annotations

from collections.abc import Callable

from vcon.data.bundle import DatasetBundle, DatasetOptions
from vcon.data.splits import train_subset
from vcon.names import Registry

Builder = Callable[[DatasetOptions], DatasetBundle]

DATASETS: Registry[Builder] = Registry("dataset")


def register_dataset(name: str) -> Callable[[Builder], Builder]:
    """Decorator registering a builder under `name`; a name can be registered once."""
    return DATASETS.register(name)


def list_datasets() -> list[str]:
    return DATASETS.names()


def build_dataset(name: str, options: DatasetOptions | None = None) -> DatasetBundle:
    """Build the registered dataset `name` (its `train_size` examples when given); UnknownName (a
    ValueError) naming the registered ones if there is none."""
    builder = DATASETS.get(name)
    options = options if options is not None else DatasetOptions()
    bundle = builder(options)
    # A builder that splits per seed itself (digits) returns exactly train_size examples already.
    if options.train_size is not None and len(bundle.train) != options.train_size:
        try:
            bundle.train = train_subset(bundle.train, options.train_size, options.seed)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    return bundle
