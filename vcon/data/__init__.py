"""Dataset registry: `build_dataset(name, DatasetOptions(...)) -> DatasetBundle`.

Importing the package registers the built-in datasets, without importing torch; adding one is one
module with a `@register_dataset(name, train_size=..., classes=...)` builder, imported below.
"""
from vcon.data import cifar, digits, glue, glyphs, imagenet, synthetic_clauses, synthetic_text  # noqa: F401  (registration)
from vcon.data.bundle import DatasetBundle, DatasetOptions
from vcon.data.registry import DATASETS, build_dataset, list_datasets, register_dataset

__all__ = ["DATASETS", "DatasetBundle", "DatasetOptions", "build_dataset", "list_datasets", "register_dataset"]
