"""Image tensors held in memory, as `(C x H x W float tensor, int label)` items."""
from __future__ import annotations

import torch
from torch.utils.data import Dataset


class ImageTensorDataset(Dataset):
    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if images.ndim != 4 or len(images) != len(labels):
            raise ValueError(f"need N x C x H x W images and N labels, "
                             f"got {tuple(images.shape)}, {tuple(labels.shape)}")
        self.images = images
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])
