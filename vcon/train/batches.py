"""The order of training examples: each epoch's permutation is a pure function of (seed, epoch), so a
resumed run skips the batches already done; under torchrun each rank takes its share of every
global batch. The batches of an evaluation: sequences of similar length together."""
from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler, Subset


def epoch_seed(seed: int, epoch: int) -> int:
    digest = hashlib.sha256(f"vcon-data-order:{seed}:{epoch}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def shard(size: int, rank: int, world: int) -> tuple[int, int]:
    """[start, stop) of `rank`'s share of a batch of `size`: as equal as possible, in rank order."""
    base, extra = divmod(size, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


class EpochBatches(Sampler[list[int]]):
    """Batches of indices (a batch sampler): global batches of `batch_size` from a permutation
    seeded by (seed, epoch), the last one smaller; this rank's share of each."""

    def __init__(self, length: int, batch_size: int, seed: int, rank: int = 0, world: int = 1) -> None:
        if batch_size % world:
            raise ValueError(f"batch_size = {batch_size} is the global batch and must be divisible by the "
                             f"number of processes ({world}); choose a multiple of {world}")
        last = length % batch_size
        if 0 < last < world:
            raise ValueError(f"the last batch of each epoch holds {last} examples ({length} % {batch_size}), fewer "
                             f"than the {world} processes; change batch_size or the number of processes")
        self.length, self.batch_size, self.seed = length, batch_size, seed
        self.rank, self.world = rank, world
        self.epoch, self.start = 1, 0

    def set_position(self, epoch: int, start: int = 0) -> None:
        """Iterate epoch `epoch` (1-based) from its global batch number `start` (0-based)."""
        self.epoch, self.start = epoch, start

    def __len__(self) -> int:
        return math.ceil(self.length / self.batch_size) - self.start

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(self.length, generator=torch.Generator().manual_seed(epoch_seed(self.seed, self.epoch)))
        for begin in range(self.start * self.batch_size, self.length, self.batch_size):
            batch = order[begin:begin + self.batch_size]
            first, stop = shard(len(batch), self.rank, self.world)
            yield batch[first:stop].tolist()


def evaluation_batches(dataset: Any, batch_size: int) -> list[list[int]]:
    """Index batches of an evaluation: ordered by sequence length (stable) when the data set knows its
    lengths, so that a text batch pads little (each example's result is the same up to float
    rounding), else in the data set's order."""
    lengths = sequence_lengths(dataset)
    order = list(range(len(dataset))) if lengths is None else np.argsort(lengths, kind="stable").tolist()
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


def sequence_lengths(dataset: Any) -> np.ndarray | None:
    """The token count of each example (through Subsets); None for a data set without sequences."""
    if isinstance(dataset, Subset):
        inner = sequence_lengths(dataset.dataset)
        return None if inner is None else inner[np.asarray(dataset.indices, dtype=np.int64)]
    lengths = getattr(dataset, "sequence_lengths", None)
    return None if lengths is None else lengths()
