"""`glyphs`, the embedded vision source task: sizes, format of the digits, determinism, and no digit
image inside."""
from __future__ import annotations

import pytest
import torch

from vcon.data import DatasetOptions, build_dataset
from vcon.data import glyph_images, glyphs
from vcon.data.digits import load_digits


@pytest.fixture(scope="module")
def bundle():
    return build_dataset("glyphs", DatasetOptions())


def raw(dataset) -> torch.Tensor:
    """The images as block counts 0..16 again (undo the train split's standardization)."""
    return dataset.images


def test_description(bundle):
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (48000, 4000, 4000)
    assert (bundle.num_classes, bundle.task, bundle.metric) == (62, "image", "accuracy")
    assert bundle.input_spec == {"channels": 1, "image_size": 8}
    x, y = bundle.train[0]
    assert x.shape == (1, 8, 8) and x.dtype == torch.float32 and 0 <= y < 62


def test_every_class_from_every_font(bundle):
    templates, labels = glyph_images.templates()
    assert len(templates) == len(glyphs.FONTS) * len(glyphs.CHARACTERS) * len(glyphs.STROKES) == 4092
    assert torch.equal(torch.bincount(labels), torch.full((62,), 66))
    counts = torch.bincount(bundle.train.labels, minlength=62)
    assert counts.min() > 600 and counts.max() < 950  # 48,000 / 62 = 774 expected per class


def test_block_counts_like_optdigits(bundle):
    """Standardized block counts: the raw values are the integers 0..16 (on-pixels of a 4x4 block)."""
    images = bundle.train.images
    levels = torch.unique(images)
    assert len(levels) == 17
    steps = levels[1:] - levels[:-1]
    assert torch.allclose(steps, steps[0].expand_as(steps), atol=1e-5)
    assert abs(images.mean().item()) < 1e-5 and abs(images.std(correction=0).item() - 1.0) < 1e-5


def test_same_images_on_every_build_and_seed(bundle):
    other = build_dataset("glyphs", DatasetOptions(seed=7))
    assert torch.equal(bundle.test.images, other.test.images) and torch.equal(bundle.test.labels, other.test.labels)


def test_no_digits_image_in_the_source(bundle):
    """The target (handwritten scans) and the source (rendered fonts) share no image, whatever the
    standardization: compared as raw block counts."""
    counts, _ = glyph_images.generate(sum(glyphs.SIZES), torch.Generator().manual_seed(glyphs.GENERATOR_SEED))
    digits, _ = load_digits()
    source = {tuple(image.flatten().int().tolist()) for image in counts}
    assert not any(tuple(int(v) for v in image.flatten()) in source for image in digits)


def test_image_size_other_than_8_is_refused():
    with pytest.raises(ValueError, match="glyphs are 8 x 8 images like digits; image_size must be 8 or null"):
        build_dataset("glyphs", DatasetOptions(image_size=16))
