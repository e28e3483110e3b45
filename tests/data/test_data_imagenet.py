import shutil

import pytest
import torch

from vcon.data import DatasetOptions, build_dataset


def test_image_folders(tiny_imagenet):
    bundle = build_dataset("imagenet", DatasetOptions(root=tiny_imagenet, image_size=16))
    assert (bundle.num_classes, bundle.task, bundle.metric) == (3, "image", "accuracy")
    assert bundle.input_spec == {"channels": 3, "image_size": 16}
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (6, 2, 3)
    assert sorted(bundle.val.indices + bundle.test.indices) == list(range(5))
    assert bundle.train.classes == ["n01", "n02", "n03"]
    x, y = bundle.train[4]
    assert x.shape == (3, 16, 16) and y == 2
    x, y = bundle.test[0]
    assert x.shape == (3, 16, 16) and torch.equal(x, bundle.test[0][0])  # evaluation is deterministic
    assert y == bundle.test.dataset.targets[bundle.test.indices[0]]


def test_standard_recipe_evaluation_crop_is_center_of_resized(tiny_imagenet):
    from PIL import Image
    from torchvision.transforms import functional as F

    bundle = build_dataset("imagenet", DatasetOptions(root=tiny_imagenet, image_size=14, augment=False,
                                                      image_recipe="standard"))
    path, _ = bundle.val.dataset.samples[bundle.val.indices[0]]
    image = F.center_crop(F.resize(Image.open(path).convert("RGB"), 16), 14)  # 256/224 * 14 = 16
    expected = F.normalize(F.to_tensor(image), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    assert torch.allclose(bundle.val[0][0], expected)


def test_found_under_data_root_subfolder(tiny_imagenet, monkeypatch):
    monkeypatch.setenv("VCON_DATA_ROOT", str(tiny_imagenet.parent))  # DATA_ROOT/imagenet/{train,val}
    assert build_dataset("imagenet", DatasetOptions(image_size=8)).num_classes == 3


def test_missing_val_names_key_and_variable(tiny_imagenet, monkeypatch):
    shutil.rmtree(tiny_imagenet / "val")
    monkeypatch.setenv("VCON_IMAGENET_ROOT", str(tiny_imagenet))
    with pytest.raises(FileNotFoundError) as info:
        build_dataset("imagenet", DatasetOptions())
    message = str(info.value)
    assert f"under {tiny_imagenet} (set by environment variable VCON_IMAGENET_ROOT)" in message
    assert "data_root" in message and "image-net.org" in message


def test_class_mismatch(tiny_imagenet):
    shutil.rmtree(tiny_imagenet / "val" / "n03")
    with pytest.raises(ValueError, match="class folders"):
        build_dataset("imagenet", DatasetOptions(root=tiny_imagenet))
