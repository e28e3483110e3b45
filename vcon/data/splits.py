"""Splits of a data set: the fixed held-out halves, and the stratified per-seed samples of
`train_size` (few-example fine-tuning, where each seed draws its own training examples)."""
from __future__ import annotations

from collections.abc import Sequence

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from torch.utils.data import Dataset, Subset

SPLIT_SEED = 42


def halves(dataset: Dataset) -> tuple[Subset, Subset]:
    """(validation, test): the two halves of a held-out set, cut under torch.Generator seed 42.

    Used where the official test labels are unavailable or the official test split is split in
    two; an odd element goes to the test half. The same for every run seed.
    """
    import torch
    from torch.utils.data import random_split

    size = len(dataset)  # type: ignore[arg-type]
    val, test = random_split(dataset, [size // 2, size - size // 2],
                             generator=torch.Generator().manual_seed(SPLIT_SEED))
    return val, test


def proportional_counts(class_sizes: Sequence[int], total: int) -> list[int]:
    """How many of `total` draws each class gets: proportional to its size, the remainders handed
    out largest first (ties to the lower class index), so the counts sum to `total` exactly."""
    sizes = np.asarray(class_sizes, dtype=np.int64)
    if not 0 <= total <= sizes.sum():
        raise ValueError(f"cannot draw {total} examples from {int(sizes.sum())}")
    exact = sizes * total / sizes.sum()
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts.tolist()


def stratified_parts(labels: Sequence[int], sizes: Sequence[int], seed: int) -> list[list[int]]:
    """Disjoint index lists of the given sizes, then one with the rest, each stratified by label.

    Each class's indices are shuffled under `seed`; part k takes the next
    `proportional_counts(class sizes, sizes[k])` of every class. Indices come back sorted.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    members = [np.flatnonzero(labels == c) for c in classes]
    rng = np.random.default_rng(seed)
    shuffled = [rng.permutation(m) for m in members]
    remaining = [len(m) for m in members]
    taken = [0] * len(classes)
    parts = []
    for size in sizes:
        counts = proportional_counts(remaining, size)
        parts.append(sorted(int(i) for c, n in enumerate(counts) for i in shuffled[c][taken[c]:taken[c] + n]))
        for c, n in enumerate(counts):
            taken[c] += n
            remaining[c] -= n
    parts.append(sorted(int(i) for c in range(len(classes)) for i in shuffled[c][taken[c]:]))
    return parts


def labels_of(dataset: Dataset) -> list[int | float]:
    """The label of every item, read from the data set's label array where it has one."""
    for attribute in ("labels", "targets"):
        values = getattr(dataset, attribute, None)
        if values is not None:
            return np.asarray(values).tolist()
    from torch.utils.data import Subset

    if isinstance(dataset, Subset):
        inner = labels_of(dataset.dataset)
        return [inner[i] for i in dataset.indices]
    return [dataset[i][1] for i in range(len(dataset))]  # type: ignore[arg-type]


def train_subset(dataset: Dataset, size: int, seed: int) -> Subset:
    """`size` training examples drawn under the run seed, stratified by class (a plain random draw
    for regression labels)."""
    total = len(dataset)  # type: ignore[arg-type]
    if not 1 <= size <= total:
        raise ValueError(f"train_size must be between 1 and the {total} training examples, got {size}")
    from torch.utils.data import Subset

    labels = labels_of(dataset)
    if labels and isinstance(labels[0], float):
        labels = [0] * total
    return Subset(dataset, stratified_parts(labels, [size], seed)[0])
