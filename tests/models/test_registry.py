from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from vcon.models import Classifier, build_model, list_models, register_model
from vcon.models import registry

REGISTERED = ["bert-base", "bert-mini", "vit-base", "vit-digits", "vit-small", "vit-tiny"]
CHOICES = "registered models: " + ", ".join(REGISTERED)


def test_list_models_is_sorted_and_complete() -> None:
    assert list_models() == REGISTERED


@pytest.fixture
def toy_registration() -> Iterator[str]:
    name = "toy-linear"

    @register_model(name)
    def build(num_classes: int, input_spec: dict, init: str | None) -> Classifier:
        net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(input_spec["image_size"] ** 2, num_classes))
        return Classifier(net, "timm-vit", num_classes, source=init or "scratch")

    yield name
    registry.MODELS.remove(name)


def test_register_model_makes_a_name_buildable(toy_registration: str) -> None:
    assert toy_registration in list_models()
    model = build_model(toy_registration, num_classes=4, input_spec={"image_size": 3})
    assert model(torch.zeros(2, 1, 3, 3)).shape == (2, 4)
    assert (model.family, model.source, model.tokenizer) == ("timm-vit", "scratch", None)


def test_register_model_rejects_duplicates() -> None:
    with pytest.raises(ValueError, match="'vit-digits' is already registered"):
        register_model("vit-digits")(lambda num_classes, input_spec, init: None)


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(ValueError) as info:
        build_model("vit-digit", num_classes=10)
    assert str(info.value) == (
        "unknown model 'vit-digit' (did you mean 'vit-digits'?): not a registered name, an existing directory or a "
        f"hub id (owner/name); {CHOICES}"
    )


def test_unknown_name_without_close_match_lists_names() -> None:
    with pytest.raises(ValueError) as info:
        build_model("resnet50", num_classes=10)
    assert str(info.value).endswith(f"(owner/name); {CHOICES}")
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize("relative", ["missing", "nested/missing/dir"])
def test_missing_directory(tmp_path: Path, relative: str) -> None:
    missing = str(tmp_path / relative)
    with pytest.raises(ValueError) as info:
        build_model(missing, num_classes=10)
    assert str(info.value) == f"model directory {missing!r} does not exist; {CHOICES}"


def test_missing_relative_directory_suggests_names() -> None:
    with pytest.raises(ValueError, match=r"^model directory './bert-mni' does not exist \(did you mean 'bert-mini'\?\)"):
        build_model("./bert-mni", num_classes=2)


@pytest.mark.parametrize("num_classes", [0, -1, 2.0, True])
def test_num_classes_must_be_positive_int(num_classes: object) -> None:
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        build_model("vit-digits", num_classes=num_classes)  # type: ignore[arg-type]


@pytest.mark.parametrize("name, input_spec", [("vit-digits", {"channels": 1, "image_size": 8}),
                                              ("bert-mini", {"vocab_size": 100, "max_length": 32})])
def test_declared_width_is_the_smallest_compressed_layer(name, input_spec):
    """The registry's width bounds a low-rank rank before any job; it is the built model's."""
    from vcon.selection import select_layers

    model = build_model(name, 10, input_spec)
    smallest = min(min(layer.weight.shape) for layer in select_layers(model).values())
    assert smallest == registry.MODELS.get(name).width == 64
