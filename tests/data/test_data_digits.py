import subprocess
import sys

import numpy as np
import pytest
import torch

from vcon.data import DatasetOptions, build_dataset
from vcon.data.digits import split_indices


def images(dataset):
    return torch.stack([dataset[i][0] for i in range(len(dataset))])


def labels(dataset):
    return torch.tensor([dataset[i][1] for i in range(len(dataset))])


def test_bundle_description():
    bundle = build_dataset("digits", DatasetOptions())
    assert (bundle.num_classes, bundle.task, bundle.metric) == (10, "image", "accuracy")
    assert bundle.input_spec == {"channels": 1, "image_size": 8}
    assert bundle.collate_fn is None and bundle.train_batch_transform is None
    x, y = bundle.train[0]
    assert x.dtype == torch.float32 and x.shape == (1, 8, 8) and type(y) is int


def test_split_sizes_stratified_and_disjoint():
    from sklearn.datasets import load_digits

    target = load_digits().target.tolist()
    train, val, test = split_indices(target)
    assert (len(train), len(val), len(test)) == (1257, 270, 270)
    assert sorted(train + val + test) == list(range(1797))
    for part in (val, test):  # stratified: every class 26 to 28 times in 270
        counts = torch.bincount(torch.tensor([target[i] for i in part]), minlength=10)
        assert counts.min() >= 26 and counts.max() <= 28


def test_same_split_and_tensors_for_every_seed():
    first = build_dataset("digits", DatasetOptions(seed=0))
    second = build_dataset("digits", DatasetOptions(seed=1))
    for a, b in ((first.train, second.train), (first.val, second.val), (first.test, second.test)):
        assert torch.equal(images(a), images(b)) and torch.equal(labels(a), labels(b))


def test_standardized_with_train_statistics():
    bundle = build_dataset("digits", DatasetOptions())
    train = images(bundle.train)
    assert abs(train.mean().item()) < 1e-5
    assert abs(train.std(correction=0).item() - 1.0) < 1e-5
    assert abs(images(bundle.val).mean().item()) < 0.1  # other splits use the train statistics


def test_raw_values_recoverable():
    from sklearn.datasets import load_digits

    raw = torch.tensor(load_digits().images, dtype=torch.float32)
    train, _, _ = split_indices(load_digits().target.tolist())
    bundle = build_dataset("digits", DatasetOptions())
    mean, std = raw[train].mean(), raw[train].std(correction=0)
    assert torch.allclose(bundle.train[5][0][0], (raw[train[5]] - mean) / std)
    assert bundle.train[5][1] == int(load_digits().target[train[5]])


def test_image_size_resizes():
    bundle = build_dataset("digits", DatasetOptions(image_size=16))
    assert bundle.train[0][0].shape == (1, 16, 16)
    assert bundle.input_spec == {"channels": 1, "image_size": 16}


def test_same_data_as_scikit_learn_without_importing_it():
    from sklearn.datasets import load_digits as sklearn_digits

    from vcon.data.digits import load_digits

    images, labels = load_digits()
    reference = sklearn_digits()
    assert np.array_equal(images, reference.images) and np.array_equal(labels, reference.target)
    code = ("import sys; from vcon.data import DatasetOptions, build_dataset; build_dataset('digits', DatasetOptions()); "
            "print('sklearn' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_train_size_splits_all_1797_images_per_seed():
    """With train_size, each seed draws train (stratified), 270 val and the rest as test from all images."""
    from vcon.data.digits import per_seed_split

    target = load_labels()
    parts = [per_seed_split(target, DatasetOptions(train_size=100, seed=seed)) for seed in (0, 0, 1)]
    train, val, test = parts[0]
    assert (len(train), len(val), len(test)) == (100, 270, 1427)
    assert sorted(train + val + test) == list(range(1797))
    assert torch.bincount(torch.tensor([target[i] for i in train])).tolist() == [10] * 10
    assert parts[1] == parts[0] and parts[2][0] != train and parts[2][2] != test
    bundle = build_dataset("digits", DatasetOptions(train_size=100, seed=0))
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (100, 270, 1427)
    assert abs(images(bundle.train).mean().item()) < 1e-5  # standardized with its own 100 training images


def test_train_size_too_large_for_digits():
    with pytest.raises(ValueError, match="digits: train_size must be between 1 and 1257"):
        build_dataset("digits", DatasetOptions(train_size=1258))


def load_labels() -> list[int]:
    from vcon.data.digits import load_digits

    return load_digits()[1].tolist()
