"""`imagenet`: ILSVRC-2012 as two ImageFolder trees, `ROOT/train/<wnid>/*` and `ROOT/val/<wnid>/*`.

Preprocessing (`vcon.data.recipes`): under the default `image_recipe: authors`, the CIFAR pipeline
(squash-resize to image_size, RandAugment and MixUp on train when `augment`); under "standard",
RandomResizedCrop + flip + RandAugment for train and Resize(256/224 * image_size) + CenterCrop for
evaluation, no MixUp. ImageNet normalization. Validation and test are the two halves of `ROOT/val`
(fixed generator, seed 42).
ROOT comes from `data_root`, `VCON_IMAGENET_ROOT` or `VCON_DATA_ROOT` (or its `imagenet/`).
"""
from __future__ import annotations

import os
from pathlib import Path

from vcon.data.bundle import DatasetBundle, DatasetOptions
from vcon.data.recipes import MIXUP_ALPHA, authors_transforms, mixes_batches
from vcon.data.registry import register_dataset
from vcon.data.roots import find_data

NAME = "imagenet"
ENV_VAR = "VCON_IMAGENET_ROOT"
DEFAULT_IMAGE_SIZE = 224
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
HOW_TO_GET = ("register at https://image-net.org, download ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar, "
              "and extract them to train/ and val/ with one sub-directory per class (wnid), validation images "
              "sorted into class folders as well.")


def transforms(size: int, train: bool, recipe: str):  # -> torchvision transform
    if recipe == "authors":
        return authors_transforms(MEAN, STD, size, train)
    from torchvision import transforms as T

    if train:
        steps = [T.RandomResizedCrop(size), T.RandomHorizontalFlip(), T.RandAugment()]
    else:
        steps = [T.Resize(round(256 / 224 * size)), T.CenterCrop(size)]
    return T.Compose([*steps, T.ToTensor(), T.Normalize(MEAN, STD)])


def locate(root: str | os.PathLike[str] | None) -> Path:
    """The directory holding train/ and val/; FileNotFoundError saying where to put them and how to get them."""
    return find_data("imagenet", root, ENV_VAR, required=("train", "val"), subdirs=("imagenet",), how_to_get=HOW_TO_GET)


@register_dataset(NAME, files=True)
def build_imagenet(options: DatasetOptions) -> DatasetBundle:
    from torchvision.datasets import ImageFolder

    from vcon.data.mixup import MixUp
    from vcon.data.splits import halves

    root = locate(options.root)
    size = options.image_size or DEFAULT_IMAGE_SIZE
    recipe = options.image_recipe
    train = ImageFolder(str(root / "train"), transform=transforms(size, options.augment, recipe))
    held_out = ImageFolder(str(root / "val"), transform=transforms(size, False, recipe))
    if held_out.classes != train.classes:
        raise ValueError(f"imagenet: {root / 'val'} has {len(held_out.classes)} class folders that differ from the "
                         f"{len(train.classes)} of {root / 'train'}")
    val, test = halves(held_out)
    classes = len(train.classes)
    mixup = options.augment and mixes_batches("imagenet", recipe)
    return DatasetBundle(train, val, test, num_classes=classes, task="image", metric="accuracy",
                         input_spec={"channels": 3, "image_size": size},
                         train_batch_transform=MixUp(classes, MIXUP_ALPHA) if mixup else None)
