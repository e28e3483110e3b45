"""The parts of resume that need no training: checkpoint file, data order, lock, random states."""
import os
import random
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from vcon.train.batches import EpochBatches, shard
from vcon.train.checkpoint import (CheckpointError, config_difference, read_checkpoint, rng_state, set_rng_state,
                                   write_checkpoint)
from vcon.train.lock import RunLock, RunLockedError


def _state():
    return {"config": {"lr": 0.001}, "model": {"w": torch.arange(1000, dtype=torch.float32)}, "step": 7}


def test_checkpoint_round_trip_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "checkpoint" / "resume.pt"
    write_checkpoint(path, _state())
    loaded = read_checkpoint(path)
    assert loaded["step"] == 7 and torch.equal(loaded["model"]["w"], torch.arange(1000, dtype=torch.float32))
    assert [p.name for p in path.parent.iterdir()] == ["resume.pt"]


@pytest.mark.parametrize("damage,problem", [
    (lambda data: data[:-100], r"truncated: \d+ of \d+ payload bytes"),
    (lambda data: data[:40], "not a vcon checkpoint or truncated inside its header"),
    (lambda data: data[:-500] + bytes([data[-500] ^ 1]) + data[-499:], "corrupted: its sha256 does not match"),
    (lambda data: b"PK" + data[2:], "not a vcon checkpoint"),
])
def test_damaged_checkpoint_is_reported_with_file_problem_and_fix(tmp_path, damage, problem):
    path = tmp_path / "resume.pt"
    write_checkpoint(path, _state())
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError, match=problem) as caught:
        read_checkpoint(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert "or rerun with --force) to train this run from the start" in str(caught.value)


def test_config_difference_names_keys_and_ignores_checkpoint_frequency():
    saved = {"lr": 0.001, "epochs": 3, "checkpoint_steps": 5, "checkpoint_minutes": 10.0}
    current = {"lr": 0.002, "epochs": 3, "checkpoint_steps": None, "checkpoint_minutes": 1.0}
    assert config_difference(saved, current) == ["lr: 0.001 -> 0.002"]
    assert config_difference(saved, dict(saved)) == []


def test_random_states_round_trip():
    random.seed(3), np.random.seed(3), torch.manual_seed(3)
    state = rng_state()
    first = (random.random(), np.random.rand(), torch.rand(2))
    set_rng_state(state)
    again = (random.random(), np.random.rand(), torch.rand(2))
    assert first[:2] == again[:2] and torch.equal(first[2], again[2])


def test_epoch_order_is_a_function_of_seed_and_epoch_and_resumes_mid_epoch():
    batches = EpochBatches(10, 4, seed=1)
    batches.set_position(2)
    epoch2 = list(batches)
    assert [len(b) for b in epoch2] == [4, 4, 2] and sorted(sum(epoch2, [])) == list(range(10))
    other = EpochBatches(10, 4, seed=1)
    other.set_position(2, start=1)
    assert list(other) == epoch2[1:] and len(other) == 2
    other.set_position(1)
    assert list(other) != epoch2
    seed2 = EpochBatches(10, 4, seed=2)
    seed2.set_position(2)
    assert list(seed2) != epoch2


def test_ranks_share_each_global_batch():
    whole = EpochBatches(11, 4, seed=0)
    ranks = [EpochBatches(11, 4, seed=0, rank=r, world=2) for r in range(2)]
    for global_batch, *shares in zip(whole, *ranks):
        assert sum(shares, []) == global_batch
    assert [shard(3, r, 2) for r in range(2)] == [(0, 2), (2, 3)]
    with pytest.raises(ValueError, match="batch_size = 6 is the global batch and must be divisible by the number "
                                         r"of processes \(4\)"):
        EpochBatches(100, 6, seed=0, world=4)
    with pytest.raises(ValueError, match=r"the last batch of each epoch holds 1 examples \(9 % 4\), fewer than the 2"):
        EpochBatches(9, 4, seed=0, world=2)


def test_lock_names_its_holder_and_is_removed_on_release(tmp_path):
    with RunLock(tmp_path):
        assert f'"pid": {os.getpid()}' in (tmp_path / ".lock").read_text()
        with pytest.raises(RunLockedError, match=rf"{tmp_path} is in use by another `vcon train` \(host .+, "
                                                 rf"pid {os.getpid()}, started .+\); wait for it"):
            RunLock(tmp_path).acquire()
    assert not (tmp_path / ".lock").exists()
    with RunLock(tmp_path):
        pass


def test_a_killed_holder_does_not_block_the_next_run(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from vcon.train.lock import RunLock; "
         "RunLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)", str(tmp_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=f"pid {holder.pid}"):
            RunLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert (tmp_path / ".lock").exists()  # left behind by the killed holder, but no longer locked
    with RunLock(tmp_path):
        assert f'"pid": {os.getpid()}' in (tmp_path / ".lock").read_text()
