"""Rendering the `glyphs` images (vcon.data.glyphs): glyph templates from the fonts, random
distortions, and the optdigits-style 4 x 4 block counts."""
from __future__ import annotations

import math
import os
from functools import lru_cache

import torch
import torch.nn.functional as F

from vcon.data.glyphs import (
    BITMAP, BLOCK, CHARACTERS, CHUNK, ELASTIC, FLIP_RATE, FONTS, HEIGHT_SCALE, ROTATION_DEG, SHEAR, SHIFT, STROKES,
    TEMPLATE, WIDTH_SCALE,
)


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


