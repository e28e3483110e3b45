"""scripts/gpu-check: its smoke run goes through the trainer on the CPU, and it refuses to run the
GPU check without CUDA. (The GPU run itself needs a GPU; see the script's docstring.)"""
import importlib.util
import re
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu-check"


@pytest.fixture(scope="module")
def gpu_check():
    """The script as a module; the data set and model it registers are removed again afterwards."""
    from vcon.data.registry import DATASETS
    from vcon.models.registry import MODELS

    before = (set(DATASETS), set(MODELS))
    loader = SourceFileLoader("gpu_check", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("gpu_check", loader))
    loader.exec_module(module)
    yield module
    for registry, names in zip((DATASETS, MODELS), before):
        for name in set(registry) - names:
            registry.remove(name)


def test_is_an_executable_python_script():
    assert SCRIPT.stat().st_mode & 0o111 and SCRIPT.read_text().startswith("#!/usr/bin/env python3\n")


def test_smoke_run_checks_trajectories_and_times_every_method(gpu_check, capsys):
    assert gpu_check.main(["--device", "cpu", "--tiny", "--steps", "3", "--timing-steps", "2", "--warmup", "1",
                           "--compressors", "prune90", "binary", "lowrank16"]) == 0
    out = capsys.readouterr().out
    assert "VCON prune90, 3 steps, Q = 2" in out
    rows = re.findall(r"^\s+(\d+)  (\S+) \((\S+)\)", out, flags=re.MULTILINE)
    assert rows == [("1", "0.5000", "0.5000"), ("2", "0.0000", "0.0000"), ("3", "0.0000", "0.0000")]
    assert "WRONG" not in out and "gpu-check: all checks passed" in out
    table = out[out.index("compressor"):].splitlines()
    assert table[0].split() == ["compressor", "post-shot", "vcon-transition", "iterative"]
    assert [row.split()[0] for row in table[1:4]] == ["prune90", "binary", "lowrank16"]
    assert all(float(value) > 0 for row in table[1:4] for value in row.split()[1:])
    assert float(out.split("  dense")[1].split()[0]) > 0


def test_refuses_without_cuda(gpu_check, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main([]) == 2
    assert "no CUDA device is visible" in capsys.readouterr().err
    assert gpu_check.main(["--device", "cpu"]) == 2
    assert "add --tiny" in capsys.readouterr().err


def test_a_wrong_trajectory_fails_the_check(gpu_check, capsys, monkeypatch):
    monkeypatch.setattr(gpu_check, "expected_lr", lambda step, total: 1.0)
    assert gpu_check.main(["--device", "cpu", "--tiny", "--steps", "2", "--timing-steps", "2", "--warmup", "1",
                           "--methods", "dense"]) == 1
    out = capsys.readouterr().out
    assert "WRONG" in out and "FAILED fp32: beta/lr at step 1" in out
