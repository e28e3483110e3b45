import pytest

from vcon.train.config import ConfigError, describe_keys, from_dict, load_config, parse_override, to_steps


def test_defaults_are_a_valid_dense_cell():
    config = from_dict({})
    assert config.model == "vit-digits" and config.is_dense


@pytest.mark.parametrize("raw,message", [
    ({"learning_rate": 0.1}, r"learning_rate: unknown key 'learning_rate'.*allowed keys: model, dataset"),
    ({"epoch": 3}, r"unknown key 'epoch' \(did you mean 'epochs'\?\)"),
    ({"epochs": 0}, r"epochs = 0 is not allowed; allowed: an integer >= 1"),
    ({"epochs": 2.5}, r"epochs = 2.5 is not allowed; allowed: an integer"),
    ({"batch_size": -1}, r"batch_size = -1 is not allowed; allowed: an integer >= 1"),
    ({"lr": 0}, r"lr = 0 is not allowed; allowed: a number > 0"),
    ({"lr": "fast"}, r"lr = 'fast' is not allowed; allowed: a number"),
    ({"q": -3}, r"q = -3 is not allowed; allowed: a step count >= 0 \(120\) or epochs \('12ep', '1.5ep'\)"),
    ({"q": "12 epochs"}, r"q = '12 epochs' is not allowed"),
    ({"method": "gradual"}, r"method = 'gradual' is not allowed; allowed: one of posthoc, iterative, vcon"),
    ({"original": "tied"}, r"original = 'tied' is not allowed; allowed: one of shared, frozen, copy"),
    ({"compressor": {"name": "prune", "sparsity": 1.5}},
     r"compressor.sparsity = 1.5 is not allowed; allowed: a number < 1"),
    ({"compressor": {"name": "ternary"}}, r"compressor.name = 'ternary' is not allowed; allowed: one of binary, lowrank, "
                                          r"prune, quant \(did you mean 'binary'\?\)"),
    ({"seed": True}, r"seed = True is not allowed; allowed: an integer"),
    ({"bf16": "yes"}, r"bf16 = 'yes' is not allowed; allowed: one of false, auto, true"),
    ({"compile": "yes"}, r"compile = 'yes' is not allowed; allowed: true or false"),
    ({"image_recipe": "autors"}, r"image_recipe = 'autors' is not allowed; allowed: one of authors, standard "
                                 r"\(did you mean 'authors'\?\)"),
    ({"layers": ["*.qkv", 3]}, r"layers.1 = 3 is not allowed; allowed: a string"),
    ({"eval_sparse_from": "9ep"}, r"eval_sparse_from = '9ep' needs eval_sparse_every: validation every eval_every "
                                  r"steps until eval_sparse_from, then every eval_sparse_every steps; set both"),
    ({"eval_sparse_every": 20}, r"eval_sparse_every = 20 needs eval_sparse_from"),
    ({"eval_sparse_from": 60, "eval_sparse_every": 0}, r"eval_sparse_every = 0 is not allowed; allowed: at least 1 "
                                                       r"step, or epochs \('2ep'\)"),
    ({"eval_sparse_from": "late", "eval_sparse_every": 5}, r"eval_sparse_from = 'late' is not allowed; allowed: null or a "
                                                          r"step count >= 0"),
])
def test_bad_values_name_key_value_and_what_is_allowed(raw, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(raw, "cell.yaml")


def test_error_names_the_file(tmp_path):
    path = tmp_path / "cell.yaml"
    path.write_text("epochs: 0\n")
    with pytest.raises(ConfigError, match=f"{path}: epochs = 0 is not allowed"):
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


def test_sparse_evaluation_lengths_keep_their_canonical_spelling_and_may_outlast_the_run():
    config = from_dict({"epochs": 3, "eval_every": 5, "eval_sparse_from": " 9 EP ", "eval_sparse_every": 20.0})
    assert (config.eval_sparse_from, config.eval_sparse_every) == ("9ep", 20)


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


def test_every_problem_of_a_config_is_named_at_once():
    with pytest.raises(ConfigError) as caught:
        from_dict({"epochs": 0, "lr": "fast"}, "cell.yaml")
    assert str(caught.value).splitlines() == ["cell.yaml: epochs = 0 is not allowed; allowed: an integer >= 1",
                                              "cell.yaml: lr = 'fast' is not allowed; allowed: a number"]


def test_yaml_1_1_numbers_written_without_a_dot_are_numbers():
    assert from_dict({"lr": "3e-4", "min_lr": "1e-6"}).lr == 3e-4
