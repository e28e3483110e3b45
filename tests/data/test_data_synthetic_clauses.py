"""`synthetic-clauses`, the embedded text source task: labels by the documented rule, sizes, no target
sentence inside."""
from __future__ import annotations

import pytest

from vcon.data import DatasetOptions, build_dataset
from vcon.data.synthetic_clauses import negative_clauses
from vcon.data.synthetic_text import NEGATIVE, NEGATORS, POSITIVE, VOCAB, generate_splits

WORD_OF = {index: word for word, index in VOCAB.items()}


@pytest.fixture(scope="module")
def bundle():
    return build_dataset("synthetic-clauses", DatasetOptions())


def rule(words: list[str]) -> int:
    """Negative clauses, counted independently of the generator: one sentiment adjective per clause,
    flipped by a negator before it (an intensifier may stand between)."""
    negative = 0
    for i, word in enumerate(words):
        if word in POSITIVE or word in NEGATIVE:
            before = words[max(i - 2, 0):i]
            flipped = any(w in NEGATORS for w in before)
            negative += (word in NEGATIVE) != flipped
    return negative


def test_description(bundle):
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (20000, 1000, 2000)
    assert (bundle.num_classes, bundle.task, bundle.metric) == (4, "text", "accuracy")
    assert bundle.input_spec == {"vocab_size": 183, "max_length": 32}


def test_negative_clauses():
    assert [negative_clauses(s) for s in ([1], [-2], [1, -1, -2], [-1, -1, -1], [2, 1])] == [0, 1, 2, 3, 0]


def test_labels_follow_the_rule_without_noise(bundle):
    for split in (bundle.train, bundle.test):
        for i in range(0, len(split), 13):
            words = [WORD_OF[t] for t in split[i][0]["input_ids"][1:-1].tolist()]
            assert rule(words) == split[i][1], words


def test_no_target_sentence_in_the_source(bundle):
    target = {tuple(words) for texts, _ in generate_splits() for words in texts}
    for split in (bundle.train, bundle.val, bundle.test):
        for i in range(len(split)):
            assert tuple(WORD_OF[t] for t in split[i][0]["input_ids"][1:-1].tolist()) not in target
