"""One cell's configuration: every key, its default and what it means, checked before any work."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vcon import lengths, schema_errors
from vcon.compressors import options as compressor_options
from vcon.data.recipes import DEFAULT_IMAGE_RECIPE, IMAGE_RECIPES
from vcon.keys import key as _key, optional as _optional, properties
from vcon.schedules import BETA_SCHEDULES
from vcon.vocabulary import METHODS, ORIGINALS, POSTHOC, VCON

DEVICES = ("auto", "cpu", "cuda")


class ConfigError(ValueError):
    """A cell config that cannot run; the message names the key, the value and what is allowed."""


POSITIVE = {"type": "integer", "minimum": 1}
LENGTH = {"description": "a step count >= 0 (120) or epochs ('12ep', '1.5ep')",
          "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": lengths.PATTERN}]}
TEXT = {"type": "string", "minLength": 1}


@dataclass
class CellConfig:
    model: str = _key("registered model name, hub id or local pretrained directory", "vit-digits", TEXT)
    dataset: str = _key("registered dataset name", "digits", TEXT)
    train_size: int | None = _key("train on this many examples, stratified and drawn by the seed; null = the whole "
                                  "training split", None, _optional(POSITIVE))
    init: str = _key("scratch | pretrained | hub id | local pretrained dir | run DIR of a dense `vcon train` (of "
                     "another dataset: all but the head, which starts new)", "scratch", TEXT)
    compressor: dict | None = _key("compressor spec, e.g. {name: prune, sparsity: 0.9}; null for a dense run", None,
                                   {"type": ["object", "null"]})  # in full: schema()
    method: str = _key("posthoc | iterative | vcon (ignored for dense runs)", "vcon", {"enum": list(METHODS)})
    q: int | str = _key("VCON transition length: optimizer steps, or epochs written '12ep'; 0 = post-shot", 0, LENGTH)
    schedule: str = _key("beta shape: " + " | ".join(BETA_SCHEDULES), "linear", {"enum": list(BETA_SCHEDULES)})
    iterative_t: int | str | None = _key("T of the iterative baseline: steps or 'Nep'; null = 20 % of the run", None,
                                         _optional(LENGTH))
    original: str = _key("original branch: shared | frozen | copy", "shared", {"enum": list(ORIGINALS)})
    layers: list | None = _key("glob patterns of the layers to compress; null = every transformer-block linear", None,
                               {"type": ["array", "null"], "items": {"type": "string"}})
    epochs: int = _key("training epochs", 10, POSITIVE)
    batch_size: int = _key("training batch size", 64, POSITIVE)
    eval_batch_size: int = _key("evaluation batch size", 512, POSITIVE)
    eval_every: int | None = _key("validate every this many optimizer steps and at the end; null = after every epoch",
                                  None, _optional(POSITIVE))
    eval_sparse_from: int | str | None = _key("from this step on (steps or 'Nep'), validate at the multiples of "
                                              "eval_sparse_every instead: often where the curves move, rarely after; "
                                              "null = never", None, _optional(LENGTH))
    eval_sparse_every: int | str | None = _key("the sparser validation interval from eval_sparse_from on: steps or "
                                               "'Nep'; null unless eval_sparse_from is set", None, _optional(LENGTH))
    lr: float = _key("AdamW peak learning rate", 1e-3, {"type": "number", "exclusiveMinimum": 0})
    weight_decay: float = _key("AdamW weight decay", 0.0, {"type": "number", "minimum": 0})
    warmup_steps: int | str = _key("linear warm-up: steps or 'Nep'", 0, LENGTH)
    min_lr: float = _key("learning rate at the end of the cosine decay", 1e-6, {"type": "number", "minimum": 0})
    grad_clip: float | None = _key("clip the gradient norm to this value; null = no clipping", None,
                                   _optional({"type": "number", "exclusiveMinimum": 0}))
    seed: int = _key("seed of the model init, the data order and augmentation", 0, {"type": "integer", "minimum": 0})
    device: str = _key("auto (CUDA when present) | cpu | cuda", "auto", {"enum": list(DEVICES)})
    bf16: str | bool = _key("bf16 autocast: false (fp32, as the authors train) | auto (on CUDA only) | "
                            "true (also on the CPU)", False, {"enum": [False, "auto", True]})
    compile: bool = _key("torch.compile the model for the training steps (evaluation runs it uncompiled)", False,
                         {"type": "boolean"})
    workers: int = _key("data-loader worker processes", 0, {"type": "integer", "minimum": 0})
    threads: int | None = _key("CPU threads for torch; null = torch's default", None, _optional(POSITIVE))
    data_root: str | None = _key("root of downloaded data sets (else the VCON_*_ROOT environment variables)", None,
                                 {"type": ["string", "null"]})
    image_size: int | None = _key("image side the data set is resized to; null = the data set's default", None,
                                  _optional(POSITIVE))
    max_length: int = _key("token limit of text data sets", 128, POSITIVE)
    augment: bool = _key("training augmentation of the data set (RandAugment/MixUp on CIFAR and ImageNet)", True,
                         {"type": "boolean"})
    image_recipe: str = _key("CIFAR/ImageNet preprocessing: authors (float tensor, squash-resize, RandAugment, "
                             "MixUp) | standard (PIL-side CIFAR; ImageNet crops and flips, no MixUp)",
                             DEFAULT_IMAGE_RECIPE, {"enum": list(IMAGE_RECIPES)})
    tensorboard: bool = _key("write TensorBoard events into DIR/tensorboard", True, {"type": "boolean"})
    checkpoint_steps: int | None = _key("save DIR/checkpoint/resume.pt every this many optimizer steps; null = off",
                                        None, _optional(POSITIVE))
    checkpoint_minutes: float | None = _key("save DIR/checkpoint/resume.pt every this many minutes; null = off", 10.0,
                                            _optional({"type": "number", "exclusiveMinimum": 0}))

    @property
    def is_dense(self) -> bool:
        return self.compressor is None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FIELDS = {f.name: f for f in dataclasses.fields(CellConfig)}
# Keys written as a length (steps or 'Nep'), kept in its canonical spelling.
LENGTH_KEYS = tuple(name for name, f in FIELDS.items() if LENGTH in (f.metadata["schema"],
                                                                      *f.metadata["schema"].get("anyOf", [])))


def describe_keys(fields: Iterable[dataclasses.Field] = FIELDS.values(), indent: str = "  ") -> str:
    """Every key with its meaning and default, for `vcon train --help`."""
    return "\n".join(f"{indent}{f.name:<16} {f.metadata['doc']} (default: {f.default!r})" for f in fields)


def describe_compressors() -> str:
    """Every compressor, a plugin's too, with the keys of its spec, for `vcon train --help`."""
    from vcon.compressors.options import OPTIONS

    blocks = [f"  {name}\n{describe_keys(dataclasses.fields(options), '    ')}" for name, options in OPTIONS.items()]
    unusable = OPTIONS.unusable()
    if unusable:
        blocks.append(f"  (declared by plugins that cannot be used: {', '.join(unusable)}; a spec naming one "
                      f"says why)")
    return "\n".join(blocks)


def parse_override(text: str) -> tuple[str, Any]:
    """'key=value' with a YAML value: `--set lr=3e-4`, `--set compressor={name: binary}`."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    try:
        return key.strip(), yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError as error:
        raise ConfigError(f"--set {key.strip()}: the value {value!r} is not valid YAML ({_first_line(error)})") from None


def _first_line(error: Exception) -> str:
    return " ".join(str(error).split())


def load_config(path: str | Path | None, overrides: list[str] = ()) -> tuple[CellConfig, str]:
    """The cell config from a YAML file plus `key=value` overrides; also returns where it came from."""
    raw: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            loaded = yaml.safe_load(path.read_text())
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: not valid YAML: {_first_line(error)}") from None
        if loaded is None:
            raise ConfigError(f"{path}: the file is empty; a cell config is a mapping of keys to values (every key "
                              f"and its default: vcon train --help); to train the defaults, leave out --config")
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: a cell config is a mapping of keys to values, got {type(loaded).__name__}")
        raw.update(loaded)
        source = str(path)
    for text in overrides:
        key, value = parse_override(text)
        raw[key] = value
    return from_dict(raw, source), source


def schema() -> dict[str, Any]:
    """The JSON schema of a cell config, from the keys of CellConfig (the workflow's `training` blocks too)
    and the compressors' options."""
    keys = {**properties(CellConfig), "compressor": _optional(compressor_options.schema())}
    return {"type": "object", "additionalProperties": False, "properties": keys}


def from_dict(raw: dict[str, Any], source: str = "config") -> CellConfig:
    """Check every key and value (the schema: types, ranges, choices; then what needs the registries)
    and build the config."""
    raw = schema_errors.numbers_from_text(raw, schema())
    lines = compressor_options.unusable(raw.get("compressor"), "compressor") or schema_errors.problems(raw, schema())
    if lines:
        raise ConfigError(schema_errors.message(lines, source))
    values = {name: f.default for name, f in FIELDS.items()}
    values.update(raw)
    for key in ("lr", "weight_decay", "min_lr", "grad_clip", "checkpoint_minutes"):
        values[key] = None if values[key] is None else float(values[key])
    for key in LENGTH_KEYS:
        if values[key] is not None:
            values[key] = lengths.parse(values[key], key).value
    if values["compressor"] is not None:
        from vcon.compressors import SpecError, from_spec

        try:
            values["compressor"] = from_spec(values["compressor"]).to_spec()
        except SpecError as error:
            raise ConfigError(schema_errors.message(str(error).splitlines(), source)) from None
    if values["min_lr"] > values["lr"]:
        raise ConfigError(f"{source}: min_lr = {values['min_lr']!r} is not allowed; allowed: at most lr "
                          f"({values['lr']!r})")
    check_sparse_evaluation(values, source)
    _check_lengths(values, source)
    _check_names(values, source)
    return CellConfig(**values)


def check_sparse_evaluation(values: dict[str, Any], source: str) -> None:
    """eval_sparse_from and eval_sparse_every come together; the interval is at least a step. Either
    may be longer than the run: the validation then never gets sparse, or only at the end."""
    start, every = values.get("eval_sparse_from"), values.get("eval_sparse_every")
    if (start is None) != (every is None):
        given, missing = ("eval_sparse_from", "eval_sparse_every") if every is None else \
            ("eval_sparse_every", "eval_sparse_from")
        raise ConfigError(f"{source}: {given} = {values[given]!r} needs {missing}: validation every eval_every steps "
                          f"until eval_sparse_from, then every eval_sparse_every steps; set both, or neither")
    if every is not None and lengths.parse(every).is_zero:
        raise ConfigError(f"{source}: eval_sparse_every = {every!r} is not allowed; allowed: at least 1 step, or "
                          f"epochs ('2ep')")


def _check_lengths(values: dict[str, Any], source: str) -> None:
    """What can be told before the data is loaded: lengths in epochs against `epochs`, and a Q
    that a post-shot run would ignore. Lengths in steps are checked once the steps per epoch are known."""
    compressed = values["compressor"] is not None
    if compressed and values["method"] == POSTHOC and not lengths.parse(values["q"]).is_zero:
        raise ConfigError(f"{source}: q = {values['q']!r} is not allowed for method posthoc (Q = 0 is post-shot); "
                          f"allowed: 0, or method vcon for Q > 0")
    keys = ["warmup_steps", "iterative_t"] + (["q"] if compressed and values["method"] == VCON else [])
    for key in keys:
        epochs = None if values[key] is None else lengths.parse(values[key]).epochs
        if epochs is not None and epochs > values["epochs"]:
            raise ConfigError(f"{source}: {key} = {values[key]!r} is longer than the run (epochs = {values['epochs']}); "
                              f"allowed: at most {values['epochs']}ep, or the run's steps")


def _check_names(values: dict[str, Any], source: str) -> None:
    """Model and dataset must name something that exists (registry, local directory or hub id)."""
    from vcon.data.registry import DATASETS
    from vcon.models.build import unregistered_source
    from vcon.models.registry import MODELS

    if values["dataset"] not in DATASETS:
        raise ConfigError(f"{source}: dataset: {DATASETS.unknown(values['dataset'])}")
    if values["model"] not in MODELS:
        try:
            unregistered_source(values["model"])
        except ValueError as error:
            raise ConfigError(f"{source}: model: {error}") from None


def to_steps(value: int | str, steps_per_epoch: int) -> int:
    """Steps from an int or an 'Nep' string (rounded to the nearest step)."""
    return lengths.to_steps(value, steps_per_epoch)
