"""Loading Hugging Face ViT / BERT classifiers from a hub id or a save_pretrained directory.

`init` picks the weights: "pretrained" (default) those of `source`, "scratch" random weights on
the config of `source`, anything else a hub id or directory to take config and weights from.
The classification head is sized to the task (re-initialised when its shape differs).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from vcon.models import hub
from vcon.models.classifier import Classifier
from vcon.models.spec import check_num_classes, problem_type

FAMILY_OF_MODEL_TYPE = {"vit": "hf-vit", "bert": "hf-bert"}
# transformers is imported inside the functions: it takes seconds, and image-only runs never need it.
HEAD_CLASS = {"hf-vit": "ViTForImageClassification", "hf-bert": "BertForSequenceClassification"}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt")


def build_hf(
    source: str,
    num_classes: int,
    input_spec: Mapping[str, Any],
    init: str | None,
    family: str | None = None,
) -> Classifier:
    """Build a classifier of `family` (None: detected from the config's model_type) from `source`."""
    import transformers

    check_num_classes(num_classes)
    weights = _weights_source(source, init)
    config_source = weights or source
    local_only = hub.local_files_only(config_source)
    with hub.loading(config_source, local_only):
        config = transformers.AutoConfig.from_pretrained(
            config_source,
            local_files_only=local_only,
            num_labels=num_classes,
            problem_type=problem_type(num_classes),
        )
    family = _check_family(config, config_source, family)
    _check_input_spec(config, family, input_spec, config_source)
    head_class = getattr(transformers, HEAD_CLASS[family])
    if weights is None:
        net = head_class(config)
    else:
        with hub.loading(weights, local_only):
            net = head_class.from_pretrained(
                weights,
                config=config,
                ignore_mismatched_sizes=True,
                dtype=torch.float32,
                local_files_only=local_only,
            )
    tokenizer = _load_tokenizer(weights, source) if family == "hf-bert" else None
    origin = "scratch" if weights is None else _display(weights)
    return Classifier(net, family, num_classes, source=origin, tokenizer=tokenizer)


def hf_tokenizer(source: str, init: str | None, family: str | None = None) -> Any | None:
    """The tokenizer `build_hf(source, ..., init, family)` would attach, without building the model."""
    import transformers

    if family is None:
        weights = _weights_source(source, init)
        config_source = weights or source
        local_only = hub.local_files_only(config_source)
        with hub.loading(config_source, local_only):
            config = transformers.AutoConfig.from_pretrained(config_source, local_files_only=local_only)
        family = _check_family(config, config_source, None)
    return _load_tokenizer(_weights_source(source, init), source) if family == "hf-bert" else None


def _weights_source(source: str, init: str | None) -> str | None:
    if init in (None, "pretrained"):
        return source
    if init == "scratch":
        return None
    init = os.fspath(init)
    if hub.is_local_dir(init):
        return os.path.expanduser(init)
    if hub.looks_like_path(init) or not hub.is_hub_id(init):
        raise ValueError(
            f"init {init!r} is not 'pretrained', 'scratch', an existing directory or a hub id (owner/name)"
        )
    return init


def _check_family(config: Any, source: str, family: str | None) -> str:
    found = FAMILY_OF_MODEL_TYPE.get(config.model_type)
    if found is None:
        raise ValueError(
            f"{source!r} holds a {config.model_type!r} model; supported model_type values: "
            f"{', '.join(sorted(FAMILY_OF_MODEL_TYPE))}"
        )
    if family is not None and found != family:
        raise ValueError(f"{source!r} holds a {config.model_type!r} model ({found}), expected a {family} model")
    return found


def _check_input_spec(config: Any, family: str, input_spec: Mapping[str, Any], source: str) -> None:
    if family == "hf-vit":
        channels = input_spec.get("channels")
        if channels is not None and channels != config.num_channels:
            raise ValueError(
                f"{source!r} takes {config.num_channels}-channel images, input_spec has {channels} channels"
            )
        return
    max_length = input_spec.get("max_length")
    if max_length is not None and max_length > config.max_position_embeddings:
        raise ValueError(
            f"{source!r} takes at most {config.max_position_embeddings} tokens, input_spec max_length is {max_length}"
        )
    vocab_size = input_spec.get("vocab_size")
    if vocab_size is not None and vocab_size > config.vocab_size:
        raise ValueError(f"{source!r} has a vocabulary of {config.vocab_size}, input_spec vocab_size is {vocab_size}")


def _load_tokenizer(weights: str | None, source: str) -> Any | None:
    """The tokenizer saved with the weights; else that of the default `source`; None when neither has one."""
    import transformers

    for candidate in dict.fromkeys(c for c in (weights, source) if c is not None):
        if hub.is_local_dir(candidate):
            if any(os.path.isfile(os.path.join(candidate, f)) for f in TOKENIZER_FILES):
                with hub.loading(candidate, local_only=True):
                    return transformers.AutoTokenizer.from_pretrained(candidate)
            continue
        local_only = hub.local_files_only(candidate)
        with hub.loading(candidate, local_only):
            return transformers.AutoTokenizer.from_pretrained(candidate, local_files_only=local_only)
    return None


def _display(weights: str) -> str:
    return os.path.abspath(weights) if hub.is_local_dir(weights) else weights
