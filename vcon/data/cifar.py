"""`cifar10`, `cifar100`: torchvision's CIFAR readers over the python-pickle release.

Preprocessing (`vcon.data.recipes`): the `image_recipe` at `image_size` (default 224); on train,
RandAugment and MixUp (alpha 1.0, as `train_batch_transform`) when `augment`; the authors'
per-dataset normalization. Validation and test are the two halves of the official test split
(fixed generator, seed 42).
The files come from `data_root`, `VCON_CIFAR_ROOT` or `VCON_DATA_ROOT`: the directory holding
`cifar-10-batches-py/` or `cifar-100-python/` (as torchvision extracts them), or its `cifar/`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from vcon.data.bundle import DatasetBundle, DatasetOptions
from vcon.data.recipes import MIXUP_ALPHA, authors_transforms, mixes_batches
from vcon.data.registry import register_dataset
from vcon.data.roots import find_data

ENV_VAR = "VCON_CIFAR_ROOT"
DEFAULT_IMAGE_SIZE = 224


@dataclass(frozen=True)
class Cifar:
    reader: str
    folder: str
    files: tuple[str, ...]
    num_classes: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    url: str
    train_size: int


CIFARS = {
    "cifar10": Cifar("CIFAR10", "cifar-10-batches-py",
                     tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta"), 10,
                     (0.49139968, 0.48215827, 0.44653124), (0.24703233, 0.24348505, 0.26158768),
                     "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", 50_000),
    "cifar100": Cifar("CIFAR100", "cifar-100-python", ("train", "test", "meta"), 100,
                      (0.5074, 0.4867, 0.4411), (0.2011, 0.1987, 0.2025),
                      "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", 50_000),
}


def transforms(spec: Cifar, size: int, train: bool, recipe: str):  # -> torchvision transform
    if recipe == "authors":
        return authors_transforms(spec.mean, spec.std, size, train)
    from torchvision import transforms as T

    steps = [T.Resize(size)]
    if train:
        steps.append(T.RandAugment())
    return T.Compose([*steps, T.ToTensor(), T.Normalize(spec.mean, spec.std)])


def locate(name: str, root: str | os.PathLike[str] | None) -> Path:
    """The directory holding `CIFARS[name].folder` complete; FileNotFoundError saying where to put it."""
    spec = CIFARS[name]
    return find_data(
        name, root, ENV_VAR, required=[f"{spec.folder}/{file}" for file in spec.files], subdirs=("cifar",),
        how_to_get=f"run `vcon fetch {name} --root DIR` where there is network, or download {spec.url} and extract "
                   f"it into that directory.",
    )


def build_cifar(name: str, options: DatasetOptions) -> DatasetBundle:
    from torchvision import datasets

    from vcon.data.mixup import MixUp
    from vcon.data.splits import halves

    spec = CIFARS[name]
    root = locate(name, options.root)

    reader = getattr(datasets, spec.reader)
    size = options.image_size or DEFAULT_IMAGE_SIZE
    recipe = options.image_recipe
    train = reader(str(root), train=True, download=False, transform=transforms(spec, size, options.augment, recipe))
    val, test = halves(reader(str(root), train=False, download=False, transform=transforms(spec, size, False, recipe)))
    mixup = options.augment and mixes_batches("cifar", recipe)
    return DatasetBundle(train, val, test, num_classes=spec.num_classes, task="image", metric="accuracy",
                         input_spec={"channels": 3, "image_size": size},
                         train_batch_transform=MixUp(spec.num_classes, MIXUP_ALPHA) if mixup else None)


for _name, _spec in CIFARS.items():
    register_dataset(_name, train_size=_spec.train_size, classes=_spec.num_classes, files=True)(
        partial(build_cifar, _name))
