"""Tiny local copies of the real dataset formats (CIFAR pickles, ImageFolder, saved GLUE), made in tmp_path."""
from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest

DATA_ENV_VARS = ("VCON_DATA_ROOT", "VCON_CIFAR_ROOT", "VCON_IMAGENET_ROOT", "VCON_GLUE_ROOT")


@pytest.fixture(autouse=True)
def no_data_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in DATA_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_pickle(path: Path, entry: dict) -> str:
    path.write_bytes(pickle.dumps(entry, protocol=2))
    return md5(path)


def cifar_images(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, 256, size=(count, 3 * 32 * 32), dtype=np.uint8)


@pytest.fixture
def tiny_cifar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """CIFAR-10 (5 x 2 train, 7 test) and CIFAR-100 (6 train, 5 test) in the python-pickle release
    format; torchvision's checksums are pointed at these files so its integrity check runs on them."""
    from torchvision import datasets

    rng = np.random.default_rng(0)
    ten, hundred = tmp_path / "cifar-10-batches-py", tmp_path / "cifar-100-python"
    ten.mkdir()
    hundred.mkdir()
    train_list, arrays = [], {"cifar10-train": [], "cifar10-test": None}
    for i in range(1, 6):
        data = cifar_images(rng, 2)
        arrays["cifar10-train"].append(data)
        checksum = write_pickle(ten / f"data_batch_{i}", {"data": data, "labels": [i - 1, i + 4]})
        train_list.append([f"data_batch_{i}", checksum])
    test10 = cifar_images(rng, 7)
    test_labels10 = [3, 1, 4, 1, 5, 9, 2]
    test_md5 = write_pickle(ten / "test_batch", {"data": test10, "labels": test_labels10})
    meta_md5 = write_pickle(ten / "batches.meta", {"label_names": [f"class{i}" for i in range(10)]})
    monkeypatch.setattr(datasets.CIFAR10, "train_list", train_list)
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", test_md5]])
    monkeypatch.setattr(datasets.CIFAR10, "meta", {"filename": "batches.meta", "key": "label_names", "md5": meta_md5})

    train100, test100 = cifar_images(rng, 6), cifar_images(rng, 5)
    fine_train, fine_test = [0, 17, 42, 99, 5, 63], [99, 0, 1, 50, 98]
    train_md5 = write_pickle(hundred / "train", {"data": train100, "fine_labels": fine_train, "coarse_labels": [0] * 6})
    test_md5 = write_pickle(hundred / "test", {"data": test100, "fine_labels": fine_test, "coarse_labels": [0] * 5})
    meta_md5 = write_pickle(hundred / "meta", {"fine_label_names": [f"fine{i}" for i in range(100)]})
    monkeypatch.setattr(datasets.CIFAR100, "train_list", [["train", train_md5]])
    monkeypatch.setattr(datasets.CIFAR100, "test_list", [["test", test_md5]])
    monkeypatch.setattr(datasets.CIFAR100, "meta", {"filename": "meta", "key": "fine_label_names", "md5": meta_md5})
    return {
        "root": tmp_path,
        "cifar10": (np.concatenate(arrays["cifar10-train"]), test10, test_labels10),
        "cifar100": (train100, test100, fine_test),
    }


@pytest.fixture
def tiny_imagenet(tmp_path: Path) -> Path:
    """ImageFolder trees: train/ 3 classes x 2 PNGs, val/ 2 + 2 + 1 PNGs, of varied sizes."""
    from PIL import Image

    rng = np.random.default_rng(1)
    root = tmp_path / "imagenet"
    for split, counts in (("train", (2, 2, 2)), ("val", (2, 2, 1))):
        for wnid, count in zip(("n01", "n02", "n03"), counts):
            folder = root / split / wnid
            folder.mkdir(parents=True)
            for k in range(count):
                height, width = int(rng.integers(20, 40)), int(rng.integers(20, 40))
                pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"img{k}.png")
    return root


WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "is", "good", "bad", "what", "why", "yes", "no"]


@pytest.fixture(scope="session")
def tokenizer(tmp_path_factory: pytest.TempPathFactory):
    """A word-level BERT tokenizer loaded the real way, from a directory holding vocab.txt."""
    from transformers import BertTokenizerFast

    folder = tmp_path_factory.mktemp("tokenizer")
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    return BertTokenizerFast.from_pretrained(str(folder))
