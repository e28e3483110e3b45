"""`glyphs`: printed characters in the format of scikit-learn's digits, the embedded source task.

A large, varied image task for pretraining the embedded vision model before it is fine-tuned on
the real handwritten `digits` (as the paper's models are pretrained on ImageNet before CIFAR).
Offline and deterministic: 62 classes (0-9, A-Z, a-z) rendered from the 22 text fonts that
matplotlib ships (DejaVu Sans, Sans Mono and Serif in 4 styles each, STIX General in 4,
Computer Modern cmb10, cmmi10, cmr10, cmss10, cmti10, cmtt10).

Each image is made the way the UCI optdigits images behind scikit-learn's digits were: a 32 x 32
bitmap whose ink spans the full height, cut into 4 x 4 blocks whose on-pixels are counted, giving
8 x 8 images with values 0..16. Before the count every glyph gets its own random distortion: one
of 3 stroke widths, rotation (+-15 degrees), shear (+-0.3), width 60-105 % and height 80-105 %,
a shift, a smooth elastic displacement, and 1 % flipped pixels.

48,000 train / 4,000 val / 4,000 test images from one fixed generator (the same for every run
seed), standardized with the train split's pixel mean and std. The digits' own images are
handwritten scans, so none of them is in this set (`tests/data/test_data_glyphs.py` checks it).
"""
from __future__ import annotations

import math
import os
from functools import lru_cache

import torch
import torch.nn.functional as F

from vcon.data.bundle import DatasetBundle, DatasetOptions
from vcon.data.images import ImageTensorDataset
from vcon.data.registry import register_dataset

CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
FONTS = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf", "DejaVuSansMono-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
    "cmb10.ttf", "cmmi10.ttf", "cmr10.ttf", "cmss10.ttf", "cmti10.ttf", "cmtt10.ttf",
)
SIZES = (48_000, 4_000, 4_000)
GENERATOR_SEED = 2024
TEMPLATE = 64  # side of the rendered glyph templates
BITMAP = 32  # side of the binary bitmap, as in optdigits
BLOCK = 4  # 4 x 4 blocks -> 8 x 8 images with values 0..16
STROKES = (1, 3, 5)  # max-pool widths on the template: thin, medium, bold
ROTATION_DEG = 15.0
SHEAR = 0.3
WIDTH_SCALE = (0.60, 1.05)
HEIGHT_SCALE = (0.80, 1.05)
SHIFT = (0.12, 0.08)  # x, y, in half-widths of the bitmap
ELASTIC = 0.06  # std of the displacement field, in half-widths
FLIP_RATE = 0.01
CHUNK = 4096


def font_path(name: str) -> str:
    import matplotlib

    path = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"glyphs: font {name} is not in matplotlib's data ({path}); reinstall matplotlib")
    return path


def _render(font: object, character: str) -> torch.Tensor:
    """The glyph's ink, cropped to its box and scaled so its height (or, if wider, its width) is
    TEMPLATE pixels, centred on a TEMPLATE x TEMPLATE canvas."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (3 * TEMPLATE, 3 * TEMPLATE), 0)
    ImageDraw.Draw(image).text((TEMPLATE // 2, TEMPLATE // 4), character, font=font, fill=255)
    ink = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(3 * TEMPLATE, 3 * TEMPLATE)
    rows, cols = (ink > 127).nonzero(as_tuple=True)
    if len(rows) == 0:
        raise ValueError(f"glyphs: the font has no visible glyph for {character!r}")
    box = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1].float() / 255.0
    scale = TEMPLATE / max(box.shape)
    height, width = (max(1, round(side * scale)) for side in box.shape)
    resized = F.interpolate(box[None, None], size=(height, width), mode="area")[0, 0]
    canvas = torch.zeros(TEMPLATE, TEMPLATE)
    top, left = (TEMPLATE - height) // 2, (TEMPLATE - width) // 2
    canvas[top:top + height, left:left + width] = resized
    return canvas


@lru_cache(maxsize=1)
def templates() -> tuple[torch.Tensor, torch.Tensor]:
    """(templates [fonts x characters x strokes, 1, T, T], class of each)."""
    from PIL import ImageFont

    glyphs, labels = [], []
    for name in FONTS:
        font = ImageFont.truetype(font_path(name), size=2 * TEMPLATE)
        for label, character in enumerate(CHARACTERS):
            glyphs.append(_render(font, character))
            labels.append(label)
    thin = torch.stack(glyphs)[:, None]
    widths = [thin if k == 1 else F.max_pool2d(thin, k, stride=1, padding=k // 2) for k in STROKES]
    return torch.cat(widths), torch.tensor(labels * len(STROKES))


def _uniform(count: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(count, generator=generator)


def distort(glyphs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Binary BITMAP x BITMAP images of `glyphs` ([N, 1, T, T]) under random affine and elastic maps."""
    count = len(glyphs)
    angle = _uniform(count, -1.0, 1.0, generator) * math.radians(ROTATION_DEG)
    shear = _uniform(count, -SHEAR, SHEAR, generator)
    width = _uniform(count, *WIDTH_SCALE, generator)
    height = _uniform(count, *HEIGHT_SCALE, generator)
    shift_x = _uniform(count, -SHIFT[0], SHIFT[0], generator)
    shift_y = _uniform(count, -SHIFT[1], SHIFT[1], generator)
    cos, sin = torch.cos(angle), torch.sin(angle)
    inverse = torch.stack([
        torch.stack([cos / width, (shear - sin) / width, shift_x], dim=1),
        torch.stack([sin / height, cos / height, shift_y], dim=1),
    ], dim=1)  # output coordinates -> template coordinates
    grid = F.affine_grid(inverse, [count, 1, BITMAP, BITMAP], align_corners=False)
    field = torch.randn(count, 2, 4, 4, generator=generator) * ELASTIC
    grid = grid + F.interpolate(field, size=(BITMAP, BITMAP), mode="bilinear", align_corners=False).permute(0, 2, 3, 1)
    ink = F.grid_sample(glyphs, grid, mode="bilinear", padding_mode="zeros", align_corners=False) > 0.5
    flips = torch.rand(ink.shape, generator=generator) < FLIP_RATE
    return (ink ^ flips).float()


def generate(count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` images [N, 1, 8, 8] with values 0..16 and their classes, drawn from `generator`."""
    glyphs, labels = templates()
    images, classes = [], []
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        picked = torch.randint(len(glyphs), (size,), generator=generator)
        bitmaps = distort(glyphs[picked], generator)
        images.append(F.avg_pool2d(bitmaps, BLOCK).mul_(BLOCK * BLOCK).round_())
        classes.append(labels[picked])
    return torch.cat(images), torch.cat(classes)


@register_dataset("glyphs")
def build_glyphs(options: DatasetOptions) -> DatasetBundle:
    if options.image_size not in (None, 8):
        raise ValueError(f"glyphs are 8 x 8 images like digits; image_size must be 8 or null, got {options.image_size}")
    generator = torch.Generator().manual_seed(GENERATOR_SEED)
    splits = [generate(count, generator) for count in SIZES]
    train_images = splits[0][0]
    mean, std = train_images.mean(), train_images.std(correction=0)
    datasets = [ImageTensorDataset(((images - mean) / std).contiguous(), labels) for images, labels in splits]
    return DatasetBundle(*datasets, num_classes=len(CHARACTERS), task="image", metric="accuracy",
                         input_spec={"channels": 1, "image_size": 8})
