"""`digits`: scikit-learn's bundled handwritten digits (1,797 real 8 x 8 images, 10 classes).

Offline. A stratified 1,257 / 270 / 270 train / val / test split under a fixed seed (the same
for every run seed), standardized with the train split's pixel mean and std. `image_size` other
than 8 resizes bilinearly before standardizing. No augmentation.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vcon.data.bundle import DatasetBundle, DatasetOptions
from vcon.data.images import ImageTensorDataset
from vcon.data.registry import register_dataset

SPLIT_SEED = 0
HELD_OUT = 270  # each of val and test: 15 % of 1,797


def split_indices(labels: list[int] | object) -> tuple[list[int], list[int], list[int]]:
    from sklearn.model_selection import train_test_split

    indices = list(range(len(labels)))  # type: ignore[arg-type]
    rest, test = train_test_split(indices, test_size=HELD_OUT, stratify=labels, random_state=SPLIT_SEED)
    rest_labels = [labels[i] for i in rest]  # type: ignore[index]
    train, val = train_test_split(rest, test_size=HELD_OUT, stratify=rest_labels, random_state=SPLIT_SEED)
    return sorted(train), sorted(val), sorted(test)


@register_dataset("digits")
def build_digits(options: DatasetOptions) -> DatasetBundle:
    from sklearn.datasets import load_digits

    data = load_digits()
    images = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(data.target, dtype=torch.long)
    size = options.image_size or 8
    if size != 8:
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    train, val, test = split_indices(data.target.tolist())
    mean, std = images[train].mean(), images[train].std(correction=0)
    images = (images - mean) / std
    splits = [ImageTensorDataset(images[idx].contiguous(), labels[idx]) for idx in (train, val, test)]
    return DatasetBundle(*splits, num_classes=10, task="image", metric="accuracy",
                         input_spec={"channels": 1, "image_size": size})
