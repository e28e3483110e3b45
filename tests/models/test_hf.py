"""Hugging Face code paths, run offline on tiny checkpoints saved by the fixtures in conftest.py."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForImageClassification, AutoModelForSequenceClassification

from vcon.models import HubUnreachableError, build_model, load_tokenizer
from vcon.models import hub
from vcon.models.pretrained import HUB_MODELS

VIT_NAMES = sorted(n for n, model in HUB_MODELS.items() if model.family == "hf-vit")
BERT_NAMES = sorted(n for n, model in HUB_MODELS.items() if model.family == "hf-bert")


def test_hub_registrations() -> None:
    from vcon.models.registry import MODELS

    assert {name: (entry.hub_id, entry.family, entry.width) for name, entry in MODELS.items() if entry.hub_id} == {
        "vit-tiny": ("WinKawaks/vit-tiny-patch16-224", "hf-vit", 192),
        "vit-small": ("WinKawaks/vit-small-patch16-224", "hf-vit", 384),
        "vit-base": ("google/vit-base-patch16-224", "hf-vit", 768),
        "bert-base": ("google-bert/bert-base-uncased", "hf-bert", 768),
    }


def assert_body_equals_saved(net: torch.nn.Module, saved: torch.nn.Module) -> None:
    mine, theirs = net.state_dict(), saved.state_dict()
    body = [k for k in theirs if not k.startswith("classifier.")]
    assert body and set(mine) == set(theirs)
    for key in body:
        assert mine[key].dtype == torch.float32
        assert torch.equal(mine[key], theirs[key]), key


def saved_vit(path: Path) -> torch.nn.Module:
    return AutoModelForImageClassification.from_pretrained(path)


def saved_bert(path: Path) -> torch.nn.Module:
    return AutoModelForSequenceClassification.from_pretrained(path)


def image_batch(size: int = 8) -> torch.Tensor:
    return torch.randn(2, 3, size, size)


@pytest.mark.parametrize("how", ["path", *VIT_NAMES])
def test_vit_from_directory(vit_dir: Path, how: str) -> None:
    spec = {"channels": 3, "image_size": 8}
    if how == "path":
        model = build_model(vit_dir, num_classes=3, input_spec=spec)
    else:
        model = build_model(how, num_classes=3, input_spec=spec, init=str(vit_dir))
    assert (model.family, model.source, model.tokenizer) == ("hf-vit", str(vit_dir), None)
    assert (model.net.classifier.in_features, model.net.classifier.out_features) == (16, 3)
    assert_body_equals_saved(model.net, saved_vit(vit_dir))
    assert model(image_batch()).shape == (2, 3)


def test_vit_other_resolution_interpolates_positions(vit_dir: Path) -> None:
    model = build_model(vit_dir, num_classes=3)
    assert model(image_batch(16)).shape == (2, 3)


def test_same_head_size_keeps_saved_head(vit_dir: Path) -> None:
    saved = saved_vit(vit_dir)
    assert saved.config.num_labels == 5
    model = build_model(vit_dir, num_classes=5)
    assert torch.equal(model.net.classifier.weight, saved.classifier.weight)
    assert torch.equal(model.net.classifier.bias, saved.classifier.bias)


@pytest.mark.parametrize("how", ["path", *BERT_NAMES])
@pytest.mark.parametrize("num_classes", [1, 3])
def test_bert_from_directory(bert_dir: Path, how: str, num_classes: int) -> None:
    spec = {"max_length": 16}
    if how == "path":
        model = build_model(str(bert_dir), num_classes=num_classes, input_spec=spec)
    else:
        model = build_model(how, num_classes=num_classes, input_spec=spec, init=bert_dir)
    assert (model.family, model.source) == ("hf-bert", str(bert_dir))
    assert model.net.classifier.out_features == num_classes
    expected = "regression" if num_classes == 1 else "single_label_classification"
    assert model.net.config.problem_type == expected
    assert_body_equals_saved(model.net, saved_bert(bert_dir))
    vocab = (bert_dir / "vocab.txt").read_text().split()
    assert model.tokenizer.convert_ids_to_tokens(list(range(len(vocab)))) == vocab
    batch = model.tokenizer(["the cat sat", "on the mat dog"], padding=True, return_tensors="pt")
    assert batch["input_ids"].tolist() == [[2, 5, 6, 7, 3, 0], [2, 8, 5, 9, 1, 3]]
    assert model(batch).shape == (2, num_classes)


def test_directory_without_tokenizer(bert_dir_without_tokenizer: Path) -> None:
    model = build_model(bert_dir_without_tokenizer, num_classes=2)
    assert model.tokenizer is None


def test_registered_name_falls_back_to_hub_tokenizer(bert_dir_without_tokenizer: Path) -> None:
    with pytest.raises(HubUnreachableError, match="to load 'google-bert/bert-base-uncased'"):
        build_model("bert-base", num_classes=2, init=bert_dir_without_tokenizer)


def test_scratch_from_directory_uses_config_only(bert_dir: Path) -> None:
    torch.manual_seed(0)
    model = build_model(bert_dir, num_classes=2, init="scratch")
    saved = saved_bert(bert_dir)
    assert model.source == "scratch"
    assert model.net.config.hidden_size == saved.config.hidden_size == 16
    assert model.tokenizer is not None
    weight = "bert.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(model.net.state_dict()[weight], saved.state_dict()[weight])


@pytest.mark.parametrize("init", [None, "scratch"])
def test_same_seed_same_weights(vit_dir: Path, init: str | None) -> None:
    states = []
    for _ in range(2):
        torch.manual_seed(0)
        states.append(build_model(vit_dir, num_classes=3, init=init).state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_module_names_keep_blocks_numbered(vit_dir: Path) -> None:
    model = build_model(vit_dir, num_classes=3)
    linear = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    assert linear[:6] == [
        "net.vit.layers.0.attention.q_proj", "net.vit.layers.0.attention.k_proj",
        "net.vit.layers.0.attention.v_proj", "net.vit.layers.0.attention.o_proj",
        "net.vit.layers.0.mlp.fc1", "net.vit.layers.0.mlp.fc2",
    ]
    assert linear[-1] == "net.classifier" and len(linear) == 13


def test_family_mismatch(bert_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"holds a 'bert' model \(hf-bert\), expected a hf-vit model"):
        build_model("vit-tiny", num_classes=2, init=bert_dir)


def test_input_spec_checked_against_config(vit_dir: Path, bert_dir: Path) -> None:
    with pytest.raises(ValueError, match="takes 3-channel images, input_spec has 1 channels"):
        build_model(vit_dir, num_classes=2, input_spec={"channels": 1})
    with pytest.raises(ValueError, match="takes at most 16 tokens, input_spec max_length is 32"):
        build_model(bert_dir, num_classes=2, input_spec={"max_length": 32})


def test_unsupported_model_type(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "gpt2"}')
    with pytest.raises(ValueError, match="holds a 'gpt2' model; supported model_type values: bert, vit"):
        build_model(tmp_path, num_classes=2)


def test_directory_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="could not load a Hugging Face model from directory"):
        build_model(tmp_path, num_classes=2)


def test_bad_init(vit_dir: Path, tmp_path: Path) -> None:
    for init in [str(tmp_path / "missing"), "not a hub id"]:
        with pytest.raises(ValueError, match=f"init {init!r} is not 'pretrained', 'scratch', an existing directory"):
            build_model("vit-tiny", num_classes=2, init=init)


@pytest.mark.parametrize("name", sorted(HUB_MODELS))
@pytest.mark.parametrize("init", [None, "pretrained", "scratch"])
def test_registered_hub_model_offline(name: str, init: str | None) -> None:
    with pytest.raises(HubUnreachableError) as info:
        build_model(name, num_classes=2, init=init)
    message = str(info.value)
    assert message.startswith(f"could not reach the Hugging Face hub to load {HUB_MODELS[name].hub_id!r} ")
    assert "save_pretrained(DIR)" in message and "init=DIR" in message


def test_unregistered_hub_id_offline() -> None:
    with pytest.raises(HubUnreachableError, match="to load 'someone/some-vit' \\(offline mode is on"):
        build_model("someone/some-vit", num_classes=2)


def test_unreachable_hub_without_offline_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=hub.PROBE_TIMEOUT_S: False)
    with pytest.raises(HubUnreachableError, match="to load 'someone/some-vit' \\(there is no network\\)"):
        build_model("someone/some-vit", num_classes=2)


def test_hub_names() -> None:
    assert hub.is_hub_id("google/vit-base-patch16-224")
    assert not hub.is_hub_id("bert-base-uncased")
    assert not hub.is_hub_id("a/b/c") and not hub.is_hub_id("a--b/c") and not hub.is_hub_id("a/b c")
    assert hub.looks_like_path("./x") and hub.looks_like_path("~/x") and hub.looks_like_path(os.sep + "x")
    assert not hub.looks_like_path("owner/name")


def vocab_of(tokenizer: object) -> dict[str, int]:
    return tokenizer.get_vocab()  # type: ignore[attr-defined]


def test_load_tokenizer_matches_build_model(bert_dir: Path, vit_dir: Path) -> None:
    expected = vocab_of(build_model(bert_dir, num_classes=2).tokenizer)
    assert len(expected) == 10
    assert vocab_of(load_tokenizer(bert_dir)) == expected
    assert vocab_of(load_tokenizer("bert-base", init=bert_dir)) == expected
    assert vocab_of(load_tokenizer(bert_dir, init="scratch")) == expected
    for name, init in [("vit-digits", None), ("bert-mini", "scratch"), (vit_dir, None), ("vit-tiny", None)]:
        assert load_tokenizer(name, init) is None


def test_load_tokenizer_errors_like_build_model() -> None:
    with pytest.raises(HubUnreachableError, match="to load 'google-bert/bert-base-uncased'"):
        load_tokenizer("bert-base")
    with pytest.raises(ValueError, match="^unknown model 'bert-bse'.*did you mean 'bert-base'"):
        load_tokenizer("bert-bse")
