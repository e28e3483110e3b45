"""Token sequences of uneven length, and the collate function that pads them per batch."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import Dataset

TEXT_FIELDS = ("input_ids", "attention_mask", "token_type_ids")
FILL = {"attention_mask": 1, "token_type_ids": 0}


class TokenizedDataset(Dataset):
    """Items `({"input_ids", "attention_mask", "token_type_ids"}: 1-D LongTensor, label)`.

    Built from chunks of encodings (`{"input_ids": [[...], ...], ...}`, as a Hugging Face tokenizer
    returns them) and their labels. The sequences are stored flat with offsets, so large corpora
    (QQP, MNLI) stay compact. A missing attention mask is all ones, missing token types all zeros.
    """

    def __init__(self, chunks: Sequence[Mapping[str, Sequence[Sequence[int]]]], labels: Sequence[int | float]) -> None:
        lengths, flat = [], {name: [] for name in TEXT_FIELDS}
        for chunk in chunks:
            sizes = np.array([len(ids) for ids in chunk["input_ids"]], dtype=np.int64)
            lengths.append(sizes)
            for name in TEXT_FIELDS:
                values = chunk.get(name)
                if values is None:
                    flat[name].append(np.full(int(sizes.sum()), FILL[name], dtype=np.int64))
                else:
                    flat[name].append(np.fromiter((t for seq in values for t in seq), dtype=np.int64,
                                                  count=int(sizes.sum())))
        all_lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(all_lengths)])
        self.fields = {name: np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
                       for name, parts in flat.items()}
        self.labels = np.asarray(labels)
        if len(self.labels) != len(all_lengths):
            raise ValueError(f"{len(all_lengths)} sequences but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def sequence_lengths(self) -> np.ndarray:
        """The token count of each sequence, in index order."""
        return np.diff(self.offsets)

    def __getitem__(self, index: int) -> tuple[dict[str, torch.Tensor], int | float]:
        start, stop = int(self.offsets[index]), int(self.offsets[index + 1])
        inputs = {name: torch.from_numpy(values[start:stop].copy()) for name, values in self.fields.items()}
        return inputs, self.labels[index].item()


class PadCollate:
    """Pads a batch of `(dict, label)` items to its longest sequence: `(dict of B x L, labels)`.

    `input_ids` are padded with `pad_id`, the mask and token types with 0; labels become an int64
    tensor, or float32 for regression.
    """

    def __init__(self, pad_id: int = 0) -> None:
        self.pad_id = pad_id

    def __call__(self, batch: Sequence[tuple[Mapping[str, torch.Tensor], int | float]]
                 ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        padded = {name: pad_sequence([inputs[name] for inputs, _ in batch], batch_first=True,
                                     padding_value=self.pad_id if name == "input_ids" else 0)
                  for name in batch[0][0]}
        labels = [label for _, label in batch]
        dtype = torch.float32 if isinstance(labels[0], float) else torch.long
        return padded, torch.tensor(labels, dtype=dtype)

    def __repr__(self) -> str:
        return f"PadCollate(pad_id={self.pad_id})"
