"""The official metrics of the benchmark's datasets, from logits and labels.

`compute_metrics(name, logits, labels)` returns the primary metric plus its companions:
accuracy -> {accuracy}; f1 -> {f1, accuracy} (F1 of class 1, as GLUE's MRPC/QQP);
matthews -> {matthews} (multi-class form, as CoLA); pearson -> {pearson, spearman} (regression,
as STS-B). Undefined values (a constant prediction, no positive class anywhere) are 0.0.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch


def _as_numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to("cpu", torch.float64).numpy()


def _predictions(logits: torch.Tensor, labels: torch.Tensor) -> tuple[np.ndarray, np.ndarray, int]:
    if logits.ndim != 2 or logits.shape[0] != labels.shape[0]:
        raise ValueError(f"classification metrics need N x C logits and N labels, got {tuple(logits.shape)} "
                         f"and {tuple(labels.shape)}")
    predicted = logits.detach().argmax(dim=1).cpu().numpy().astype(np.int64)
    truth = labels.detach().cpu().numpy().astype(np.int64)
    return predicted, truth, int(logits.shape[1])


def _finite(value: float) -> float:
    return float(value) if math.isfinite(value) else 0.0


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    predicted, truth, _ = _predictions(logits, labels)
    return {"accuracy": float((predicted == truth).mean()) if len(truth) else 0.0}


def f1(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    predicted, truth, _ = _predictions(logits, labels)
    tp = int(((predicted == 1) & (truth == 1)).sum())
    fp = int(((predicted == 1) & (truth != 1)).sum())
    fn = int(((predicted != 1) & (truth == 1)).sum())
    denominator = 2 * tp + fp + fn
    return {"f1": 2 * tp / denominator if denominator else 0.0, **accuracy(logits, labels)}


def matthews(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    predicted, truth, num_classes = _predictions(logits, labels)
    size = max(num_classes, int(truth.max(initial=0)) + 1)
    confusion = np.zeros((size, size), dtype=np.float64)
    np.add.at(confusion, (truth, predicted), 1.0)
    n = confusion.sum()
    correct = np.trace(confusion)
    true_counts, predicted_counts = confusion.sum(axis=1), confusion.sum(axis=0)
    numerator = correct * n - true_counts @ predicted_counts
    denominator = math.sqrt((n * n - predicted_counts @ predicted_counts) * (n * n - true_counts @ true_counts))
    return {"matthews": float(numerator / denominator) if denominator else 0.0}


def pearson(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    from scipy import stats  # slow to import: only where needed

    predicted = _as_numpy(logits).reshape(len(labels), -1)
    if predicted.shape[1] != 1:
        raise ValueError(f"regression metrics need N or N x 1 predictions, got {tuple(logits.shape)}")
    predicted, truth = predicted[:, 0], _as_numpy(labels).reshape(-1)
    if len(truth) < 2 or np.ptp(predicted) == 0 or np.ptp(truth) == 0:
        return {"pearson": 0.0, "spearman": 0.0}
    return {
        "pearson": _finite(stats.pearsonr(predicted, truth).statistic),
        "spearman": _finite(stats.spearmanr(predicted, truth).statistic),
    }


METRICS: dict[str, Callable[[torch.Tensor, torch.Tensor], dict[str, float]]] = {
    "accuracy": accuracy,
    "f1": f1,
    "matthews": matthews,
    "pearson": pearson,
}


def compute_metrics(metric_name: str, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """All values of the metric `metric_name` (see the module docstring) on one evaluation set."""
    if metric_name not in METRICS:
        raise ValueError(f"unknown metric {metric_name!r}; expected one of {', '.join(METRICS)}")
    return METRICS[metric_name](logits, labels)
