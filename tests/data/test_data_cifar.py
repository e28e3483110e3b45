import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vcon.data import DatasetOptions, build_dataset
from vcon.data.cifar import CIFARS
from vcon.data.mixup import MixUp

SEED = 2


def normalized(row: np.ndarray, name: str) -> torch.Tensor:
    image = torch.tensor(row.reshape(3, 32, 32), dtype=torch.float32) / 255
    mean, std = torch.tensor(CIFARS[name].mean), torch.tensor(CIFARS[name].std)
    return (image - mean[:, None, None]) / std[:, None, None]


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_loads_through_torchvision(tiny_cifar, name):
    train_rows, test_rows, test_labels = tiny_cifar[name]
    bundle = build_dataset(name, DatasetOptions(root=tiny_cifar["root"], image_size=32, augment=False))
    assert (bundle.num_classes, bundle.task, bundle.metric) == (CIFARS[name].num_classes, "image", "accuracy")
    assert bundle.input_spec == {"channels": 3, "image_size": 32}
    assert bundle.train_batch_transform is None and bundle.collate_fn is None
    assert len(bundle.train) == len(train_rows)
    assert (len(bundle.val), len(bundle.test)) == (len(test_rows) // 2, len(test_rows) - len(test_rows) // 2)
    x, y = bundle.train[1]
    assert x.shape == (3, 32, 32) and torch.allclose(x, normalized(train_rows[1], name), atol=1e-6)
    halves = sorted(bundle.val.indices + bundle.test.indices)
    assert halves == list(range(len(test_rows)))
    for split in (bundle.val, bundle.test):
        for k, index in enumerate(split.indices):
            x, y = split[k]
            assert y == test_labels[index]
            assert torch.allclose(x, normalized(test_rows[index], name), atol=1e-6)


def test_validation_test_halves_fixed_across_seeds(tiny_cifar):
    a = build_dataset("cifar10", DatasetOptions(root=tiny_cifar["root"], image_size=32, seed=0))
    b = build_dataset("cifar10", DatasetOptions(root=tiny_cifar["root"], image_size=32, seed=5))
    assert a.val.indices == b.val.indices and a.test.indices == b.test.indices


def test_augmented_training_resizes_and_mixes(tiny_cifar):
    bundle = build_dataset("cifar100", DatasetOptions(root=tiny_cifar["root"], image_size=16))
    assert isinstance(bundle.train_batch_transform, MixUp)
    assert bundle.train_batch_transform.num_classes == 100 and bundle.train_batch_transform.alpha == 1.0
    x, y = next(iter(DataLoader(bundle.train, batch_size=6)))
    assert x.shape == (6, 3, 16, 16)
    mixed, soft = bundle.train_batch_transform(x, y, torch.Generator().manual_seed(0))
    assert mixed.shape == x.shape and soft.shape == (6, 100)
    assert torch.allclose(soft.sum(1), torch.ones(6))
    assert bundle.val[0][0].shape == (3, 16, 16)


def test_default_image_size_is_224(tiny_cifar):
    bundle = build_dataset("cifar10", DatasetOptions(root=tiny_cifar["root"], augment=False))
    assert bundle.input_spec["image_size"] == 224 and bundle.test[0][0].shape == (3, 224, 224)


def test_found_through_environment(tiny_cifar, monkeypatch, tmp_path):
    monkeypatch.setenv("VCON_CIFAR_ROOT", str(tiny_cifar["root"]))
    assert len(build_dataset("cifar10", DatasetOptions(image_size=32)).train) == 10


def test_missing_files_say_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        build_dataset("cifar100", DatasetOptions(root=tmp_path))
    message = str(info.value)
    assert str(tmp_path) in message and "cifar-100-python/train" in message
    assert "data_root" in message and "VCON_CIFAR_ROOT" in message and "VCON_DATA_ROOT" in message
    assert "cifar-100-python.tar.gz" in message


def test_no_root_configured():
    with pytest.raises(FileNotFoundError, match="no data directory configured.*data_root.*VCON_CIFAR_ROOT"):
        build_dataset("cifar10", DatasetOptions())


def test_mixup_mixes_each_example_with_the_one_before_it():
    mixup = MixUp(num_classes=5, alpha=1.0)
    x, y = torch.randn(5, 3, 2, 2), torch.arange(5)  # one class per example: soft rows reveal the pairs
    mixed, soft = mixup(x, y, torch.Generator().manual_seed(SEED))
    lam = soft[0, 0]
    assert 0.1 < lam < 0.9
    for i in range(5):
        before = (i - 1) % 5  # torchvision's v2.MixUp pairs x[i] with x[i - 1] (roll by one)
        assert soft[i, i] == lam and torch.isclose(soft[i, before], 1 - lam) and soft[i].count_nonzero() == 2
        assert torch.allclose(mixed[i], lam * x[i] + (1 - lam) * x[before])
    again = mixup(x, y, torch.Generator().manual_seed(SEED))
    assert torch.equal(again[0], mixed) and torch.equal(again[1], soft)
    assert not torch.equal(mixup(x, y, torch.Generator().manual_seed(SEED + 1))[1], soft)


def test_mixup_other_alpha_is_seeded():
    mixup = MixUp(num_classes=3, alpha=0.4)
    x, y = torch.randn(4, 2), torch.tensor([0, 1, 2, 0])
    a = mixup(x, y, torch.Generator().manual_seed(1))
    b = mixup(x, y, torch.Generator().manual_seed(1))
    assert torch.equal(a[0], b[0]) and torch.allclose(a[1].sum(1), torch.ones(4))
    with pytest.raises(ValueError):
        MixUp(3, alpha=0.0)
