"""The image recipes give the authors' tensors (vcon/data.py of Foros15/vanishing-contributions):
checked on one fixed 2 x 2 and one 2 x 4 image, upsampled to 4 x 4, where bilinear resizing can be
worked out by hand (align_corners=False: the outer rows copy the source, the inner ones are 3:1
and 1:3 mixes)."""
import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision.transforms import v2

from vcon.data import DatasetOptions, build_dataset, cifar, imagenet
from vcon.data.mixup import MixUp
from vcon.data.recipes import IMAGE_RECIPES

# The authors' constants, as written in their vcon/data.py.
AUTHORS_NORMALISATION = {
    "cifar10": ((0.49139968, 0.48215827, 0.44653124), (0.24703233, 0.24348505, 0.26158768)),
    "cifar100": ((0.5074, 0.4867, 0.4411), (0.2011, 0.1987, 0.2025)),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}

SQUARE = np.array([[0, 10], [20, 30]], dtype=np.uint8)
# SQUARE squashed to 4 x 4 on floats, in units of 1/255: not whole numbers, so an 8-bit resize
# (PIL, before ToTensor) cannot give them.
SQUARE_4X4 = [[0.0, 2.5, 7.5, 10.0],
              [5.0, 7.5, 12.5, 15.0],
              [15.0, 17.5, 22.5, 25.0],
              [20.0, 22.5, 27.5, 30.0]]
WIDE = np.array([[0, 10, 20, 40], [80, 90, 100, 120]], dtype=np.uint8)
# WIDE (2 high, 4 wide) squashed to 4 x 4: columns kept, rows mixed; nothing cropped.
WIDE_4X4 = [[0.0, 10.0, 20.0, 40.0],
            [20.0, 30.0, 40.0, 60.0],
            [60.0, 70.0, 80.0, 100.0],
            [80.0, 90.0, 100.0, 120.0]]


def rgb(channel: np.ndarray) -> Image.Image:
    """R = channel, G = 255 - channel, B = 128 everywhere."""
    return Image.fromarray(np.stack([channel, 255 - channel, np.full_like(channel, 128)], axis=-1))


def expected(grid_255: list, dataset: str) -> torch.Tensor:
    red = torch.tensor(grid_255, dtype=torch.float64)
    channels = torch.stack([red, 255 - red, torch.full_like(red, 128)]) / 255
    mean, std = (torch.tensor(v, dtype=torch.float64)[:, None, None] for v in AUTHORS_NORMALISATION[dataset])
    return ((channels - mean) / std).float()


def test_normalisation_constants_are_the_authors():
    for name in ("cifar10", "cifar100"):
        assert (cifar.CIFARS[name].mean, cifar.CIFARS[name].std) == AUTHORS_NORMALISATION[name]
    assert (imagenet.MEAN, imagenet.STD) == AUTHORS_NORMALISATION["imagenet"]


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_evaluation_tensor(name):
    out = cifar.transforms(cifar.CIFARS[name], 4, train=False, recipe="authors")(rgb(SQUARE))
    assert type(out) is torch.Tensor and out.dtype == torch.float32 and out.shape == (3, 4, 4)
    assert torch.allclose(out, expected(SQUARE_4X4, name), atol=1e-5, rtol=0)
    # the standard recipe resizes the 8-bit image: whole levels, so other values
    standard = cifar.transforms(cifar.CIFARS[name], 4, train=False, recipe="standard")(rgb(SQUARE))
    assert not torch.allclose(standard, out, atol=1e-3)


def test_imagenet_evaluation_tensor_is_squashed_not_cropped():
    out = imagenet.transforms(4, train=False, recipe="authors")(rgb(WIDE))
    assert out.shape == (3, 4, 4)
    assert torch.allclose(out, expected(WIDE_4X4, "imagenet"), atol=1e-5, rtol=0)
    standard = imagenet.transforms(4, train=False, recipe="standard")(rgb(WIDE))  # resize 5 x 10, crop 4 x 4
    assert standard.shape == (3, 4, 4) and not torch.allclose(standard, out, atol=1e-2)


def authors_training_pipeline(mean, std, size):
    """The authors' training transform, written out from their data.py."""
    return v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Resize((size, size)),
                       v2.RandAugment(), v2.Normalize(mean, std)])


@pytest.mark.parametrize("name", ["cifar10", "imagenet"])
def test_training_tensor_is_the_authors(name):
    mean, std = AUTHORS_NORMALISATION[name]
    ours = (cifar.transforms(cifar.CIFARS[name], 8, True, "authors") if name == "cifar10"
            else imagenet.transforms(8, True, "authors"))
    steps = ours.transforms
    assert [type(step).__name__ for step in steps] == [
        "ToImage", "ToDtype", "Resize", "RandAugment", "Normalize", "ToPureTensor"]
    assert steps[1].dtype == torch.float32 and steps[1].scale is True
    assert steps[2].size == [8, 8]
    randaugment = steps[3]
    assert (randaugment.num_ops, randaugment.magnitude, randaugment.num_magnitude_bins) == (2, 9, 31)
    assert v2.InterpolationMode(randaugment.interpolation) == v2.InterpolationMode.NEAREST
    assert (tuple(steps[4].mean), tuple(steps[4].std)) == (mean, std)
    reference = authors_training_pipeline(mean, std, 8)
    image = rgb(WIDE)
    for seed in range(12):  # RandAugment draws its ops from the global generator
        torch.manual_seed(seed)
        got = ours(image)
        torch.manual_seed(seed)
        assert torch.equal(got, reference(image).as_subclass(torch.Tensor))


def test_imagenet_mixes_training_batches_under_the_authors_recipe(tiny_imagenet):
    authors = build_dataset("imagenet", DatasetOptions(root=tiny_imagenet, image_size=8))
    assert isinstance(authors.train_batch_transform, MixUp) and authors.train_batch_transform.alpha == 1.0
    assert authors.train_batch_transform.num_classes == 3
    x, _ = next(iter(DataLoader(authors.train, batch_size=6)))
    assert x.shape == (6, 3, 8, 8)
    standard = build_dataset("imagenet", DatasetOptions(root=tiny_imagenet, image_size=8, image_recipe="standard"))
    assert standard.train_batch_transform is None
    no_augment = build_dataset("imagenet", DatasetOptions(root=tiny_imagenet, image_size=8, augment=False))
    assert no_augment.train_batch_transform is None


def test_unknown_recipe_is_refused():
    with pytest.raises(ValueError, match=r"unknown image recipe 'imagenet'; valid: authors, standard"):
        DatasetOptions(image_recipe="imagenet")
    assert IMAGE_RECIPES == ("authors", "standard")
