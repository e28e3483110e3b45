"""Stratified per-seed samples (`train_size`): exact counts, disjoint parts, the same for a seed."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vcon.data import DatasetOptions, build_dataset
from vcon.data.images import ImageTensorDataset
from vcon.data.splits import proportional_counts, stratified_parts, train_subset


def test_proportional_counts_hand_worked():
    assert proportional_counts([50, 30, 20], 10) == [5, 3, 2]
    assert proportional_counts([3, 3, 3], 4) == [2, 1, 1]  # equal remainders: the lower class first
    assert proportional_counts([179, 180, 181], 100) == [33, 33, 34]  # 33.15, 33.33, 33.52: one extra, to 33.52
    assert proportional_counts([10, 10], 0) == [0, 0]
    with pytest.raises(ValueError, match="cannot draw 21 examples from 20"):
        proportional_counts([10, 10], 21)


def test_stratified_parts_are_disjoint_exact_and_seeded():
    labels = [0] * 60 + [1] * 30 + [2] * 10
    train, val, rest = stratified_parts(labels, [10, 20], seed=3)
    assert sorted(train + val + rest) == list(range(100))
    assert np.bincount(np.array(labels)[train]).tolist() == [6, 3, 1]
    assert np.bincount(np.array(labels)[val]).tolist() == [12, 6, 2]
    assert stratified_parts(labels, [10, 20], seed=3)[0] == train
    assert stratified_parts(labels, [10, 20], seed=4)[0] != train


def test_train_subset_of_any_dataset():
    data = ImageTensorDataset(torch.zeros(40, 1, 2, 2), torch.tensor([0, 1, 2, 3] * 10))
    subset = train_subset(data, 8, seed=0)
    assert sorted(int(data.labels[i]) for i in subset.indices) == [0, 0, 1, 1, 2, 2, 3, 3]
    with pytest.raises(ValueError, match="train_size must be between 1 and the 40 training examples, got 41"):
        train_subset(data, 41, seed=0)


def test_train_size_on_a_registered_dataset_and_its_error():
    small = build_dataset("synthetic-clauses", DatasetOptions(train_size=40, seed=1))
    assert len(small.train) == 40 and len(small.test) == 2000
    with pytest.raises(ValueError, match="synthetic-clauses: train_size must be between 1 and the 20000"):
        build_dataset("synthetic-clauses", DatasetOptions(train_size=20001))
