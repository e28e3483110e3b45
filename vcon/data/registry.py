"""The dataset registry: each name with its builder and the facts the workflow checks a config
against before any job starts (training examples, classes, whether it is read from files).

`@register_dataset(name, ...)` on a `(DatasetOptions) -> DatasetBundle`. Registering imports no
torch: builder modules import it inside their builders, so `import vcon.data` stays cheap. Another
installed package adds a dataset as a `DatasetEntry` under the entry-point group `vcon.datasets`
(`vcon.plugins`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vcon.names import Registry
from vcon.plugins import instances_of

if TYPE_CHECKING:
    from vcon.data.bundle import DatasetBundle, DatasetOptions

Builder = Callable[["DatasetOptions"], "DatasetBundle"]


@dataclass(frozen=True)
class DatasetEntry:
    builder: Builder
    train_size: int | None = None  # training examples; None when it depends on the local copy
    classes: int | None = None  # 1 = regression; None when it depends on the local copy
    files: bool = False  # read from files to download or place (`vcon fetch`), not made by the code


DATASETS: Registry[DatasetEntry] = Registry(
    "dataset", "vcon.datasets",
    instances_of(DatasetEntry, "a vcon.data.registry.DatasetEntry(builder, train_size=..., classes=...)"))


def register_dataset(name: str, train_size: int | None = None, classes: int | None = None,
                     files: bool = False) -> Callable[[Builder], Builder]:
    """Decorator registering a builder under `name` with its facts; a name can be registered once."""

    def decorate(builder: Builder) -> Builder:
        DATASETS.add(name, DatasetEntry(builder, train_size, classes, files))
        return builder

    return decorate


def list_datasets() -> list[str]:
    return DATASETS.names()


def build_dataset(name: str, options: DatasetOptions | None = None) -> DatasetBundle:
    """Build the registered dataset `name` (its `train_size` examples when given); UnknownName (a
    ValueError) naming the registered ones if there is none."""
    from vcon.data.bundle import DatasetOptions
    from vcon.data.splits import train_subset

    entry = DATASETS.get(name)
    options = options if options is not None else DatasetOptions()
    bundle = entry.builder(options)
    # A builder that splits per seed itself (digits) returns exactly train_size examples already.
    if options.train_size is not None and len(bundle.train) != options.train_size:
        try:
            bundle.train = train_subset(bundle.train, options.train_size, options.seed)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    return bundle
