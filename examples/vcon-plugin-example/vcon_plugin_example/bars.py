"""`bars`: 8 x 8 noisy images of one bar, horizontal, vertical or on either diagonal (4 classes).

Generated offline by one fixed generator (the same for every run seed): 600 train / 200 val / 200
test images, the bar's row or column drawn at random, Gaussian noise of std 0.5 on top, then
standardized with the train split's mean and std. For vit-digits (one channel, 8 x 8).
"""
from __future__ import annotations

from vcon.data.bundle import DatasetBundle, DatasetOptions
from vcon.data.registry import DatasetEntry

SIZES = (600, 200, 200)
SIDE = 8
NOISE = 0.5
GENERATOR_SEED = 7


def build_bars(options: DatasetOptions) -> DatasetBundle:
    import torch

    from vcon.data.images import ImageTensorDataset

    generator = torch.Generator().manual_seed(GENERATOR_SEED)
    count = sum(SIZES)
    labels = torch.randint(4, (count,), generator=generator)
    where = torch.randint(SIDE, (count,), generator=generator)
    images = torch.zeros(count, 1, SIDE, SIDE)
    line = torch.arange(SIDE)
    for index, (label, at) in enumerate(zip(labels.tolist(), where.tolist())):
        rows, cols = [(at, line), (line, at), (line, line), (line, SIDE - 1 - line)][label]
        images[index, 0, rows, cols] = 1.0
    images += NOISE * torch.randn(images.shape, generator=generator)
    train = SIZES[0]
    images = (images - images[:train].mean()) / images[:train].std()
    bounds = [0, train, train + SIZES[1], count]
    splits = [ImageTensorDataset(images[a:b].contiguous(), labels[a:b]) for a, b in zip(bounds, bounds[1:])]
    return DatasetBundle(*splits, num_classes=4, task="image", metric="accuracy",
                         input_spec={"channels": 1, "image_size": SIDE})


BARS = DatasetEntry(build_bars, train_size=SIZES[0], classes=4)
