"""End-to-end: `vcon train` on the embedded digits and synthetic-text cells, in reduced size."""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import torch
from run_results import comparable

import vcon
from vcon.train import cli
from vcon.train.config import from_dict
from vcon.train.run import RunExistsError, train_cell

SCHEMA = json.loads((Path(vcon.__file__).parent / "train" / "metrics.schema.json").read_text())
FAST = {"epochs": 2, "batch_size": 128, "lr": 2e-3, "tensorboard": False, "threads": 1}
SPECS = {
    "prune": {"name": "prune", "sparsity": 0.9},
    "binary": {"name": "binary"},
    "quant": {"name": "quant", "bits": 3},
    "lowrank": {"name": "lowrank", "rank": 4},
}



@pytest.fixture(scope="module")
def dense_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dense")
    metrics = train_cell(from_dict({**FAST, "epochs": 3}), out, quiet=True)
    return out, metrics


def test_dense_run_writes_a_complete_folder(dense_run):
    out, metrics = dense_run
    jsonschema.validate(metrics, SCHEMA)
    assert metrics["cell"] == {"model": "vit-digits", "dataset": "digits", "compressor": "none", "method": "dense",
                               "q": 0, "schedule": "linear", "seed": 0}
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "dense.pt", "history.csv", "metrics.json"]
    assert len(metrics["history"]) == 3 and metrics["compression"] is None
    assert json.loads((out / "metrics.json").read_text()) == json.loads(json.dumps(metrics))


@pytest.mark.parametrize("method", ["posthoc", "iterative", "vcon"])
@pytest.mark.parametrize("compressor", sorted(SPECS))
def test_every_method_and_compressor(dense_run, tmp_path, compressor, method):
    dense_dir, dense = dense_run
    config = from_dict({**FAST, "init": str(dense_dir), "compressor": SPECS[compressor], "method": method,
                        "q": "1ep" if method == "vcon" else 0, "iterative_t": "1ep"})
    metrics = train_cell(config, tmp_path, quiet=True)
    jsonschema.validate(metrics, SCHEMA)
    steps_per_epoch = metrics["config"]["steps_per_epoch"]
    assert metrics["dense_reference"] == dense["test"]
    q = steps_per_epoch if method == "vcon" else 0
    assert metrics["cell"]["q"] == q
    for entry in metrics["history"]:
        assert entry["beta"] == (max(1.0 - entry["step"] / q, 0.0) if q else 0.0)  # linear: 1 - t/Q, then 0
    assert metrics["history"][-1]["beta"] == 0.0
    assert metrics["history"][-1]["val_blended"] == metrics["history"][-1]["val_compressed"]

    state = torch.load(tmp_path / "model.pt", weights_only=False)["model"]
    layers = metrics["compression"]["layers"]
    assert len(layers) == 4 * 4  # 4 blocks x (qkv, proj, fc1, fc2)
    for layer in layers:
        if compressor == "lowrank":
            first = state[f"{layer['name']}.first.weight"]
            assert first.shape[0] == 4 and layer["rank"] == 4
            continue
        weight = state[f"{layer['name']}.weight"]
        if compressor == "prune":
            assert int((weight == 0).sum()) == round(0.9 * weight.numel()) == layer["zeros"]
        elif compressor == "binary":
            assert weight.unique().numel() == 2 == layer["distinct_values"]
        else:
            assert weight.unique(dim=None).numel() <= weight.shape[0] * 7


def test_same_cell_and_seed_give_identical_metrics(dense_run, tmp_path):
    config = from_dict({**FAST, "init": str(dense_run[0]), "compressor": SPECS["prune"], "q": "1ep"})
    first = train_cell(config, tmp_path / "a", quiet=True)
    second = train_cell(config, tmp_path / "b", quiet=True)
    assert comparable(first) == comparable(second)
    other_seed = train_cell(from_dict({**config.to_dict(), "seed": 1}), tmp_path / "c", quiet=True)
    assert other_seed["test"] != first["test"]


def test_bert_mini_on_synthetic_text(tmp_path):
    config = from_dict({**FAST, "model": "bert-mini", "dataset": "synthetic-text", "compressor": SPECS["binary"],
                        "q": "1ep"})
    metrics = train_cell(config, tmp_path, quiet=True)
    jsonschema.validate(metrics, SCHEMA)
    assert metrics["metric"] == "accuracy" and set(metrics["test"]) == {"loss", "accuracy"}
    assert len(metrics["compression"]["layers"]) == 4 * 6  # 4 layers x (query, key, value, output, up, down)
    assert {layer["distinct_values"] for layer in metrics["compression"]["layers"]} == {2}


def test_complete_run_is_not_overwritten_without_force(dense_run, tmp_path):
    out, _ = dense_run
    before = (out / "metrics.json").read_bytes()
    with pytest.raises(RunExistsError, match="Pass --force"):
        train_cell(from_dict(FAST), out, quiet=True)
    assert (out / "metrics.json").read_bytes() == before


def test_q_longer_than_the_run_is_an_error_before_training(tmp_path):
    with pytest.raises(ValueError, match=r"q = '5ep' is longer than the run \(epochs = 2\)"):
        from_dict({**FAST, "compressor": SPECS["binary"], "q": "5ep"})
    # a step count longer than the run is known only once the data set is loaded
    config = from_dict({**FAST, "compressor": SPECS["binary"], "q": 500})
    with pytest.raises(ValueError, match=r"q = 500 is 500 steps, longer than the run"):
        train_cell(config, tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("override,message", [
    ("model=vit-digts", "did you mean 'vit-digits'"),
    ("dataset=digitz", "did you mean 'digits'"),
    ("method=gradual", "method = 'gradual' is not allowed; allowed: one of posthoc, iterative, vcon"),
    ("compressor={name: pruning}", "compressor.name = 'pruning' is not allowed; allowed: one of binary, lowrank, prune, "
                                   "quant (did you mean 'prune'?)"),
    ("optimiser=sgd", "unknown key 'optimiser'"),
])
def test_cli_rejects_bad_cells_before_training(tmp_path, capsys, override, message):
    """In this process (tests/safety/test_bad_configs.py runs the command in a process of its own)."""
    out = tmp_path / "run"
    args = argparse.Namespace(config=None, out=str(out), overrides=[override], force=False, quiet=True, fetched=[])
    assert cli.run(args) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_cli_help_documents_every_key():
    result = subprocess.run([sys.executable, "-m", "vcon", "train", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for key in ("model", "dataset", "compressor", "method", "q", "schedule", "original", "epochs", "lr", "seed"):
        assert f"\n  {key} " in result.stdout


def test_post_shot_trains_the_same_steps_with_the_same_schedule_as_vcon(dense_run, tmp_path):
    """Post-shot is VCON with Q = 0: the same optimizer steps, learning rate at every step, data and
    settings; only beta differs (docs/fidelity.md)."""
    dense_dir, _ = dense_run
    runs = {}
    for method, q in (("posthoc", 0), ("vcon", 7)):
        config = from_dict({**FAST, "init": str(dense_dir), "compressor": SPECS["prune"], "method": method, "q": q,
                            "eval_every": 3})
        runs[method] = train_cell(config, tmp_path / method, quiet=True)
    posthoc, vcon_run = runs["posthoc"], runs["vcon"]
    assert [(e["step"], e["lr"]) for e in posthoc["history"]] == [(e["step"], e["lr"]) for e in vcon_run["history"]]
    assert [e["step"] for e in posthoc["history"]] == [3, 6, 9, 12, 15, 18, 20]  # every 3 steps and the last
    assert posthoc["config"]["total_steps"] == vcon_run["config"]["total_steps"] == 20
    differ = {k for k in posthoc["config"] if posthoc["config"][k] != vcon_run["config"][k]}
    assert differ == {"method", "q"}
    assert [e["beta"] for e in posthoc["history"]] == [0.0] * 7
    assert [round(e["beta"], 4) for e in vcon_run["history"][:2]] == [round(1 - 3 / 7, 4), round(1 - 6 / 7, 4)]


def test_a_rank_step_resets_the_factors_optimizer_state_also_when_an_evaluation_falls_on_it(dense_run, tmp_path):
    """Rank steps at steps 5 and 10, where validations (every 5 steps) set the step first: `reset` and
    `kept` must still train differently from step 5 on, and identically before."""
    dense_dir, _ = dense_run
    runs = {}
    for rule in ("reset", "kept"):
        spec = {"name": "lowrank", "rank": 4, "start_rank": 16, "rank_stages": 2, "optimizer_state": rule}
        config = from_dict({**FAST, "init": str(dense_dir), "compressor": spec, "method": "iterative",
                            "iterative_t": 10, "eval_every": 5})
        runs[rule] = train_cell(config, tmp_path / rule, quiet=True)
    losses = {rule: [e["train_loss"] for e in run["history"]] for rule, run in runs.items()}
    assert losses["reset"][0] == losses["kept"][0]  # steps 0-4: the same training
    assert all(a != b for a, b in zip(losses["reset"][1:], losses["kept"][1:]))  # from the rank step at 5 on
