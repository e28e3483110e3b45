import pytest

from vcon.train.config import ConfigError, describe_keys, from_dict, load_config, parse_override, to_steps


def test_defaults_are_a_valid_dense_cell():
    config = from_dict({})
    assert config.model == "vit-digits" and config.is_dense


@pytest.mark.parametrize("raw,message", [
    ({"learning_rate": 0.1}, r"unknown key 'learning_rate'.*valid keys: model, dataset"),
    ({"epoch": 3}, r"unknown key 'epoch' \(did you mean 'epochs'\?\)"),
    ({"epochs": 0}, r"epochs must be > 0, got 0"),
    ({"epochs": 2.5}, r"epochs must be an integer, got 2.5"),
    ({"batch_size": -1}, r"batch_size must be > 0"),
    ({"lr": 0}, r"lr must be > 0"),
    ({"lr": "fast"}, r"lr must be a number, got 'fast'"),
    ({"q": -3}, r"q must be a step count >= 0 \(120\) or epochs written like '12ep', got -3"),
    ({"q": "12 epochs"}, r"q must be a step count"),
    ({"method": "gradual"}, r"method must be one of posthoc, iterative, vcon, got 'gradual'"),
    ({"original": "tied"}, r"original must be one of shared, frozen, copy"),
    ({"compressor": {"name": "prune", "sparsity": 1.5}}, r"compressor: prune: sparsity must be a number in \[0, 1\)"),
    ({"compressor": {"name": "ternary"}}, r"compressor: unknown compressor 'ternary'"),
    ({"seed": True}, r"seed must be an integer, got True"),
    ({"bf16": "yes"}, r"bf16 must be auto, true or false"),
    ({"compile": "yes"}, r"compile must be true or false, got 'yes'"),
    ({"image_recipe": "autors"}, r"image_recipe must be one of authors, standard, got 'autors' \(did you mean 'authors'\?\)"),
])
def test_bad_values_name_key_value_and_what_is_allowed(raw, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(raw, "cell.yaml")


def test_error_names_the_file(tmp_path):
    path = tmp_path / "cell.yaml"
    path.write_text("epochs: 0\n")
    with pytest.raises(ConfigError, match=f"{path}: epochs must be > 0"):
        load_config(path)


def test_overrides_are_yaml_values(tmp_path):
    path = tmp_path / "cell.yaml"
    path.write_text("model: vit-digits\nlr: 0.1\n")
    config, _ = load_config(path, ["lr=3e-4", "compressor={name: binary}", "q=2ep"])
    assert config.lr == 3e-4 and config.q == "2ep"
    assert config.compressor == {"name": "binary", "shares": [0.5, 0.75, 0.875], "quantized_share": "frozen",
                                 "scale": "layer", "sign_zero": "plus"}
    with pytest.raises(ConfigError, match="--set expects key=value"):
        parse_override("lr")


def test_epochs_resolve_to_steps():
    assert to_steps("12ep", 20) == 240
    assert to_steps("0.5ep", 7) == 4
    assert to_steps(17, 20) == 17


def test_help_lists_every_key_with_default():
    text = describe_keys()
    assert "epochs" in text and "(default: 10)" in text and "schedule" in text


def test_precision_is_fp32_unless_asked():
    from vcon.train.loop import bf16_enabled

    assert from_dict({}).bf16 is False
    assert [bf16_enabled(from_dict({}).bf16, device) for device in ("cuda", "cpu")] == [False, False]
    assert [bf16_enabled("auto", device) for device in ("cuda", "cpu")] == [True, False]
    assert [bf16_enabled(True, device) for device in ("cuda", "cpu")] == [True, True]


def test_an_empty_config_file_is_an_error_naming_it(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    with pytest.raises(ConfigError, match=f"{empty}: the file is empty; a cell config is a mapping"):
        load_config(empty)
