"""The two value types of the dataset registry: what a builder gets and what it returns."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vcon.data.recipes import DEFAULT_IMAGE_RECIPE, check_recipe

if TYPE_CHECKING:
    from torch.utils.data import Dataset


@dataclass(frozen=True)
class DatasetOptions:
    """Options shared by every dataset builder; a builder ignores those it has no use for.

    root: data directory (the cell config's `data_root`); None falls back to the environment.
    seed: the run's seed. The fixed splits never depend on it; with `train_size` it draws the
        training examples (and, for digits, the whole split), the same for every method of a seed.
    image_size: side of the square images fed to the model; None means the dataset's default.
    augment: training-time augmentation (RandAugment, MixUp, ...) where the dataset defines one.
    max_length: token budget of text inputs, [CLS] and [SEP] included.
    train_size: train on this many examples, stratified by class and drawn under `seed`; None
        means the whole training split.
    image_recipe: how CIFAR and ImageNet images are prepared (`vcon.data.recipes`).
    tokenizer: a Hugging Face tokenizer, needed by the datasets without a vocabulary of their own.
    """

    root: str | os.PathLike[str] | None = None
    seed: int = 0
    image_size: int | None = None
    augment: bool = True
    max_length: int = 128
    tokenizer: Any = None
    train_size: int | None = None
    image_recipe: str = DEFAULT_IMAGE_RECIPE

    def __post_init__(self) -> None:
        check_recipe(self.image_recipe)


@dataclass
class DatasetBundle:
    """The three splits of a dataset and what the trainer needs to know about them.

    Items are `(inputs, label)`: a float `C x H x W` tensor (task "image") or a dict of 1-D
    LongTensors `input_ids`, `attention_mask`, `token_type_ids` (task "text"); the label is an int,
    or a float for regression (`num_classes == 1`).
    `train_batch_transform(x, y, generator) -> (x, y_soft)` applies to training batches only, and
    makes the loss use the soft targets it returns.
    """

    train: Dataset
    val: Dataset
    test: Dataset
    num_classes: int
    task: str
    metric: str
    input_spec: dict[str, int]
    collate_fn: Callable[[list[Any]], Any] | None = None
    train_batch_transform: Callable[..., tuple[Any, Any]] | None = field(default=None)
