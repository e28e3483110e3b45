"""`digits`: scikit-learn's bundled handwritten digits (1,797 real 8 x 8 images, 10 classes).

Offline. A stratified 1,257 / 270 / 270 train / val / test split under a fixed seed (the same
for every run seed). With `train_size` N, each run seed draws its own stratified split of all
1,797 images instead: N train, 270 validation and the remaining 1,527 - N test images, so that a
few-example target keeps a large test set (and seeds vary the training examples too; the methods
of one seed share its split). Standardized with the train split's pixel mean and std.
`image_size` other than 8 resizes bilinearly before standardizing. No augmentation.
"""
from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np

from vcon.data.bundle import DatasetBundle, DatasetOptions
from vcon.data.registry import register_dataset
from vcon.data.splits import stratified_parts

SPLIT_SEED = 0
IMAGES = 1797
HELD_OUT = 270  # each of val and test: 15 % of 1,797


def digits_file() -> Path:
    """scikit-learn's bundled `digits.csv.gz`, found without importing scikit-learn (2 s per job)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the digits data set ships with scikit-learn: pip install scikit-learn")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """(images as float32 [1797, 8, 8] with values 0..16, labels as int64 [1797])."""
    with gzip.open(digits_file(), "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.float32)
    return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)


def split_indices(labels: list[int]) -> tuple[list[int], list[int], list[int]]:
    """Stratified train / val / test indices, the same for every run seed.

    The samples are shuffled under SPLIT_SEED, then ordered by (rank within their class) / (class
    size), which interleaves the classes in proportion; test takes the first HELD_OUT, val the next.
    """
    import torch

    target = torch.tensor(labels)
    order = torch.randperm(len(target), generator=torch.Generator().manual_seed(SPLIT_SEED))
    shuffled = target[order]
    rank = torch.empty(len(target))
    for label in shuffled.unique():
        members = (shuffled == label).nonzero().flatten()
        rank[members] = (torch.arange(len(members)) + 0.5) / len(members)
    interleaved = order[torch.argsort(rank, stable=True)].tolist()
    test, val, train = interleaved[:HELD_OUT], interleaved[HELD_OUT:2 * HELD_OUT], interleaved[2 * HELD_OUT:]
    return sorted(train), sorted(val), sorted(test)


def per_seed_split(labels: list[int], options: DatasetOptions) -> tuple[list[int], list[int], list[int]]:
    """Stratified train (train_size) / val (HELD_OUT) / test (the rest) indices drawn under the run seed."""
    most = len(labels) - 2 * HELD_OUT
    if not 1 <= options.train_size <= most:
        raise ValueError(f"digits: train_size must be between 1 and {most} (at least {HELD_OUT} images are kept "
                         f"for validation and for test), got {options.train_size}")
    train, val, test = stratified_parts(labels, [options.train_size, HELD_OUT], options.seed)
    return train, val, test


@register_dataset("digits", train_size=IMAGES - 2 * HELD_OUT, classes=10)
def build_digits(options: DatasetOptions) -> DatasetBundle:
    import torch
    import torch.nn.functional as F

    from vcon.data.images import ImageTensorDataset

    raw_images, raw_labels = load_digits()
    images = torch.from_numpy(raw_images).unsqueeze(1)
    labels = torch.from_numpy(raw_labels)
    size = options.image_size or 8
    if size != 8:
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    train, val, test = per_seed_split(raw_labels.tolist(), options) if options.train_size else \
        split_indices(raw_labels.tolist())
    mean, std = images[train].mean(), images[train].std(correction=0)
    images = (images - mean) / std
    splits = [ImageTensorDataset(images[idx].contiguous(), labels[idx]) for idx in (train, val, test)]
    return DatasetBundle(*splits, num_classes=10, task="image", metric="accuracy",
                         input_spec={"channels": 1, "image_size": size})
