"""Evaluation batches: text sequences of similar length together, the same metrics as one batch."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import Subset, TensorDataset

from vcon.data.text import PadCollate, TokenizedDataset
from vcon.train.batches import evaluation_batches, sequence_lengths
from vcon.train.config import from_dict
from vcon.train.loop import evaluate
from vcon.train.setup import prepare_cell


def sequences(*lengths: int) -> TokenizedDataset:
    """Sequence i holds `lengths[i]` tokens, each 10 + i."""
    return TokenizedDataset([{"input_ids": [[10 + i] * n for i, n in enumerate(lengths)]}], list(range(len(lengths))))


def test_text_batches_are_ordered_by_length_and_stable_among_equals():
    data = sequences(3, 1, 2, 1, 4)
    assert sequence_lengths(data).tolist() == [3, 1, 2, 1, 4]
    assert evaluation_batches(data, 2) == [[1, 3], [2, 0], [4]]


def test_a_subset_is_ordered_by_the_lengths_of_its_own_examples():
    subset = Subset(sequences(3, 1, 2, 1, 4), [4, 0, 2])
    assert sequence_lengths(subset).tolist() == [4, 3, 2]
    assert evaluation_batches(subset, 2) == [[2, 1], [0]]


def test_data_without_sequences_keeps_its_order():
    data = TensorDataset(torch.zeros(5, 2))
    assert sequence_lengths(data) is None
    assert evaluation_batches(data, 2) == [[0, 1], [2, 3], [4]]


def test_collate_pads_with_the_pad_id_and_zeros():
    data = sequences(1, 3)
    inputs, labels = PadCollate(pad_id=7)([data[0], data[1]])
    assert inputs["input_ids"].tolist() == [[10, 7, 7], [11, 11, 11]]
    assert inputs["attention_mask"].tolist() == [[1, 0, 0], [1, 1, 1]]
    assert inputs["token_type_ids"].tolist() == [[0, 0, 0], [0, 0, 0]]
    assert labels.tolist() == [0, 1]


class LengthParity(torch.nn.Module):
    """Predicts whether a sequence has an odd number of tokens."""

    def forward(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        odd = (inputs["attention_mask"].sum(1) % 2).float()
        return torch.stack([1.0 - odd, odd], dim=1)


def test_each_prediction_meets_its_own_label():
    data = TokenizedDataset([{"input_ids": [[5] * n for n in (4, 1, 3, 2, 5, 2, 1)]}], [0, 1, 1, 0, 1, 0, 1])
    cell = SimpleNamespace(config=from_dict({"eval_batch_size": 3}), device=torch.device("cpu"),
                           data=SimpleNamespace(collate_fn=PadCollate(), metric="accuracy"))
    assert evaluation_batches(data, 3) == [[1, 6, 3], [5, 2, 0], [4]]
    assert evaluate(cell, LengthParity(), data)["accuracy"] == 1.0


def test_length_ordered_evaluation_gives_the_metrics_of_one_batch_in_order():
    """Padding is masked: each sentence's logits do not depend on its batch (up to float rounding)."""
    cell = prepare_cell(from_dict({"model": "bert-mini", "dataset": "synthetic-text", "train_size": 32,
                                   "eval_batch_size": 16, "tensorboard": False, "threads": 1}))
    val = Subset(cell.data.val, range(100))
    inputs, labels = cell.data.collate_fn([val[i] for i in range(len(val))])
    cell.model.eval()
    with torch.no_grad():  # a head that predicts each class for half the sentences: a misplaced logit would show
        margin = cell.model(inputs) @ torch.tensor([-1.0, 1.0])
        middle = margin.sort().values[49:51].mean()
        cell.model.net.classifier.bias[1] -= middle
        logits = cell.model(inputs)
    assert int(logits.argmax(1).sum()) == 50 and 30 < int(labels.sum()) < 70
    metrics = evaluate(cell, cell.model, val)
    assert metrics["accuracy"] == (logits.argmax(1) == labels).double().mean().item()
    assert metrics["loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, labels).item(), rel=1e-6)
