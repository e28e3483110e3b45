"""A cell that starts from a run of another dataset (the pretrained start), and validation every N
steps: the row count and beta at the exact steps, and evaluation never changes the training."""
from __future__ import annotations

import pytest
import torch

from vcon.train.config import ConfigError, from_dict
from vcon.train.loop import train
from vcon.train.run import train_cell
from vcon.train.setup import prepare_cell

FAST = {"tensorboard": False, "threads": 1, "checkpoint_minutes": None}


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    """A dense vit-digits run on the glyphs source task (62 classes), 2 steps."""
    out = tmp_path_factory.mktemp("glyphs")
    train_cell(from_dict({**FAST, "dataset": "glyphs", "train_size": 64, "batch_size": 32, "epochs": 1}), out,
               quiet=True)
    return out


def test_pretrained_start_loads_all_but_the_head(source_run):
    source = torch.load(source_run / "dense.pt", weights_only=True)["model"]
    cell = prepare_cell(from_dict({**FAST, "init": str(source_run), "train_size": 50, "compressor": None}))
    fresh = prepare_cell(from_dict({**FAST, "train_size": 50}))
    loaded = cell.model.state_dict()
    head = [key for key in loaded if key.startswith(cell.model.head_prefix)]
    assert head == ["net.head.weight", "net.head.bias"] and loaded["net.head.weight"].shape == (10, 64)
    assert source["net.head.weight"].shape == (62, 64)
    for key, value in loaded.items():
        expected = fresh.model.state_dict()[key] if key in head else source[key]
        assert torch.equal(value, expected), key
    assert cell.dense_reference is None  # the source task's test metrics are no reference for this one


def test_pretrained_start_of_the_same_head_size_still_gets_a_new_head(tmp_path):
    """The head is new because the dataset differs, not because its shape does: 10 classes both times."""
    source = tmp_path / "source"
    train_cell(from_dict({**FAST, "dataset": "digits", "epochs": 1, "batch_size": 256}), source, quiet=True)
    config = (source / "config.yaml").read_text().replace("dataset: digits", "dataset: glyphs")
    (source / "config.yaml").write_text(config)  # now the record of a run on another dataset
    (source / "metrics.json").unlink()  # whose sealed record would name digits (and the changed config.yaml)
    cell = prepare_cell(from_dict({**FAST, "init": str(source)}))
    saved = torch.load(source / "dense.pt", weights_only=True)["model"]
    assert not torch.equal(cell.model.state_dict()["net.head.weight"], saved["net.head.weight"])
    assert torch.equal(cell.model.state_dict()["net.blocks.0.attn.qkv.weight"], saved["net.blocks.0.attn.qkv.weight"])


def test_a_run_of_another_model_is_refused(source_run):
    with pytest.raises(ConfigError, match=f"init: {source_run} is a dense run of model 'vit-digits', this cell's "
                                          "model is 'bert-mini'; allowed: a dense run of the same model"):
        prepare_cell(from_dict({**FAST, "model": "bert-mini", "dataset": "synthetic-text", "init": str(source_run)}))


VCON = {**FAST, "train_size": 48, "batch_size": 16, "epochs": 3, "method": "vcon", "q": 4,
        "compressor": {"name": "prune", "sparsity": 0.9}}


def test_eval_every_rows_and_beta_at_the_exact_steps(tmp_path):
    """3 steps an epoch, 9 in all: validation after steps 2, 4, 6, 8 and the last, 9."""
    metrics = train_cell(from_dict({**VCON, "eval_every": 2}), tmp_path, quiet=True)
    history = metrics["history"]
    assert [row["step"] for row in history] == [2, 4, 6, 8, 9]
    assert [row["epoch"] for row in history] == [1, 2, 2, 3, 3]
    assert [row["beta"] for row in history] == [0.5, 0.0, 0.0, 0.0, 0.0]
    assert all(row["val_compressed"] == row["val_blended"] for row in history[1:])  # beta = 0: one model
    by_epoch = train_cell(from_dict({**VCON, "eval_every": None}), tmp_path / "by-epoch", quiet=True)
    assert [row["step"] for row in by_epoch["history"]] == [3, 6, 9]
    assert [row["beta"] for row in by_epoch["history"]] == [0.25, 0.0, 0.0]


def test_sparse_evaluation_from_a_step_on_at_the_multiples_of_its_interval(tmp_path):
    """3 steps an epoch, 9 in all: every step until step 3, then every epoch (3 steps)."""
    sparse = {"eval_every": 1, "eval_sparse_from": 3, "eval_sparse_every": "1ep"}
    metrics = train_cell(from_dict({**VCON, **sparse}), tmp_path, quiet=True)
    assert [row["step"] for row in metrics["history"]] == [1, 2, 3, 6, 9]
    assert [row["beta"] for row in metrics["history"]] == [0.75, 0.5, 0.25, 0.0, 0.0]
    assert (metrics["config"]["eval_sparse_from"], metrics["config"]["eval_sparse_every"]) == (3, "1ep")
    # Once an epoch until step 3 (1ep), then at the multiples of 2: the end of epoch 1 is not one.
    by_epoch = prepare_cell(from_dict({**VCON, "eval_every": None, "eval_sparse_from": "1ep", "eval_sparse_every": 2}))
    assert (by_epoch.eval_sparse_from, by_epoch.eval_sparse_every) == (3, 2)
    assert [row["step"] for row in train(by_epoch, quiet=True)["history"]] == [4, 6, 8, 9]


def test_a_sparse_interval_of_less_than_a_step_is_refused():
    with pytest.raises(ConfigError, match=r"eval_sparse_every = '0.1ep' is 0 steps \(3 steps per epoch\); allowed: "
                                          r"at least 1 step \(a step count, or at least 1/3 epoch\)"):
        prepare_cell(from_dict({**VCON, "eval_sparse_from": 0, "eval_sparse_every": "0.1ep"}))


def test_train_loss_is_the_mean_since_the_last_evaluation():
    cell = prepare_cell(from_dict({**VCON, "eval_every": 2}))
    losses = []
    original = torch.nn.functional.cross_entropy

    def recording(logits, target, *args, **kwargs):
        loss = original(logits, target, *args, **kwargs)
        if torch.is_grad_enabled():
            losses.append(loss.item())
        return loss

    torch.nn.functional.cross_entropy = recording
    try:
        history = train(cell, quiet=True)["history"]
    finally:
        torch.nn.functional.cross_entropy = original
    assert len(losses) == 9
    assert history[0]["train_loss"] == pytest.approx(sum(losses[0:2]) / 2, rel=1e-12)
    assert history[-1]["train_loss"] == pytest.approx(losses[8], rel=1e-12)


def test_evaluation_frequency_does_not_change_the_training(tmp_path):
    """bert-mini has dropout: if an evaluation drew from the training's random numbers, the runs would
    part. Every 2 steps or once an epoch, the trained model and its test metrics are the same."""
    text = {**FAST, "model": "bert-mini", "dataset": "synthetic-text", "train_size": 64, "batch_size": 32,
            "epochs": 2, "method": "vcon", "q": 2, "compressor": {"name": "binary"}}
    often = train_cell(from_dict({**text, "eval_every": 1}), tmp_path / "often", quiet=True)
    rarely = train_cell(from_dict({**text, "eval_every": None}), tmp_path / "rarely", quiet=True)
    assert often["test"] == rarely["test"]
    assert len(often["history"]) == 4 and len(rarely["history"]) == 2
    a = torch.load(tmp_path / "often" / "model.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "rarely" / "model.pt", weights_only=True)["model"]
    assert all(torch.equal(a[key], b[key]) for key in a)


def test_beta_of_a_vcon_row_is_the_schedule_at_its_step(tmp_path):
    metrics = train_cell(from_dict({**VCON, "q": 7, "eval_every": 3}), tmp_path, quiet=True)
    for row in metrics["history"]:
        assert row["beta"] == max(1.0 - row["step"] / 7, 0.0)  # linear: 1 - t/Q, then 0
    assert [row["step"] for row in metrics["history"]][:3] == [3, 6, 9]
