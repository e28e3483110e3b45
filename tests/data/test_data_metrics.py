import math

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, matthews_corrcoef

from vcon.data.metrics import compute_metrics


def one_hot_logits(predictions, num_classes=2):
    return torch.nn.functional.one_hot(torch.tensor(predictions), num_classes).float() * 3.0 - 1.0


def test_accuracy():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    assert compute_metrics("accuracy", logits, torch.tensor([0, 1, 1, 1])) == {"accuracy": 0.75}


def test_f1_of_class_one_and_accuracy():
    result = compute_metrics("f1", one_hot_logits([1, 1, 0, 0, 1]), torch.tensor([1, 0, 1, 0, 1]))
    assert result == {"f1": pytest.approx(2 / 3), "accuracy": pytest.approx(0.6)}  # tp 2, fp 1, fn 1


def test_f1_without_positives_is_zero():
    assert compute_metrics("f1", one_hot_logits([0, 0]), torch.tensor([0, 0])) == {"f1": 0.0, "accuracy": 1.0}


def test_matthews_on_known_confusion_matrix():
    # tp 6, tn 3, fp 1, fn 2
    truth = [1] * 6 + [0] * 3 + [0] + [1] * 2
    predicted = [1] * 6 + [0] * 3 + [1] + [0] * 2
    result = compute_metrics("matthews", one_hot_logits(predicted), torch.tensor(truth))
    assert result == {"matthews": pytest.approx((6 * 3 - 1 * 2) / math.sqrt(7 * 8 * 4 * 5))}


def test_matthews_extremes_and_degenerate():
    labels = torch.tensor([0, 1, 1, 0])
    assert compute_metrics("matthews", one_hot_logits([0, 1, 1, 0]), labels)["matthews"] == pytest.approx(1.0)
    assert compute_metrics("matthews", one_hot_logits([1, 0, 0, 1]), labels)["matthews"] == pytest.approx(-1.0)
    assert compute_metrics("matthews", one_hot_logits([1, 1, 1, 1]), labels) == {"matthews": 0.0}


def test_multiclass_matches_sklearn():
    rng = np.random.default_rng(0)
    logits = torch.tensor(rng.normal(size=(200, 3)))
    labels = torch.tensor(rng.integers(0, 3, size=200))
    predicted = logits.argmax(1).numpy()
    expected = matthews_corrcoef(labels, predicted)
    assert compute_metrics("matthews", logits, labels)["matthews"] == pytest.approx(expected)
    binary = torch.tensor(rng.integers(0, 2, size=200))
    expected = f1_score(binary, logits[:, :2].argmax(1))
    assert compute_metrics("f1", logits[:, :2], binary)["f1"] == pytest.approx(expected)


def test_pearson_and_spearman():
    predictions = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    result = compute_metrics("pearson", predictions, torch.tensor([1.0, 3.0, 2.0, 10.0]))
    assert result == {"pearson": pytest.approx(13 / math.sqrt(250)), "spearman": pytest.approx(0.8)}
    flat = compute_metrics("pearson", predictions[:, 0], torch.tensor([2.0, 4.0, 6.0, 8.0]))
    assert flat == {"pearson": pytest.approx(1.0), "spearman": pytest.approx(1.0)}


def test_constant_regression_output_is_zero_not_nan():
    result = compute_metrics("pearson", torch.ones(4), torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert result == {"pearson": 0.0, "spearman": 0.0}


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        compute_metrics("auc", torch.zeros(2, 2), torch.zeros(2))
    with pytest.raises(ValueError, match="N x C logits"):
        compute_metrics("accuracy", torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="N or N x 1"):
        compute_metrics("pearson", torch.zeros(3, 2), torch.zeros(3))
