import pytest
import torch

from vcon.data import DatasetOptions, build_dataset
from vcon.data.synthetic_text import INTENSIFIERS, NEGATIVE, NEGATORS, POSITIVE, VOCAB

WORD_OF = {index: word for word, index in VOCAB.items()}


@pytest.fixture(scope="module")
def bundle():
    return build_dataset("synthetic-text", DatasetOptions())


def rule(words):
    """The documented rule, written independently of the generator."""
    total = 0
    for i, word in enumerate(words):
        if word in POSITIVE or word in NEGATIVE:
            value = 1 if word in POSITIVE else -1
            j = i - 1
            if j >= 0 and words[j] in INTENSIFIERS:
                value, j = 2 * value, j - 1
            if j >= 0 and words[j] in NEGATORS:
                value = -value
            total += value
    return int(total > 0)


def test_description(bundle):
    assert (bundle.num_classes, bundle.task, bundle.metric) == (2, "text", "accuracy")
    assert bundle.input_spec == {"vocab_size": 183, "max_length": 32}
    assert [VOCAB[t] for t in ("[PAD]", "[CLS]", "[SEP]", "[UNK]")] == [0, 1, 2, 3]
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (3000, 500, 2000)


def test_items_are_framed_token_ids(bundle):
    for split in (bundle.train, bundle.val, bundle.test):
        for i in range(len(split)):
            inputs, label = split[i]
            ids = inputs["input_ids"]
            assert ids.dtype == torch.long and ids[0] == 1 and ids[-1] == 2 and len(ids) <= 32
            assert torch.equal(inputs["attention_mask"], torch.ones_like(ids))
            assert torch.equal(inputs["token_type_ids"], torch.zeros_like(ids))
            assert ids[1:-1].min() > 3 and ids.max() < 183 and label in (0, 1)


def test_labels_follow_the_rule_up_to_five_percent_noise(bundle):
    for split in (bundle.train, bundle.val, bundle.test):
        agree = sum(rule([WORD_OF[t] for t in split[i][0]["input_ids"][1:-1].tolist()]) == split[i][1]
                    for i in range(len(split)))
        assert 0.93 <= agree / len(split) <= 0.97


def test_label_balance(bundle):
    positives = sum(bundle.train[i][1] for i in range(3000))
    assert positives == 1487  # 1,500 before the 5 % label noise
    assert 230 <= sum(bundle.val[i][1] for i in range(500)) <= 270


def test_identical_on_every_build_and_seed(bundle):
    other = build_dataset("synthetic-text", DatasetOptions(seed=3))
    for a, b in ((bundle.train, other.train), (bundle.test, other.test)):
        for i in range(0, len(a), 7):
            assert torch.equal(a[i][0]["input_ids"], b[i][0]["input_ids"]) and a[i][1] == b[i][1]


def test_splits_differ(bundle):
    train = {tuple(bundle.train[i][0]["input_ids"].tolist()) for i in range(3000)}
    test = [tuple(bundle.test[i][0]["input_ids"].tolist()) for i in range(2000)]
    assert sum(t in train for t in test) < 20


def test_max_length_truncates_keeping_sep():
    short = build_dataset("synthetic-text", DatasetOptions(max_length=8))
    assert short.input_spec["max_length"] == 8
    lengths = [len(short.train[i][0]["input_ids"]) for i in range(100)]
    assert max(lengths) == 8 and short.train[0][0]["input_ids"][-1] == 2


def test_collate_pads_to_longest(bundle):
    items = [bundle.train[i] for i in range(4)]
    inputs, labels = bundle.collate_fn(items)
    longest = max(len(x["input_ids"]) for x, _ in items)
    assert inputs["input_ids"].shape == (4, longest) and labels.dtype == torch.long
    for row, (x, _) in enumerate(items):
        n = len(x["input_ids"])
        assert torch.equal(inputs["input_ids"][row, :n], x["input_ids"])
        assert inputs["input_ids"][row, n:].eq(0).all() and inputs["attention_mask"][row, n:].eq(0).all()
        assert inputs["attention_mask"][row, :n].eq(1).all()
    assert labels.tolist() == [y for _, y in items]


def test_train_and_val_did_not_move_when_the_test_split_grew(bundle):
    """Train and val come first from the generator: growing the test split from 500 to 2,000 kept
    them (the first training and last validation sentences of the 3,000 / 500 / 500 version)."""
    first = " ".join(WORD_OF[t] for t in bundle.train[0][0]["input_ids"][1:-1].tolist())
    last = " ".join(WORD_OF[t] for t in bundle.val[499][0]["input_ids"][1:-1].tolist())
    assert first == "this coffee tasted superb and my theater appeared bad old while that teacher tastes extremely dreadful"
    assert (last, bundle.val[499][1]) == ("their park was boring local", 0)


def test_train_size_draws_a_stratified_sample_per_seed():
    small = [build_dataset("synthetic-text", DatasetOptions(train_size=300, seed=seed)) for seed in (0, 0, 1)]
    labels = [[s.train[i][1] for i in range(300)] for s in small]
    assert [sum(x) for x in labels] == [149, 149, 149]  # 1,487 of 3,000 positive: 148.7 -> 149
    assert small[0].train.indices == small[1].train.indices != small[2].train.indices
    assert (len(small[0].val), len(small[0].test)) == (500, 2000)
