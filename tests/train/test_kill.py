"""`python -m vcon train` as a process: killed anywhere (SIGKILL), stopped by SIGTERM/SIGUSR1, run twice
on one folder; a diverging run's exit code. Reruns of the same cell end with the uninterrupted run's metrics."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_results import comparable

# digits at batch 32: 40 steps per epoch, 80 in all; a checkpoint every 3 steps.
CELL = ["epochs=2", "batch_size=32", "lr=2e-3", "tensorboard=false", "threads=1", "checkpoint_steps=3",
        "compressor={name: prune, sparsity: 0.9}", "method=vcon", "q=1ep"]
DOCUMENTED = ["config.yaml", "history.csv", "metrics.json", "model.pt"]
EXIT_INTERRUPTED = 75


def _start(out: Path, log: Path, *extra: str, quiet: bool = True) -> subprocess.Popen:
    command = [sys.executable, "-m", "vcon", "train", "--out", str(out), *extra]
    for item in CELL:
        command += ["--set", item]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.Popen(command + (["--quiet"] if quiet else []), stdout=subprocess.DEVNULL,
                            stderr=open(log, "w"), env=env)


def _finish(out: Path, log: Path, *extra: str) -> int:
    process = _start(out, log, *extra)
    return process.wait(timeout=300)



@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "run"
    assert _finish(out, out.parent / "log") == 0
    return json.loads((out / "metrics.json").read_text())


def _version(path: Path):
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def _wait_for_saves(process: subprocess.Popen, checkpoint: Path, saves: int) -> None:
    """Return once `process` has (re)written its checkpoint `saves` times."""
    seen, version = 0, _version(checkpoint)
    while seen < saves:
        assert process.poll() is None, "the run ended early"
        time.sleep(0.005)
        now = _version(checkpoint)
        seen, version = seen + (now != version and now is not None), now


def _resumed_step(text: str) -> int | None:
    return int(text.split("resumed from ")[1].split(" at step ")[1].split()[0]) if "resumed from " in text else None


@pytest.mark.slow
def test_killed_or_signalled_anywhere_then_rerun_loses_nothing(reference, tmp_path):
    """The same command, run again after each stop: SIGKILL 1 to 3 checkpoints plus 0 to 0.2 s into
    training (so also while a checkpoint is written), SIGKILL during start-up, SIGTERM and SIGUSR1
    (checkpoint saved, exit 75). Each rerun resumes at a later step; the end equals the uninterrupted run."""
    rng = random.Random(5)
    out = tmp_path / "run"
    checkpoint = out / "checkpoint" / "resume.pt"
    plan = ["kill", "startup", "SIGTERM", "kill", "SIGUSR1"]
    resumed, interrupted = [], {}
    for attempt, how in enumerate(plan):
        log = tmp_path / f"attempt-{attempt}.log"
        process = _start(out, log)
        if how == "startup":
            time.sleep(rng.uniform(0.1, 1.0))
        else:
            _wait_for_saves(process, checkpoint, rng.randint(1, 3))
        if how in ("kill", "startup"):
            time.sleep(rng.uniform(0.0, 0.2))
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=60) == -signal.SIGKILL
        else:
            process.send_signal(getattr(signal, how))
            assert process.wait(timeout=60) == EXIT_INTERRUPTED, log.read_text()
            text = log.read_text()
            assert f"vcon train: interrupted by {how} at step " in text
            assert f"; checkpoint saved to {checkpoint}; run the same command again to resume" in text
            interrupted[attempt] = int(text.split(f"interrupted by {how} at step ")[1].split(";")[0])
            assert not (out / "metrics.json").exists()
        resumed.append(_resumed_step(log.read_text()))
    assert _finish(out, tmp_path / "last.log") == 0
    resumed.append(_resumed_step((tmp_path / "last.log").read_text()))
    for attempt, step in interrupted.items():  # resume, not restart: at the step the signal saved
        assert resumed[attempt + 1] == step > 0
    progress = [step for step in resumed if step is not None]
    assert len(progress) >= 4 and progress == sorted(progress) and progress[0] > 0, resumed
    assert f"resumed from {checkpoint} at step " in (tmp_path / "last.log").read_text()
    assert comparable(json.loads((out / "metrics.json").read_text())) == comparable(reference)
    assert sorted(p.name for p in out.iterdir()) == DOCUMENTED


def test_second_process_on_the_same_folder_fails_fast_naming_the_holder(tmp_path, capsys):
    from vcon.cli import main

    out = tmp_path / "run"
    first = _start(out, tmp_path / "first.log")
    try:
        deadline = time.monotonic() + 60
        while f'"pid": {first.pid}' not in ((out / ".lock").read_text() if (out / ".lock").exists() else ""):
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        assert main(["train", "--out", str(out), "--quiet"]) == 2  # this process is the second one
        err = capsys.readouterr().err
        assert err.startswith(f"vcon train: error: {out} is in use by another `vcon train` (host ")
        assert f"pid {first.pid}, started " in err
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)


def test_diverging_run_exits_1_naming_step_and_epoch(tmp_path, capsys):
    from vcon.cli import main

    code = main(["train", "--out", str(tmp_path / "run"), "--quiet", "--set", "lr=1e30", "--set", "epochs=1",
                 "--set", "threads=1", "--set", "tensorboard=false"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("vcon train: error: the ") and err.endswith(
        "(epoch 1); no checkpoint was saved before; lower the learning rate (lr = 1e+30) or clip gradients "
        "(grad_clip = None)\n")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.yaml"]
