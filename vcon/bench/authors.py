"""The authors' mechanism for weight compressors, as a benchmark case (written from its description
in issue 15, not from their code): before the forward pass C(W), or beta W + (1 - beta) C(W) in the
transition, is written into `weight.data` of the plain linear layers; after the backward pass the
latent W is put back, so the optimizer applies the gradient taken at C(W) to W. There is no autograd
node; the gradient is straight-through by construction.

C(W) is the library's own `values`, so the case compares the mechanism alone. A `.data` swap hides
the compressed weights from autograd, which is why the library does not use it.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from vcon.compressors import WeightCompressor
from vcon.selection import select_layers


class DataSwap:
    """`swap_in` before the forward pass, `restore` after the backward pass."""

    def __init__(self, model: nn.Module, compressor: WeightCompressor, beta: float) -> None:
        self.layers = list(select_layers(model).values())
        self.compressor = compressor
        self.beta = beta
        self.latent: list[Tensor] = []

    @torch.no_grad()
    def swap_in(self) -> None:
        level = self.compressor.final_level
        self.latent = [layer.weight.data for layer in self.layers]
        for layer, latent in zip(self.layers, self.latent):
            values = self.compressor.values(latent, None, level)
            if self.beta > 0.0:
                values.lerp_(latent, self.beta)  # values is a fresh tensor
            layer.weight.data = values

    def restore(self) -> None:
        for layer, latent in zip(self.layers, self.latent):
            layer.weight.data = latent
        self.latent = []
