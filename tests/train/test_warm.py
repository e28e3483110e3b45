"""Warm start (vcon.warm): `python -m vcon train` with VCON_WARM=1 runs the cell in a child of a
worker that imported torch and friends once. Same metrics as a cold run, signals reach the child,
a vanished caller stops its child with a checkpoint, and anything odd falls back to a cold run."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_results import comparable

from vcon.warm import worker_key
from workflow_run import private_runtime_dir, stop_warm_workers, warm_worker_log

# digits at batch 32: 40 steps per epoch; a checkpoint every 3 steps.
CELL = ["epochs=1", "batch_size=32", "tensorboard=false", "threads=1", "checkpoint_steps=3",
        "compressor={name: prune, sparsity: 0.9}", "method=vcon", "q=10"]
EXIT_INTERRUPTED = 75


@pytest.fixture
def runtime_dir():
    folder = private_runtime_dir()
    yield folder
    stop_warm_workers(folder)


def _env(runtime_dir: Path, warm: str = "1") -> dict[str, str]:
    return dict(os.environ, VCON_WARM=warm, XDG_RUNTIME_DIR=str(runtime_dir), OMP_NUM_THREADS="1",
                MKL_NUM_THREADS="1")


def _start(out: Path, env: dict[str, str], *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "vcon", "train", "--out", str(out), "--quiet"]
    for item in CELL:
        command += ["--set", item]
    return subprocess.Popen(command + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _run(out: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    process = _start(out, env, *extra)
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _results(out: Path) -> dict:
    return comparable(json.loads((out / "metrics.json").read_text()))


@pytest.fixture(scope="module")
def cold_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("cold") / "run"
    result = _run(out, dict(os.environ, VCON_WARM="0", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1"))
    assert result.returncode == 0, result.stderr
    return _results(out)


def test_warm_cells_equal_the_cold_run_and_share_one_worker(cold_reference, runtime_dir, tmp_path):
    env = _env(runtime_dir)
    folder = runtime_dir / f"vcon-warm-{os.getuid()}"
    folder.mkdir(mode=0o700)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)  # a killed worker's socket file
    stale.bind(str(folder / f"{worker_key(environ=env)}.sock"))
    stale.close()
    for name in ("first", "second"):
        result = _run(tmp_path / name, env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"vcon prune: test accuracy {cold_reference['test']['accuracy']:.4f} (")
        assert _results(tmp_path / name) == cold_reference
    log = warm_worker_log(runtime_dir)
    assert log.count(": serving ") == 1 and log.count(" request\n") == 2, log


def test_errors_and_exit_codes_come_back_from_the_child(runtime_dir, tmp_path):
    result = _run(tmp_path / "run", _env(runtime_dir), "--set", "epochs=0")
    assert result.returncode == 2
    assert result.stderr.startswith("vcon train: error: ") and "epochs" in result.stderr
    assert " request\n" in warm_worker_log(runtime_dir)


def _wait_for_checkpoint(process: subprocess.Popen, checkpoint: Path) -> None:
    deadline = time.monotonic() + 120
    while not checkpoint.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_sigterm_to_the_caller_checkpoints_the_child_and_a_rerun_resumes(cold_reference, runtime_dir, tmp_path):
    env, out = _env(runtime_dir), tmp_path / "run"
    process = _start(out, env)
    _wait_for_checkpoint(process, out / "checkpoint" / "resume.pt")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "vcon train: interrupted by SIGTERM at step " in stderr
    rerun = _run(out, env)
    assert rerun.returncode == 0, rerun.stderr
    assert _results(out) == cold_reference


def test_a_killed_caller_stops_its_child_at_a_checkpoint(cold_reference, runtime_dir, tmp_path):
    env, out = _env(runtime_dir), tmp_path / "run"
    process = _start(out, env)
    _wait_for_checkpoint(process, out / "checkpoint" / "resume.pt")
    process.kill()
    process.communicate(timeout=60)
    deadline = time.monotonic() + 60
    while (out / ".lock").exists():  # the child saves its checkpoint and releases the run
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not (out / "metrics.json").exists()
    rerun = _run(out, env)
    assert rerun.returncode == 0, rerun.stderr
    assert _results(out) == cold_reference


def test_a_socket_folder_open_to_others_means_a_cold_run(cold_reference, runtime_dir, tmp_path):
    (runtime_dir / f"vcon-warm-{os.getuid()}").mkdir(mode=0o755)
    os.chmod(runtime_dir / f"vcon-warm-{os.getuid()}", 0o755)
    result = _run(tmp_path / "run", _env(runtime_dir))
    assert result.returncode == 0, result.stderr
    assert result.stderr == (f"vcon: running without a warm start: {runtime_dir}/vcon-warm-{os.getuid()} "
                             "is open to other users\n")
    assert _results(tmp_path / "run") == cold_reference


def test_an_unusable_socket_folder_means_a_cold_run(cold_reference, tmp_path):
    not_a_folder = tmp_path / "runtime"
    not_a_folder.write_text("")
    result = _run(tmp_path / "run", _env(not_a_folder))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("vcon: running without a warm start: [Errno 20] Not a directory: ")
    assert _results(tmp_path / "run") == cold_reference


def test_worker_exits_when_idle_and_refuses_a_stale_key(runtime_dir):
    folder = runtime_dir / "w"
    folder.mkdir(mode=0o700)
    env = _env(runtime_dir)
    idle = subprocess.run([sys.executable, "-m", "vcon.warm.server", "--socket", str(folder / "a.sock"),
                           "--key", worker_key(environ=env), "--idle", "0.5"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert idle.returncode == 0, idle.stderr
    assert idle.stderr.endswith("idle for 0.5 s, exiting\n") and not list(folder.iterdir())
    stale = subprocess.run([sys.executable, "-m", "vcon.warm.server", "--socket", str(folder / "b.sock"),
                            "--key", "0" * 20], env=env, capture_output=True, text=True, timeout=300)
    assert stale.returncode == 3
    assert stale.stderr == f"vcon warm worker: sources changed during start-up; not serving {folder / 'b.sock'}\n"
    assert not list(folder.iterdir())


def test_worker_key_follows_sources_and_start_up_variables(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "sub" / "b.py").write_text("B = 1\n")
    base = worker_key(tmp_path, {})
    assert worker_key(tmp_path, {}) == base and len(base) == 20
    assert worker_key(tmp_path, {"UNRELATED": "x"}) == base
    assert worker_key(tmp_path, {"OMP_NUM_THREADS": "2"}) != base
    assert worker_key(tmp_path, {"HF_HOME": "/elsewhere"}) != base
    (tmp_path / "sub" / "b.py").write_text("B = 2\n")
    assert worker_key(tmp_path, {}) != base


def test_the_command_line_client_imports_no_torch():
    code = "import sys, vcon.cli, vcon.warm.client; print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_lazy_package_attributes_resolve():
    import vcon

    for name in vcon.__all__:
        assert getattr(vcon, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'compres'"):
        vcon.compres  # noqa: B018


def test_warm_start_only_when_asked_outside_torchrun_for_this_very_package(tmp_path):
    from vcon.warm import PACKAGE_DIR, enabled

    assert enabled(PACKAGE_DIR, {"VCON_WARM": "1"})
    assert not enabled(PACKAGE_DIR, {})
    assert not enabled(PACKAGE_DIR, {"VCON_WARM": "0"})
    assert not enabled(PACKAGE_DIR, {"VCON_WARM": "1", "LOCAL_RANK": "0"})
    assert not enabled(tmp_path, {"VCON_WARM": "1"})  # another copy of vcon (the workflow tests' fake)
