import pytest
import torch
from torch.utils.data import random_split

from vcon.data.roots import configured_root, find_data
from vcon.data.splits import halves


def test_precedence_config_then_dataset_variable_then_data_root(tmp_path, monkeypatch):
    assert configured_root(None, "VCON_X_ROOT") is None
    monkeypatch.setenv("VCON_DATA_ROOT", str(tmp_path / "all"))
    assert configured_root(None, "VCON_X_ROOT") == (tmp_path / "all", "environment variable VCON_DATA_ROOT")
    monkeypatch.setenv("VCON_X_ROOT", str(tmp_path / "x"))
    assert configured_root(None, "VCON_X_ROOT") == (tmp_path / "x", "environment variable VCON_X_ROOT")
    assert configured_root(tmp_path / "cfg", "VCON_X_ROOT") == (tmp_path / "cfg", "config key data_root")


def test_find_data_in_base_or_subdir(tmp_path):
    (tmp_path / "sub" / "a").mkdir(parents=True)
    assert find_data("x", tmp_path, "VCON_X_ROOT", ["a"], subdirs=["sub"]) == tmp_path / "sub"
    (tmp_path / "a").mkdir()
    assert find_data("x", tmp_path, "VCON_X_ROOT", ["a"], subdirs=["sub"]) == tmp_path
    assert find_data("x", tmp_path, "VCON_X_ROOT", ["a"], subdirs=["sub"], include_base=False) == tmp_path / "sub"


def test_error_names_every_candidate_and_setting(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        find_data("x", tmp_path, "VCON_X_ROOT", ["a", "b"], subdirs=["sub"], how_to_get="ask Bob.")
    message = str(info.value)
    assert f"in {tmp_path} or {tmp_path / 'sub'}" in message and "Expected a, b" in message
    assert "config key data_root" in message and "VCON_X_ROOT or VCON_DATA_ROOT" in message
    assert message.endswith("To get the data: ask Bob.")


def test_halves_are_cut_under_seed_42():
    val, test = halves(list(range(11)))
    reference = random_split(list(range(11)), [5, 6], generator=torch.Generator().manual_seed(42))
    assert (val.indices, test.indices) == (reference[0].indices, reference[1].indices)
    torch.manual_seed(123)  # the global generator plays no part
    assert halves(list(range(11)))[0].indices == val.indices
