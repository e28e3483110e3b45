"""MixUp as a training-batch transform: `(x, y, generator) -> (x_mixed, y_soft)`."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


class MixUp:
    """Mixes each example with the one before it in its (shuffled) batch: `lam * x + (1 - lam) *
    x.roll(1, 0)`, the pairing of torchvision's v2.MixUp that the authors use.

    One `lam ~ Beta(alpha, alpha)` per batch, drawn from `generator` (a CPU torch.Generator), so a
    seeded generator gives the same batches. Soft targets are the same mix of the one-hot labels.
    """

    def __init__(self, num_classes: int, alpha: float = 1.0) -> None:
        if alpha <= 0:
            raise ValueError(f"MixUp alpha must be > 0, got {alpha}")
        self.num_classes = num_classes
        self.alpha = alpha

    def sample_lambda(self, generator: torch.Generator | None) -> float:
        if self.alpha == 1.0:  # Beta(1, 1) is uniform
            return float(torch.rand((), generator=generator))
        seed = int(torch.randint(0, 2**62, (), generator=generator))
        return float(np.random.default_rng(seed).beta(self.alpha, self.alpha))

    def __call__(self, x: torch.Tensor, y: torch.Tensor,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        lam = self.sample_lambda(generator)
        target = F.one_hot(y.long(), self.num_classes).to(x.dtype if x.is_floating_point() else torch.float32)
        return lam * x + (1.0 - lam) * x.roll(1, 0), lam * target + (1.0 - lam) * target.roll(1, 0)

    def __repr__(self) -> str:
        return f"MixUp(num_classes={self.num_classes}, alpha={self.alpha})"
