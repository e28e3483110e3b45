import pytest
import torch

from vcon.data import DatasetOptions, build_dataset
from vcon.data.glue import TASKS

SENTENCES = ["the cat sat", "a dog ran", "the mat is good", "what is bad", "why no", "yes the dog sat on a mat",
             "the cat", "a good dog", "no", "the bad cat ran"]
EXPECTED = {  # task: (num_classes, metric, validation split)
    "cola": (2, "matthews", "validation"), "sst2": (2, "accuracy", "validation"), "mrpc": (2, "f1", "validation"),
    "qqp": (2, "f1", "validation"), "stsb": (1, "pearson", "validation"),
    "mnli": (3, "accuracy", "validation_matched"), "qnli": (2, "accuracy", "validation"),
    "rte": (2, "accuracy", "validation"), "wnli": (2, "accuracy", "validation"),
}


def split(task, size, offset):
    import datasets

    columns = TASKS[task].columns
    rows = {column: [SENTENCES[(offset + i + k) % len(SENTENCES)] for i in range(size)]
            for k, column in enumerate(columns)}
    classes = EXPECTED[task][0]
    rows["label"] = [(offset + i) * 0.5 if classes == 1 else (offset + i) % classes for i in range(size)]
    rows["idx"] = list(range(size))
    features = {column: datasets.Value("string") for column in columns}
    features["label"] = datasets.Value("float32") if classes == 1 else datasets.ClassLabel(num_classes=classes)
    features["idx"] = datasets.Value("int32")
    return datasets.Dataset.from_dict(rows, features=datasets.Features(features))


@pytest.fixture(scope="module")
def glue_root(tmp_path_factory):
    import datasets

    root = tmp_path_factory.mktemp("data")
    for task, (_, _, validation) in EXPECTED.items():
        splits = {"train": split(task, 6, 0), validation: split(task, 5, 3)}
        if task == "mnli":
            splits["validation_mismatched"] = split(task, 3, 1)
        datasets.DatasetDict(splits).save_to_disk(str(root / "glue" / task))
    return root


@pytest.mark.parametrize("task", sorted(EXPECTED))
def test_every_task_from_disk(glue_root, tokenizer, task):
    bundle = build_dataset(f"glue-{task}", DatasetOptions(root=glue_root / "glue", tokenizer=tokenizer, max_length=16))
    classes, metric, _ = EXPECTED[task]
    assert (bundle.num_classes, bundle.metric, bundle.task) == (classes, metric, "text")
    assert bundle.input_spec == {"vocab_size": 20, "max_length": 16}
    assert (len(bundle.train), len(bundle.val), len(bundle.test)) == (6, 2, 3)
    assert sorted(bundle.val.indices + bundle.test.indices) == list(range(5))
    inputs, label = bundle.train[0]
    vocab = tokenizer.get_vocab()
    first = [vocab[w] for w in SENTENCES[0].split()]
    if len(TASKS[task].columns) == 1:
        assert inputs["input_ids"].tolist() == [2, *first, 3]
        assert inputs["token_type_ids"].tolist() == [0] * 5
    else:
        second = [vocab[w] for w in SENTENCES[1].split()]
        assert inputs["input_ids"].tolist() == [2, *first, 3, *second, 3]
        assert inputs["token_type_ids"].tolist() == [0] * 5 + [1] * 4
    assert inputs["attention_mask"].eq(1).all()
    assert label == (0.0 if classes == 1 else 0) and type(label) is (float if classes == 1 else int)
    inputs, labels = bundle.collate_fn([bundle.val[0], bundle.val[1]])
    assert labels.dtype == (torch.float32 if classes == 1 else torch.long)
    assert inputs["input_ids"].shape[0] == 2


def test_validation_halves_hold_official_validation_rows(glue_root, tokenizer):
    bundle = build_dataset("glue-mnli", DatasetOptions(root=glue_root, tokenizer=tokenizer))  # DIR/glue/mnli
    labels = sorted([bundle.val[i][1] for i in range(2)] + [bundle.test[i][1] for i in range(3)])
    assert labels == sorted((3 + i) % 3 for i in range(5))  # validation_matched, not the mismatched split


def test_truncation_and_padding(glue_root, tokenizer):
    bundle = build_dataset("glue-cola", DatasetOptions(root=glue_root / "glue", tokenizer=tokenizer, max_length=6))
    lengths = [len(bundle.train[i][0]["input_ids"]) for i in range(6)]
    assert lengths == [5, 5, 6, 5, 4, 6]
    vocab = tokenizer.get_vocab()
    assert bundle.train[5][0]["input_ids"].tolist() == [2, *(vocab[w] for w in "yes the dog sat".split()), 3]
    inputs, _ = bundle.collate_fn([bundle.train[i] for i in range(6)])
    short = lengths.index(min(lengths))
    assert inputs["input_ids"].shape == (6, 6)
    assert inputs["input_ids"][short, min(lengths):].eq(tokenizer.pad_token_id).all()
    assert inputs["attention_mask"][short].sum() == min(lengths)


def test_environment_variable(glue_root, tokenizer, monkeypatch):
    monkeypatch.setenv("VCON_GLUE_ROOT", str(glue_root / "glue"))
    assert len(build_dataset("glue-sst2", DatasetOptions(tokenizer=tokenizer)).train) == 6


def test_tokenizer_required():
    with pytest.raises(ValueError, match="glue-cola needs a tokenizer"):
        build_dataset("glue-cola", DatasetOptions())


def test_missing_task_directory(tmp_path, tokenizer):
    with pytest.raises(FileNotFoundError) as info:
        build_dataset("glue-qnli", DatasetOptions(root=tmp_path, tokenizer=tokenizer))
    message = str(info.value)
    assert str(tmp_path / "qnli") in message and "VCON_GLUE_ROOT" in message and "data_root" in message
    assert "save_to_disk" in message


def test_hub_failure_explains_offline_use(tokenizer, monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(FileNotFoundError, match="could not load nyu-mll/glue/wnli.*VCON_GLUE_ROOT"):
        build_dataset("glue-wnli", DatasetOptions(tokenizer=tokenizer))
