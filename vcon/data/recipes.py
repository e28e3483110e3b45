"""Image recipes: how CIFAR and ImageNet images become model inputs (the `image_recipe` cell key).

"authors" (default): the authors' pipeline for every image dataset. The image becomes a float
tensor in [0, 1] first, is squashed to size x size (bilinear, no crop), gets RandAugment with
torchvision's defaults on training images, then the dataset's normalisation; training batches get
MixUp (alpha 1). Evaluation: the same resize, no augmentation.

"standard": the recipes this project used before. CIFAR: resize and RandAugment on the 8-bit PIL
image, then to tensor and normalise, MixUp. ImageNet: RandomResizedCrop + horizontal flip +
RandAugment for training, Resize(256/224 x size) + CenterCrop for evaluation, no MixUp.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

IMAGE_RECIPES = ("authors", "standard")
DEFAULT_IMAGE_RECIPE = "authors"
MIXUP_ALPHA = 1.0


def check_recipe(recipe: str) -> None:
    if recipe not in IMAGE_RECIPES:
        raise ValueError(f"unknown image recipe {recipe!r}; valid: {', '.join(IMAGE_RECIPES)}")


def authors_transforms(mean: Sequence[float], std: Sequence[float], size: int, train: bool) -> Any:
    """Float tensor in [0, 1], squash-resize to size x size, RandAugment (training), normalise; a
    plain tensor out."""
    import torch
    from torchvision.transforms import v2

    steps = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Resize((size, size))]
    if train:
        steps.append(v2.RandAugment())
    return v2.Compose([*steps, v2.Normalize(mean, std), v2.ToPureTensor()])


def mixes_batches(dataset_kind: str, recipe: str) -> bool:
    """Whether training batches get MixUp: always under "authors", CIFAR only under "standard"."""
    check_recipe(recipe)
    return recipe == "authors" or dataset_kind == "cifar"
