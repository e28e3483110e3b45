"""The nine GLUE tasks, `glue-cola` ... `glue-wnli`, tokenized with `DatasetOptions.tokenizer`.

Data: `datasets.load_from_disk(DIR/<task>)` (or `DIR/glue/<task>`) when a directory is configured
by `data_root`, `VCON_GLUE_ROOT` or `VCON_DATA_ROOT` (a DatasetDict saved with `save_to_disk`,
in the hub's format), else `datasets.load_dataset("nyu-mll/glue", task)` from the hub.
Splits: train is the official train split; GLUE's test labels are hidden, so validation and test
are the two halves of the official validation split (MNLI: validation_matched), cut with a fixed
generator (seed 42). Sequences are truncated to `max_length`, not padded (the collate function
pads each batch). Metrics: Matthews (CoLA), F1 + accuracy (MRPC, QQP), Pearson + Spearman (STS-B,
regression with one output), accuracy otherwise.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from vcon.data.bundle import DatasetBundle, DatasetOptions
from vcon.data.registry import register_dataset
from vcon.data.roots import configured_root, find_data

PREFIX = "glue-"  # glue-cola, glue-sst2, ...
ENV_VAR = "VCON_GLUE_ROOT"
HUB_ID = "nyu-mll/glue"
CHUNK = 2048


@dataclass(frozen=True)
class Task:
    columns: tuple[str, ...]
    num_classes: int
    metric: str
    train_size: int  # examples of the official train split
    validation: str = "validation"


TASKS = {
    "cola": Task(("sentence",), 2, "matthews", 8551),
    "sst2": Task(("sentence",), 2, "accuracy", 67349),
    "mrpc": Task(("sentence1", "sentence2"), 2, "f1", 3668),
    "qqp": Task(("question1", "question2"), 2, "f1", 363846),
    "stsb": Task(("sentence1", "sentence2"), 1, "pearson", 5749),
    "mnli": Task(("premise", "hypothesis"), 3, "accuracy", 392702, "validation_matched"),
    "qnli": Task(("question", "sentence"), 2, "accuracy", 104743),
    "rte": Task(("sentence1", "sentence2"), 2, "accuracy", 2490),
    "wnli": Task(("sentence1", "sentence2"), 2, "accuracy", 635),
}


def how_to_get(task: str) -> str:
    return (f"run `vcon fetch glue-{task} --root DIR` where there is network (it saves DIR/glue/{task}), or "
            f"`datasets.load_dataset({HUB_ID!r}, {task!r}).save_to_disk('DIR/glue/{task}')`, then copy DIR here.")


def locate(task: str, root: str | os.PathLike[str] | None) -> Path:
    """The saved DatasetDict of `task` under the data directory; FileNotFoundError saying where to put it."""
    return find_data(f"glue-{task}", root, ENV_VAR, required=("dataset_dict.json",), subdirs=(task, f"glue/{task}"),
                     how_to_get=how_to_get(task), include_base=False)


def load(task: str, options: DatasetOptions) -> Any:  # -> datasets.DatasetDict
    import datasets

    if configured_root(options.root, ENV_VAR) is not None:
        return datasets.load_from_disk(str(locate(task, options.root)))
    try:
        return datasets.load_dataset(HUB_ID, task)
    except Exception as error:  # no network, no cache: say how to work offline
        raise FileNotFoundError(
            f"glue-{task}: could not load {HUB_ID}/{task} from the Hugging Face hub ({type(error).__name__}: {error}). "
            f"To work offline set the config key `data_root` or the environment variable {ENV_VAR} or "
            f"VCON_DATA_ROOT to a directory DIR holding {task}/ (a saved DatasetDict). To get it: {how_to_get(task)}"
        ) from error


def tokenize(split: Any, task: Task, tokenizer: Any, max_length: int) -> Any:  # -> TokenizedDataset
    from vcon.data.text import TokenizedDataset

    missing = [column for column in (*task.columns, "label") if column not in split.column_names]
    if missing:
        raise ValueError(f"GLUE split lacks columns {missing}; it has {split.column_names}")
    chunks, labels = [], []
    for batch in split.select_columns([*task.columns, "label"]).iter(batch_size=CHUNK):
        texts = [batch[column] for column in task.columns]
        chunks.append(tokenizer(*texts, truncation=True, max_length=max_length))
        labels += [float(x) for x in batch["label"]] if task.num_classes == 1 else [int(x) for x in batch["label"]]
    return TokenizedDataset(chunks, labels)


def build_glue(task: str, options: DatasetOptions) -> DatasetBundle:
    from vcon.data.splits import halves
    from vcon.data.text import PadCollate

    if options.tokenizer is None:
        raise ValueError(f"glue-{task} needs a tokenizer: pass DatasetOptions(tokenizer=...), e.g. the pretrained "
                         f"model's AutoTokenizer (GLUE runs start from a hub or local pretrained model)")
    spec = TASKS[task]
    data = load(task, options)
    for split in ("train", spec.validation):
        if split not in data:
            raise ValueError(f"glue-{task}: the dataset has no {split!r} split (it has {list(data)})")
    train = tokenize(data["train"], spec, options.tokenizer, options.max_length)
    val, test = halves(tokenize(data[spec.validation], spec, options.tokenizer, options.max_length))
    pad_id = options.tokenizer.pad_token_id
    return DatasetBundle(train, val, test, num_classes=spec.num_classes, task="text", metric=spec.metric,
                         input_spec={"vocab_size": len(options.tokenizer), "max_length": options.max_length},
                         collate_fn=PadCollate(0 if pad_id is None else pad_id))


for _task, _spec in TASKS.items():
    register_dataset(f"{PREFIX}{_task}", train_size=_spec.train_size, classes=_spec.num_classes, files=True)(
        partial(build_glue, _task))
