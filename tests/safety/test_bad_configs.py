"""The bad-input matrix: every bad config is refused before anything is written, with a message that
names the file, the key (the path inside a workflow config), the value and what is allowed."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import REPO, tiny_config, workflow, write_yaml

from vcon.grid import GridError, check, load
from vcon.train import cli

# --- `vcon train`: a cell file, run through the command in-process ------------------------------------

# (id, cell config, fragments the message must hold: key, value, allowed). Checked before any data is
# loaded, except where marked "built" (they need the data's steps per epoch or the model's layers).
PRUNE = {"name": "prune", "sparsity": 0.9}
TRAIN_CASES = [
    ("unknown-key", {"epoch": 3}, ["epoch: unknown key 'epoch'", "did you mean 'epochs'?", "allowed keys: model"]),
    ("epochs-zero", {"epochs": 0}, ["epochs = 0 is not allowed; allowed: an integer >= 1"]),
    ("batch-negative", {"batch_size": -1}, ["batch_size = -1 is not allowed; allowed: an integer >= 1"]),
    ("lr-zero", {"lr": 0}, ["lr = 0 is not allowed; allowed: a number > 0"]),
    ("lr-type", {"lr": "fast"}, ["lr = 'fast' is not allowed; allowed: a number"]),
    ("seed-bool", {"seed": True}, ["seed = True is not allowed; allowed: an integer"]),
    ("q-negative", {"q": -3, "compressor": PRUNE}, ["q = -3 is not allowed; allowed: a step count >= 0 (120)", "'12ep'"]),
    ("sparsity-one", {"compressor": {"name": "prune", "sparsity": 1.0}},
     ["compressor.sparsity = 1.0 is not allowed; allowed: a number < 1"]),
    ("bits-nine", {"compressor": {"name": "quant", "bits": 9}},
     ["compressor.bits = 9 is not allowed; allowed: an integer <= 8"]),
    ("bits-one", {"compressor": {"name": "quant", "bits": 1}},
     ["compressor.bits = 1 is not allowed; allowed: an integer >= 2"]),
    ("compressor-name", {"compressor": {"name": "prunning"}},
     ["compressor.name = 'prunning' is not allowed; allowed: one of binary, lowrank, prune, quant (did you mean "
      "'prune'?)"]),
    ("compressor-option", {"compressor": {"name": "prune", "sparsty": 0.5}},
     ["compressor.sparsty: unknown key 'sparsty' (did you mean 'sparsity'?); allowed keys: name, sparsity"]),
    ("model-name", {"model": "vit-digit"}, ["model: unknown model 'vit-digit'", "did you mean 'vit-digits'",
                                             "registered models: bert-base"]),
    ("dataset-name", {"dataset": "digit"}, ["dataset: unknown dataset 'digit' (did you mean 'digits'?)",
                                            "registered datasets: cifar10"]),
    ("schedule-name", {"schedule": "cosin"}, ["schedule = 'cosin' is not allowed; allowed: one of linear, cosine",
                                              "(did you mean 'cosine'?)"]),
    ("method-name", {"method": "gradual"}, ["method = 'gradual' is not allowed; allowed: one of posthoc, iterative, vcon"]),
    ("q-epochs-too-long", {"epochs": 2, "q": "12ep", "method": "vcon", "compressor": PRUNE},
     ["q = '12ep' is longer than the run (epochs = 2)", "allowed: at most 2ep"]),
    ("posthoc-with-q", {"method": "posthoc", "q": 5, "compressor": PRUNE},
     ["q = 5 is not allowed for method posthoc", "allowed: 0, or method vcon"]),
    ("min-lr-above-lr", {"lr": 1e-4, "min_lr": 1e-3}, ["min_lr = 0.001 is not allowed; allowed: at most lr (0.0001)"]),
    ("built:q-steps-too-long", {"epochs": 2, "q": 1000, "method": "vcon", "compressor": PRUNE},
     ["q = 1000 is 1000 steps, longer than the run (2 epochs x 20 steps = 40)", "allowed: at most 40 steps"]),
    ("built:t-steps-too-long", {"epochs": 1, "iterative_t": 500, "method": "iterative", "compressor": PRUNE},
     ["iterative_t = 500 is 500 steps, longer than the run", "allowed: at most 20 steps"]),
    ("built:rank-above-layer", {"compressor": {"name": "lowrank", "rank": 100}},
     ["compressor: lowrank: rank 100 is above min(out_features, in_features) = 64", "choose rank <= 64"]),
]


def run_cli(config_path: Path, out: Path, capsys, overrides: list[str] = ()) -> str:
    args = argparse.Namespace(config=str(config_path), out=str(out), overrides=list(overrides), force=False,
                              quiet=True, fetched=[])
    code = cli.run(args)
    assert code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("case", TRAIN_CASES, ids=[c[0] for c in TRAIN_CASES])
def test_vcon_train_refuses(case, tmp_path, capsys):
    _, cell, fragments = case
    path = write_yaml(tmp_path / "cell.yaml", {"epochs": 1, **cell})
    out = tmp_path / "run"
    err = run_cli(path, out, capsys)
    assert err.startswith(f"vcon train: error: {path}: "), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert not out.exists()  # nothing written: no run folder


def test_vcon_train_refuses_bad_yaml_and_bad_override(tmp_path, capsys):
    path = tmp_path / "cell.yaml"
    path.write_text("epochs: [1, 2\n")
    err = run_cli(path, tmp_path / "run", capsys)
    assert f"{path}: not valid YAML" in err
    good = write_yaml(tmp_path / "good.yaml", {"epochs": 1})
    err = run_cli(good, tmp_path / "run", capsys, ["batch_size=0"])
    assert f"{good}: batch_size = 0 is not allowed; allowed: an integer >= 1" in err
    assert not (tmp_path / "run").exists()


def _fake_dense_run(folder: Path, classes: int, dataset: str | None, model: str = "vit-digits") -> Path:
    """A dense run folder whose checkpoint has a `classes`-way head (no training needed)."""
    from vcon.models import build_model

    net = build_model("vit-digits", classes, {"channels": 1, "image_size": 8})
    folder.mkdir(parents=True)
    torch.save({"model": net.state_dict()}, folder / "dense.pt")
    if dataset:
        write_yaml(folder / "config.yaml", {"model": model, "dataset": dataset})
    return folder


def test_init_from_a_dense_run_of_another_model(tmp_path, capsys):
    dense = _fake_dense_run(tmp_path / "dense-text", 2, "synthetic-text", model="bert-mini")
    path = write_yaml(tmp_path / "cell.yaml", {"epochs": 1, "init": str(dense), "compressor": PRUNE})
    err = run_cli(path, tmp_path / "run", capsys)
    assert f"{path}: init: {dense} is a dense run of model 'bert-mini', this cell's model is 'vit-digits'; " \
           "allowed: a dense run of the same model" in err
    assert not (tmp_path / "run").exists()


def test_init_from_a_checkpoint_whose_head_differs(tmp_path, capsys):
    dense = _fake_dense_run(tmp_path / "dense-2way", 2, None)
    path = write_yaml(tmp_path / "cell.yaml", {"epochs": 1, "init": str(dense), "compressor": PRUNE})
    err = run_cli(path, tmp_path / "run", capsys)
    assert f"{path}: init: {dense / 'dense.pt'} does not fit this cell's model: net.head.weight has shape (2, 64) in " \
           "the checkpoint and (10, 64) here (dataset 'digits' has 10 classes)" in err
    assert not (tmp_path / "run").exists()


def test_vcon_train_command_line(tmp_path):
    """The real command, in a process of its own, refusing a cell once it has built its model (the other
    cases run in this process): exit status 2, the message, no traceback, no run folder."""
    path = write_yaml(tmp_path / "cell.yaml", {"epochs": 1, "compressor": {"name": "lowrank", "rank": 100}})
    fragment = "compressor: lowrank: rank 100 is above min(out_features, in_features) = 64"
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([sys.executable, "-m", "vcon", "train", "--config", str(path), "--out", str(out)],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"vcon train: error: {path}: " in result.stderr and fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


# --- the workflow: a config file, checked by the schema and the grid ----------------------------------

def _set(path: str, value):
    """A change of the test-tiny config: set the value at a dotted path."""
    def change(config: dict) -> None:
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return change


def _drop(path: str):
    """A change of the test-tiny config: remove the key at a dotted path."""
    def change(config: dict) -> None:
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node[key]
        del node[last]
    return change


def _both(*changes):
    def change(config: dict) -> None:
        for one in changes:
            one(config)
    return change


DIGITS = "models.vit-digits.datasets.digits"
NO_PRETRAIN = _both(_drop("models.vit-digits.pretrain"), _set("dense", True))
WORKFLOW_CASES = [
    ("unknown-top-key", _set("seed", [0]), ["seed: unknown key 'seed'", "did you mean 'seeds'?", "allowed keys:"]),
    ("unknown-model-key", _set("models.vit-digits.dataset", "digits"),
     ["models.vit-digits.dataset: unknown key 'dataset'", "did you mean 'datasets'?"]),
    ("unknown-training-key", _set("training.learning_rate", 0.1),
     ["training.learning_rate: unknown key 'learning_rate'", "allowed keys: train_size, init, original"]),
    ("identity-in-training", _set("training.q", 5),
     ["training.q: key 'q' is not allowed here: the grid sets it for each cell"]),
    ("epochs-zero", _set(f"{DIGITS}.training.epochs", 0),
     [f"{DIGITS}.training.epochs = 0 is not allowed; allowed: an integer >= 1"]),
    ("epochs-type", _set(f"{DIGITS}.training.epochs", "two"),
     [f"{DIGITS}.training.epochs = 'two' is not allowed; allowed: an integer"]),
    ("batch-zero", _set("training.batch_size", 0), ["training.batch_size = 0 is not allowed; allowed: an integer >= 1"]),
    ("lr-zero", _set("training.lr", 0), ["training.lr = 0 is not allowed; allowed: a number > 0"]),
    ("sparsity-one", _set("compressors.prune90.sparsity", 1.0),
     ["compressors.prune90.sparsity = 1.0 is not allowed; allowed: a number < 1"]),
    ("sparsity-negative", _set("compressors.prune90.sparsity", -0.1),
     ["compressors.prune90.sparsity = -0.1 is not allowed; allowed: a number >= 0"]),
    ("bits-nine", _set("compressors.q9", {"name": "quant", "bits": 9}),
     ["compressors.q9.bits = 9 is not allowed; allowed: an integer <= 8"]),
    ("bits-one", _set("compressors.q1", {"name": "quant", "bits": 1}),
     ["compressors.q1.bits = 1 is not allowed; allowed: an integer >= 2"]),
    ("compressor-option", _set("compressors.prune90.sparsty", 0.5),
     ["compressors.prune90.sparsty: unknown key 'sparsty'", "did you mean 'sparsity'?"]),
    ("compressor-name", _set("compressors.t", {"name": "ternary"}),
     ["compressors.t.name = 'ternary' is not allowed; allowed: one of binary, lowrank, prune, quant"]),
    ("rank-above-layer", _set("compressors.lowrank100", {"name": "lowrank", "rank": 100}),
     ["compressors.lowrank100.rank = 100 is above the smaller side (64)", "allowed: rank <= 64"]),
    ("method-name", _set("methods", ["vcon", "vcom"]),
     ["methods.1 = 'vcom' is not allowed; allowed: one of posthoc, iterative, vcon (did you mean 'vcon'?)"]),
    ("schedule-name", _set("schedule", "cosin"), ["schedule = 'cosin' is not allowed", "(did you mean 'cosine'?)"]),
    ("model-name", _set("models", {"vit-digitz": {"datasets": ["digits"]}}),
     ["models.vit-digitz: unknown model 'vit-digitz' (did you mean 'vit-digits'?); allowed: bert-base"]),
    ("dataset-name", _set("models.vit-digits.datasets", ["digit"]),
     ["models.vit-digits.datasets.digit: unknown dataset 'digit' (did you mean 'digits'?); registered datasets: cifar10"]),
    ("q-negative", _set("q", [-3]), ["q.0 = -3 is not allowed; allowed: a step count >= 0 (120) or epochs ('12ep', '1.5ep')"]),
    ("q-steps-too-long", _set("q", [100]),
     ["q = '100' is longer than the run of models.vit-digits.datasets.digits (4 epochs = 20 steps (digits: 100 "
      "training examples / batch_size 20 = 5 steps per epoch))", "allowed: at most 4ep or 20 steps"]),
    ("t-epochs-too-long", _set("iterative_t", "5ep"),
     ["iterative_t = '5ep' is longer than the run", "allowed: at most 4ep or 20 steps"]),
    ("q-same-steps", _set("q", [5, "1ep"]),
     ["q: Q values 1ep and 5 are the same length, 5 steps", "allowed: distinct lengths"]),
    ("q-duplicate", _set("q", [10, "10"]), ["duplicate Q values in q", "10; allowed: each value once"]),
    ("seeds-duplicate", _set("seeds", [0, 0]), ["seeds = [0, 0] is not allowed; allowed: no value twice"]),
    ("seeds-empty", _set("seeds", []), ["seeds = [] is not allowed; allowed: at least 1 entries"]),
    ("compressor-same-spec", _set("compressors.prune90b", {"name": "prune", "sparsity": 0.9, "granularity": "layer"}),
     ["compressors.prune90b has the same spec as compressors.prune90", "allowed: distinct specs"]),
    ("init-other-model", _both(NO_PRETRAIN, _set("training.init", "results/runs/bert-mini/synthetic-text/dense/seed0")),
     [f"{DIGITS}.training.init = 'results/runs/bert-mini/synthetic-text/dense/seed0' is a run of model bert-mini, "
      "not of vit-digits", "allowed: a run of the same model (vit-digits), a checkpoint or scratch"]),
    ("pretrain-dataset", _set("models.vit-digits.pretrain.dataset", "glyph"),
     ["models.vit-digits.pretrain.dataset: unknown dataset 'glyph' (did you mean 'glyphs'?)"]),
    ("pretrain-is-target", _set("models.vit-digits.pretrain.dataset", "digits"),
     ["models.vit-digits.pretrain.dataset = 'digits' is also a target dataset of vit-digits",
      "allowed: a source task distinct from the target"]),
    ("pretrain-and-init", _set("training.init", "scratch"),
     ["models.vit-digits: a pretrain stage and training.init both give the starting point",
      "allowed: one of them (remove init from training)"]),
    ("pretrain-key", _set("models.vit-digits.pretrain.epochs", 3),
     ["models.vit-digits.pretrain.epochs: unknown key 'epochs'"]),
    ("scratch-without-a-pretrained-start", _both(NO_PRETRAIN, _set("dense", {"scratch": True})),
     [f"{DIGITS}: dense.scratch compares against a pretrained start, but this experiment starts from scratch already",
      "allowed: a pretrain stage or training.init, or no dense.scratch"]),
    ("model-compressors", _set("models.vit-digits.compressors", ["prune9"]),
     ["models.vit-digits.compressors: 'prune9' is not a label of `compressors` (did you mean 'prune90'?)",
      "allowed: prune90, binary"]),
    ("resources-key", _set("resources.gpus", 1), ["resources.gpus: unknown key 'gpus' (did you mean 'gpu'?)"]),
    ("dense-type", _set("dense", {"run": True, "scratch": "yes"}),
     ["dense.scratch = 'yes' is not allowed; allowed: true or false"]),
    ("start-unknown", _set("models.vit-digits.starts", ["pretrained", "fine-tuned"]),
     ["models.vit-digits.starts.1 = 'fine-tuned' is not allowed; allowed: one of pretrained, finetuned "
      "(did you mean 'finetuned'?)"]),
]


@pytest.mark.parametrize("case", WORKFLOW_CASES, ids=[c[0] for c in WORKFLOW_CASES])
def test_workflow_config_refused(case):
    _, change, fragments = case
    config = tiny_config()
    change(config)
    with pytest.raises(GridError) as caught:
        check(config, "configs/bad.yaml")
    message = str(caught.value)
    assert message.startswith("configs/bad.yaml: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_snakemake_refuses_a_bad_config_before_any_job(tmp_path):
    root = workflow.make_workflow_copy(tmp_path / "wf")
    config = tiny_config()
    config["models"]["vit-digits"]["datasets"]["digits"]["training"]["epochs"] = 0
    write_yaml(root / "configs" / "bad.yaml", config)
    result = workflow.snakemake(root, "--cores", "1", "--configfile", "configs/bad.yaml", timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "configs/bad.yaml: models.vit-digits.datasets.digits.training.epochs = 0 is not allowed; " \
           "allowed: an integer >= 1" in output, output[-3000:]
    assert not (root / "results").exists()  # nothing written


def test_bad_yaml_file_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("q: [1, 2\n")
    with pytest.raises(GridError, match=f"{bad}: not valid YAML"):
        load(bad)
