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

from vcon.data.bundle import DatasetBundle, DatasetOptions
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


@register_dataset("glyphs", train_size=SIZES[0], classes=len(CHARACTERS))
def build_glyphs(options: DatasetOptions) -> DatasetBundle:
    import torch

    from vcon.data.glyph_images import generate
    from vcon.data.images import ImageTensorDataset

    if options.image_size not in (None, 8):
        raise ValueError(f"glyphs are 8 x 8 images like digits; image_size must be 8 or null, got {options.image_size}")
    generator = torch.Generator().manual_seed(GENERATOR_SEED)
    splits = [generate(count, generator) for count in SIZES]
    train_images = splits[0][0]
    mean, std = train_images.mean(), train_images.std(correction=0)
    datasets = [ImageTensorDataset(((images - mean) / std).contiguous(), labels) for images, labels in splits]
    return DatasetBundle(*datasets, num_classes=len(CHARACTERS), task="image", metric="accuracy",
                         input_spec={"channels": 1, "image_size": 8})
