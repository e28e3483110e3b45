"""vcon.integrations.hf.VconCallback with a real transformers.Trainer: bert-mini built from its config
(vcon.models) on a few synthetic-text sentences (vcon.data), on the CPU, tiny sizes."""
from __future__ import annotations

import pytest
import torch
from transformers import Trainer, TrainerCallback, TrainingArguments

import vcon
from vcon.data import DatasetOptions, build_dataset
from vcon.exporting import CompressedLinear
from vcon.integrations.hf import VconCallback
from vcon.models import build_model

SENTENCES = 48  # 6 batches of 8: 3 optimizer steps an epoch with 2 batches accumulated per step
PRUNE = {"name": "prune", "sparsity": 0.5}
# bert-mini compresses 4 layers of q, k, v, attention output (64 x 64), intermediate (128 x 64) and
# output (64 x 128): 32,768 weights each, 448 bias entries.
WEIGHTS, BIASES = 4 * 32768, 4 * 448


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as the tiny configs run cells: two threads on two shared cores are ten times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    bundle = build_dataset("synthetic-text", DatasetOptions(train_size=SENTENCES, seed=0))

    def collate(items):
        inputs, labels = bundle.collate_fn(items)
        return {**inputs, "labels": labels}

    return bundle, collate


def _model(data, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model("bert-mini", 2, data[0].input_spec).net  # a BertForSequenceClassification


def _trainer(data, tmp_path, callbacks, seed: int = 0) -> Trainer:
    args = TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=8, gradient_accumulation_steps=2,
                             max_steps=6, learning_rate=1e-3, logging_steps=2, save_strategy="steps", save_steps=3,
                             use_cpu=True, report_to="none", disable_tqdm=True, seed=0, dataloader_num_workers=0,
                             remove_unused_columns=False)
    bundle, collate = data
    return Trainer(model=_model(data, seed), args=args, train_dataset=bundle.train, data_collator=collate,
                   callbacks=callbacks)


class BetaSeen(TrainerCallback):
    """Records the beta and the step every training batch runs with (a forward pre-hook on one
    compressed layer)."""

    def __init__(self) -> None:
        self.betas: list[float] = []
        self.steps: list[int] = []

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        vcon.vanishing_layers(model)[0].register_forward_pre_hook(self.record)

    def record(self, layer, inputs) -> None:
        if layer.training:
            self.betas.append(layer.beta)
            self.steps.append(layer.step)


class Interrupted(Exception):
    pass


class InterruptAfterSave(TrainerCallback):
    """Stops the training like a kill right after the checkpoint of step `step` is written."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise Interrupted


def test_beta_is_set_per_optimizer_step_and_logged(data, tmp_path):
    seen = BetaSeen()
    callback = VconCallback(PRUNE, q=8)
    trainer = _trainer(data, tmp_path, [callback, seen])
    trainer.train()
    # q = 8: beta = 1 - step / 8 at optimizer steps 0..5, each for both accumulated batches
    assert seen.betas == [1.0, 1.0, 0.875, 0.875, 0.75, 0.75, 0.625, 0.625, 0.5, 0.5, 0.375, 0.375]
    assert seen.steps == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert [(entry["step"], entry["vcon/beta"]) for entry in logged] == [(2, 0.75), (4, 0.5), (6, 0.25)]
    for entry in logged:
        assert (entry["vcon/sparsity"], entry["vcon/params_compressed"]) == (0.5, WEIGHTS // 2 + BIASES)
        assert 0.0 < entry["vcon/bytes_ratio"] < 1.0 and entry["vcon/bytes_compressed"] > 0


def test_the_end_exports_the_compressed_model_with_exact_sparsity(data, tmp_path):
    compact = tmp_path / "small.safetensors"
    callback = VconCallback({"name": "prune", "sparsity": 0.75, "granularity": "row"}, q=0, compact=compact)
    _trainer(data, tmp_path / "out", [callback]).train()
    layers = [m for m in callback.exported.modules() if isinstance(m, CompressedLinear)]
    assert len(layers) == 24 and sum(layer.weight.numel() for layer in layers) == WEIGHTS
    assert sum(int((layer.weight == 0).sum()) for layer in layers) == WEIGHTS * 3 // 4
    # round(0.75 * in_features) zeros in every row
    assert all(((layer.weight == 0).sum(dim=1) == layer.in_features * 3 // 4).all() for layer in layers)
    loaded = vcon.load_compact(compact, callback.exported)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), callback.exported.state_dict().values()))


def test_a_resume_after_an_interruption_ends_with_the_same_weights(data, tmp_path):
    whole = _trainer(data, tmp_path / "whole", [VconCallback(PRUNE, q=4)])
    whole.train()

    stop = _trainer(data, tmp_path / "stopped", [VconCallback(PRUNE, q=4), InterruptAfterSave(3)])
    with pytest.raises(Interrupted):
        stop.train()
    seen = BetaSeen()
    again = _trainer(data, tmp_path / "stopped", [VconCallback(PRUNE, q=4), seen], seed=1)  # other init weights
    again.train(resume_from_checkpoint=str(tmp_path / "stopped" / "checkpoint-3"))
    assert (seen.betas, seen.steps) == ([0.25, 0.25, 0.0, 0.0, 0.0, 0.0], [3, 3, 4, 4, 5, 5])  # q = 4
    expected, resumed = whole.model.state_dict(), again.model.state_dict()
    assert list(expected) == list(resumed)
    assert all(torch.equal(expected[key], resumed[key]) for key in expected)


def test_a_callback_added_after_the_trainer_is_made_says_so(data, tmp_path):
    trainer = _trainer(data, tmp_path, [])
    trainer.add_callback(VconCallback(PRUNE, q=4))
    with pytest.raises(RuntimeError, match=r"^VconCallback compresses the model when the Trainer is made; pass it in "
                                           r"Trainer\(\.\.\., callbacks=\[VconCallback\(\.\.\.\)\]\), not with "
                                           r"trainer\.add_callback$"):
        trainer.train()


@pytest.mark.parametrize("arguments,error,message", [
    (({"name": "prun"}, 4), vcon.SpecError, r"^compressor.name = 'prun' is not allowed; allowed: one of binary, "
                                            r"lowrank, prune, quant \(did you mean 'prune'\?\)$"),
    ((PRUNE, -1), ValueError, r"^VconCallback: q = -1 is not allowed; allowed: optimizer steps, an integer >= 0$"),
    ((PRUNE, "12ep"), ValueError, r"^VconCallback: q = '12ep' is not allowed"),
])
def test_bad_arguments_are_refused_when_the_callback_is_made(arguments, error, message):
    with pytest.raises(error, match=message):
        VconCallback(*arguments)


def test_an_unknown_schedule_is_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match=r"^VconCallback: unknown schedule 'cosin' \(did you mean 'cosine'\?\); "
                                         r"allowed: linear, cosine, exponential, staircase$"):
        VconCallback(PRUNE, q=4, schedule="cosin")
