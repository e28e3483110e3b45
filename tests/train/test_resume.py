"""In-process resume: a run stopped at a step boundary and resumed ends with the uninterrupted run's
metrics exactly (timing and environment aside); damaged or foreign checkpoints are refused."""
import re
from pathlib import Path

import pytest
import torch
from run_results import comparable

from vcon.train.checkpoint import CheckpointError, read_checkpoint
from vcon.train.config import from_dict
from vcon.train.interrupt import Interrupted, StopAtStep
from vcon.train.resume import TrainingDiverged
from vcon.train.run import ResumeMismatchError, train_cell

# 1,257 digits training images at batch 128: 10 steps per epoch, 20 in all.
FAST = {"epochs": 2, "batch_size": 128, "lr": 2e-3, "tensorboard": False, "threads": 1}
CELLS = {
    "dense": {},
    "vcon-prune": {"compressor": {"name": "prune", "sparsity": 0.9}, "method": "vcon", "q": "1ep"},
    "vcon-lowrank-copy": {"compressor": {"name": "lowrank", "rank": 4}, "method": "vcon", "q": 5,
                          "original": "copy"},
    "iterative-lowrank": {"compressor": {"name": "lowrank", "rank": 4}, "method": "iterative", "iterative_t": 12},
    "vcon-lowrank-separate": {"compressor": {"name": "lowrank", "rank": 4, "bias": "separate"}, "method": "vcon",
                              "q": 5},
    "iterative-binary-inq": {"compressor": {"name": "binary"}, "method": "iterative", "iterative_t": 12},
    # a rank step at step 5, where an evaluation sets the step first; the run stops right after it
    "iterative-lowrank-step-at-eval": {"compressor": {"name": "lowrank", "rank": 4, "start_rank": 16, "rank_stages": 2},
                                       "method": "iterative", "iterative_t": 10, "eval_every": 5},
    "iterative-prune-zhu-gupta": {"compressor": {"name": "prune", "sparsity": 0.9, "gradient": "masked",
                                                 "ramp_every": 4}, "method": "iterative", "iterative_t": 12},
    "vcon-prune-every-3": {"compressor": {"name": "prune", "sparsity": 0.5, "update_every": 3}, "method": "vcon",
                           "q": 7},
    # dropout: the random states must come back too
    "bert-binary": {"model": "bert-mini", "dataset": "synthetic-text", "epochs": 1, "compressor": {"name": "binary"},
                    "method": "vcon", "q": 6},
}
# (cell, steps after which it stops): mid-epoch, after an epoch's last step but before its evaluation,
# after the original branch was released (shared and separate low-rank bias), in the middle of the
# iterative ramp (low rank; INQ with frozen shares; Zhu & Gupta's mask between two updates), between
# mask refreshes,
# with dropout.
STOPS = [("dense", [4]), ("vcon-prune", [10, 13]), ("vcon-lowrank-copy", [7]), ("iterative-lowrank", [5]),
         ("vcon-lowrank-separate", [7]), ("iterative-binary-inq", [5, 9]),
         ("iterative-prune-zhu-gupta", [6]), ("iterative-lowrank-step-at-eval", [5]),
         ("vcon-prune-every-3", [2, 8]), ("bert-binary", [9])]
DOCUMENTED = {"config.yaml", "history.csv", "metrics.json", "model.pt", "dense.pt"}


def _stop(config, out: Path, step: int) -> Interrupted:
    with pytest.raises(Interrupted) as caught:
        train_cell(config, out, quiet=True, stop=StopAtStep(step))
    return caught.value


@pytest.mark.slow
@pytest.mark.parametrize("name,stops", STOPS)
def test_stopped_and_resumed_run_equals_uninterrupted_run(tmp_path, capsys, name, stops):
    config = from_dict({**FAST, **CELLS[name]})
    reference = train_cell(config, tmp_path / "reference", quiet=True)
    out = tmp_path / "run"
    for step in stops:
        stopped = _stop(config, out, step)
        assert stopped.step == step and stopped.checkpoint == out / "checkpoint" / "resume.pt"
        assert not (out / "metrics.json").exists()
        assert read_checkpoint(stopped.checkpoint)["progress"]["step"] == step
    capsys.readouterr()
    resumed = train_cell(config, out, quiet=True)
    assert f"resumed from {out / 'checkpoint' / 'resume.pt'} at step {stops[-1]}\n" in capsys.readouterr().err
    assert comparable(resumed) == comparable(reference)
    assert resumed["timing"]["resumed"] == len(stops) and reference["timing"]["resumed"] == 0
    assert {p.name for p in out.iterdir()} <= DOCUMENTED
    assert {p.name for p in out.iterdir()} == {p.name for p in (tmp_path / "reference").iterdir()}


def test_damaged_checkpoint_is_refused_and_kept_then_force_starts_over(tmp_path):
    config = from_dict({**FAST, "epochs": 1})
    out = tmp_path / "run"
    checkpoint = _stop(config, out, 3).checkpoint
    damaged = checkpoint.read_bytes()[:-1000]
    checkpoint.write_bytes(damaged)
    with pytest.raises(CheckpointError, match=rf"{checkpoint}: truncated: .*Delete {checkpoint.parent} "
                                              r"\(or rerun with --force\) to train this run from the start"):
        train_cell(config, out, quiet=True)
    assert checkpoint.read_bytes() == damaged and not (out / "metrics.json").exists()
    assert not (out / ".lock").exists()
    metrics = train_cell(config, out, quiet=True, force=True)
    assert metrics["timing"]["resumed"] == 0 and not (out / "checkpoint").exists()


def test_checkpoint_of_another_config_is_refused_naming_the_difference(tmp_path):
    config = from_dict({**FAST, "epochs": 1, "checkpoint_steps": 2})
    out = tmp_path / "run"
    _stop(config, out, 3)
    changed = from_dict({**config.to_dict(), "lr": 1e-3})
    with pytest.raises(ResumeMismatchError, match=r"resume.pt was saved by a run of another config \(lr: 0.002 -> "
                                                  r"0.001\): restore that config to resume it, or pass --force"):
        train_cell(changed, out, quiet=True)
    # how often a run checkpoints may change between attempts
    resumed = train_cell(from_dict({**config.to_dict(), "checkpoint_steps": None}), out, quiet=True)
    assert resumed["timing"]["resumed"] == 1


def test_divergence_stops_with_step_and_epoch_and_keeps_the_last_good_checkpoint(tmp_path):
    config = from_dict({**FAST, "lr": 1e30, "warmup_steps": 0, "checkpoint_steps": 1})
    out = tmp_path / "run"
    message = r"at step (\d+) \(epoch 1\); the last good checkpoint .*resume.pt \(step \d+\) is kept; lower the learning rate"
    with pytest.raises(TrainingDiverged, match=message + r" \(lr = 1e\+30\)") as raised:
        train_cell(config, out, quiet=True)
    diverged, kept_step = map(int, re.search(r"at step (\d+) .* \(step (\d+)\)", str(raised.value)).groups())
    kept = read_checkpoint(out / "checkpoint" / "resume.pt")
    assert all(bool(torch.isfinite(t).all()) for t in kept["model"].values() if t.is_floating_point())
    assert not (out / "metrics.json").exists() and not (out / ".lock").exists()
    assert kept["progress"]["step"] == kept_step == diverged  # a checkpoint every step: the last one before it
