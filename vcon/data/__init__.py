"""Dataset registry: `build_dataset(name, DatasetOptions(...)) -> DatasetBundle`.

Importing the package registers the built-in datasets; adding one is one module with a
`@register_dataset(name)` builder, imported below.
"""
from vcon.data import cifar, digits, glue, glyphs, imagenet, synthetic_clauses, synthetic_text  # noqa: F401  (registration)
from vcon.data.bundle import DatasetBundle, DatasetOptions
from vcon.data.metrics import compute_metrics
from vcon.data.registry import build_dataset, list_datasets, register_dataset

__all__ = ["DatasetBundle", "DatasetOptions", "build_dataset", "compute_metrics", "list_datasets", "register_dataset"]
