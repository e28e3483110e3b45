"""One cell's configuration: every key, its default and what it means, checked before any work."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vcon import lengths
from vcon.methods import METHODS
from vcon.names import did_you_mean
from vcon.schedules import BETA_SCHEDULES

from vcon.data.recipes import DEFAULT_IMAGE_RECIPE, IMAGE_RECIPES

ORIGINALS = ("shared", "frozen", "copy")
DEVICES = ("auto", "cpu", "cuda")


class ConfigError(ValueError):
    """A cell config that cannot run; the message names the key, the value and what is allowed."""


def _doc(text: str, default: Any = None, **kwargs: Any) -> Any:
    return field(default=default, metadata={"doc": text}, **kwargs)


@dataclass
class CellConfig:
    model: str = _doc("registered model name, hub id or local pretrained directory", "vit-digits")
    dataset: str = _doc("registered dataset name", "digits")
    train_size: int | None = _doc("train on this many examples, stratified and drawn by the seed; null = the whole "
                                  "training split", None)
    init: str = _doc("scratch | pretrained | hub id | local pretrained dir | run DIR of a dense `vcon train` (of "
                     "another dataset: all but the head, which starts new)", "scratch")
    compressor: dict | None = _doc("compressor spec, e.g. {name: prune, sparsity: 0.9}; null for a dense run", None)
    method: str = _doc("posthoc | iterative | vcon (ignored for dense runs)", "vcon")
    q: int | str = _doc("VCON transition length: optimizer steps, or epochs written '12ep'; 0 = post-shot", 0)
    schedule: str = _doc("beta shape: linear | cosine | exponential | staircase", "linear")
    iterative_t: int | str | None = _doc("T of the iterative baseline: steps or 'Nep'; null = 20 % of the run", None)
    original: str = _doc("original branch: shared | frozen | copy", "shared")
    layers: list | None = _doc("glob patterns of the layers to compress; null = every transformer-block linear", None)
    epochs: int = _doc("training epochs", 10)
    batch_size: int = _doc("training batch size", 64)
    eval_batch_size: int = _doc("evaluation batch size", 512)
    eval_every: int | None = _doc("validate every this many optimizer steps and at the end; null = after every epoch",
                                  None)
    lr: float = _doc("AdamW peak learning rate", 1e-3)
    weight_decay: float = _doc("AdamW weight decay", 0.0)
    warmup_steps: int | str = _doc("linear warm-up: steps or 'Nep'", 0)
    min_lr: float = _doc("learning rate at the end of the cosine decay", 1e-6)
    grad_clip: float | None = _doc("clip the gradient norm to this value; null = no clipping", None)
    seed: int = _doc("seed of the model init, the data order and augmentation", 0)
    device: str = _doc("auto (CUDA when present) | cpu | cuda", "auto")
    bf16: str | bool = _doc("bf16 autocast: false (fp32, as the authors train) | auto (on CUDA only) | "
                            "true (also on the CPU)", False)
    compile: bool = _doc("torch.compile the model for the training steps (evaluation runs it uncompiled)", False)
    workers: int = _doc("data-loader worker processes", 0)
    threads: int | None = _doc("CPU threads for torch; null = torch's default", None)
    data_root: str | None = _doc("root of downloaded data sets (else the VCON_*_ROOT environment variables)", None)
    image_size: int | None = _doc("image side the data set is resized to; null = the data set's default", None)
    max_length: int = _doc("token limit of text data sets", 128)
    augment: bool = _doc("training augmentation of the data set (RandAugment/MixUp on CIFAR and ImageNet)", True)
    image_recipe: str = _doc("CIFAR/ImageNet preprocessing: authors (float tensor, squash-resize, RandAugment, "
                             "MixUp) | standard (PIL-side CIFAR; ImageNet crops and flips, no MixUp)",
                             DEFAULT_IMAGE_RECIPE)
    tensorboard: bool = _doc("write TensorBoard events into DIR/tensorboard", True)
    checkpoint_steps: int | None = _doc("save DIR/checkpoint/resume.pt every this many optimizer steps; null = off", None)
    checkpoint_minutes: float | None = _doc("save DIR/checkpoint/resume.pt every this many minutes; null = off", 10.0)

    @property
    def is_dense(self) -> bool:
        return self.compressor is None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FIELDS = {f.name: f for f in dataclasses.fields(CellConfig)}


def describe_keys() -> str:
    """Every key with its default, for `vcon train --help`."""
    lines = []
    for name, f in FIELDS.items():
        lines.append(f"  {name:<16} {f.metadata['doc']} (default: {f.default!r})")
    return "\n".join(lines)


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


def _number(raw: dict[str, Any], key: str, kind: type, source: str, minimum: float | None = None,
            strict: bool = False, optional: bool = False) -> None:
    value = raw[key]
    if value is None and optional:
        return
    if kind is float and isinstance(value, str):
        try:  # YAML 1.1 reads 3e-4 (no dot) as a string
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise ConfigError(f"{source}: {key} must be {'a number' if kind is float else 'an integer'}, got {value!r}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise ConfigError(f"{source}: {key} must be {'>' if strict else '>='} {minimum}, got {value!r}")
    raw[key] = kind(value)


def _choice(raw: dict[str, Any], key: str, choices: tuple[str, ...], source: str) -> None:
    if raw[key] not in choices:
        raise ConfigError(f"{source}: {key} must be one of {', '.join(choices)}, got {raw[key]!r}"
                          f"{did_you_mean(raw[key], choices)}")


def _length(raw: dict[str, Any], key: str, source: str) -> None:
    """A length key as the trainer keeps it: an int step count, or epochs as "12ep" (vcon.lengths)."""
    try:
        raw[key] = lengths.parse(raw[key], key).value
    except lengths.LengthError as error:
        raise ConfigError(f"{source}: {error}") from None


def from_dict(raw: dict[str, Any], source: str = "config") -> CellConfig:
    """Check every key and value (types, ranges, choices) and build the config."""
    for key in raw:
        if key not in FIELDS:
            raise ConfigError(f"{source}: unknown key {key!r}{did_you_mean(key, FIELDS)}; valid keys: {', '.join(FIELDS)}")
    values = {name: f.default for name, f in FIELDS.items()}
    values.update(raw)
    for key in ("model", "dataset", "init", "method", "schedule", "original", "device", "image_recipe"):
        if not isinstance(values[key], str) or not values[key]:
            raise ConfigError(f"{source}: {key} must be a non-empty string, got {values[key]!r}")
    _choice(values, "method", METHODS, source)
    _choice(values, "schedule", tuple(BETA_SCHEDULES), source)
    _choice(values, "original", ORIGINALS, source)
    _choice(values, "device", DEVICES, source)
    _choice(values, "image_recipe", IMAGE_RECIPES, source)
    if values["bf16"] not in ("auto", True, False):
        raise ConfigError(f"{source}: bf16 must be auto, true or false, got {values['bf16']!r}")
    if not isinstance(values["compile"], bool):
        raise ConfigError(f"{source}: compile must be true or false, got {values['compile']!r}")
    _number(values, "epochs", int, source, 0, strict=True)
    _number(values, "batch_size", int, source, 0, strict=True)
    _number(values, "eval_batch_size", int, source, 0, strict=True)
    _number(values, "eval_every", int, source, 0, strict=True, optional=True)
    _number(values, "train_size", int, source, 0, strict=True, optional=True)
    _number(values, "lr", float, source, 0, strict=True)
    _number(values, "weight_decay", float, source, 0)
    _number(values, "min_lr", float, source, 0)
    _number(values, "grad_clip", float, source, 0, strict=True, optional=True)
    _number(values, "seed", int, source, 0)
    _number(values, "workers", int, source, 0)
    _number(values, "threads", int, source, 0, strict=True, optional=True)
    _number(values, "image_size", int, source, 0, strict=True, optional=True)
    _number(values, "max_length", int, source, 0, strict=True)
    for key in ("q", "iterative_t", "warmup_steps"):
        if not (key == "iterative_t" and values[key] is None):
            _length(values, key, source)
    if values["compressor"] is not None:
        from vcon.compressors import SpecError, from_spec

        try:
            values["compressor"] = from_spec(values["compressor"]).to_spec()
        except SpecError as error:
            raise ConfigError(f"{source}: compressor: {error}") from None
    if values["layers"] is not None and (
        not isinstance(values["layers"], list) or not all(isinstance(p, str) for p in values["layers"])
    ):
        raise ConfigError(f"{source}: layers must be a list of glob patterns, got {values['layers']!r}")
    for key in ("augment", "tensorboard"):
        if not isinstance(values[key], bool):
            raise ConfigError(f"{source}: {key} must be true or false, got {values[key]!r}")
    _number(values, "checkpoint_steps", int, source, 0, strict=True, optional=True)
    _number(values, "checkpoint_minutes", float, source, 0, strict=True, optional=True)
    if values["min_lr"] > values["lr"]:
        raise ConfigError(f"{source}: min_lr must be <= lr ({values['lr']!r}), got {values['min_lr']!r}")
    _check_lengths(values, source)
    _check_names(values, source)
    return CellConfig(**values)


def _check_lengths(values: dict[str, Any], source: str) -> None:
    """What can be told before the data is loaded: lengths in epochs against `epochs`, and a Q
    that a post-shot run would ignore. Lengths in steps are checked once the steps per epoch are known."""
    compressed = values["compressor"] is not None
    if compressed and values["method"] == "posthoc" and not lengths.parse(values["q"]).is_zero:
        raise ConfigError(f"{source}: q must be 0 for method posthoc (Q = 0 is post-shot), got {values['q']!r}; "
                          f"use method vcon for Q > 0")
    keys = ["warmup_steps", "iterative_t"] + (["q"] if compressed and values["method"] == "vcon" else [])
    for key in keys:
        epochs = None if values[key] is None else lengths.parse(values[key]).epochs
        if epochs is not None and epochs > values["epochs"]:
            raise ConfigError(f"{source}: {key} = {values[key]!r} is longer than the run (epochs = {values['epochs']}); "
                              f"allowed: at most {values['epochs']}ep, or the run's steps")


def _check_names(values: dict[str, Any], source: str) -> None:
    """Model and dataset must name something that exists (registry, local directory or hub id)."""
    from vcon.data import list_datasets
    from vcon.models.build import unregistered_source
    from vcon.models.registry import get_builder

    datasets = list_datasets()
    if values["dataset"] not in datasets:
        raise ConfigError(f"{source}: dataset must be one of {', '.join(datasets)}, got {values['dataset']!r}"
                          f"{did_you_mean(values['dataset'], datasets)}")
    if get_builder(values["model"]) is None:
        try:
            unregistered_source(values["model"])
        except ValueError as error:
            raise ConfigError(f"{source}: model: {error}") from None


def to_steps(value: int | str, steps_per_epoch: int) -> int:
    """Steps from an int or an 'Nep' string (rounded to the nearest step)."""
    return lengths.to_steps(value, steps_per_epoch)
