"""Fixed splits: the same for every run seed, so seeds vary only the training."""
from __future__ import annotations

import torch
from torch.utils.data import Dataset, Subset, random_split

SPLIT_SEED = 42


def halves(dataset: Dataset) -> tuple[Subset, Subset]:
    """(validation, test): the two halves of a held-out set, cut under torch.Generator seed 42.

    Used where the official test labels are unavailable or the official test split is split in
    two; an odd element goes to the test half.
    """
    size = len(dataset)  # type: ignore[arg-type]
    val, test = random_split(dataset, [size // 2, size - size // 2],
                             generator=torch.Generator().manual_seed(SPLIT_SEED))
    return val, test
