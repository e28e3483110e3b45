"""Expand a workflow config (configs/*.yaml) into the cells of the benchmark.

A cell is one `vcon train` job. Its identity (model, dataset, compressor, method, Q or T, beta shape,
seed) is spelled as canonical strings and fixes its run directory:

    results/runs/{model}/{source dataset}/pretrain/seed{seed}     (a model's pretraining, if any)
    results/runs/{model}/{dataset}/dense/seed{seed}
    results/runs/{model}/{dataset}/dense-scratch/seed{seed}
    results/runs/{model}/{dataset}/{compressor}/posthoc/q0/seed{seed}
    results/runs/{model}/{dataset}/{compressor}/iterative/t{T}/seed{seed}
    results/runs/{model}/{dataset}/{compressor}/vcon/q{Q}-{schedule}/seed{seed}
    results/runs/{model}/{dataset}/finetuned/{compressor}/.../seed{seed}  (cells of the second start)

Everything else (epochs, lr, init, ...) lives in the cell's config dict (keys of docs/interfaces.md),
so changing it reruns the cell in place. Run ids (the path below results/runs) never depend on how a
number was written in YAML: Q 120, "120" and 120.0 are all "120"; 12 epochs is "12ep".
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vcon import lengths
from vcon.schedules import BETA_SCHEDULES
from vcon.methods import METHODS
from vcon import schema_errors
from vcon.names import did_you_mean

# Dense runs: the source-task pretraining, the dense fine-tuning, and dense training from scratch.
PRETRAIN, DENSE, DENSE_SCRATCH = "pretrain", "dense", "dense-scratch"
DENSE_METHODS = (PRETRAIN, DENSE, DENSE_SCRATCH)
# Where compression cells start: the pretrained model with a new head (the pretraining, else
# training.init: the authors' demo), or the dense run fine-tuned on the task (their research script).
PRETRAINED, FINETUNED = "pretrained", "finetuned"
STARTS = (PRETRAINED, FINETUNED)
SHAPES = tuple(BETA_SCHEDULES)  # beta shapes, as vcon.schedules names them
RUNS_ROOT = "results/runs"
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
# threads, mem_mb, runtime (minutes, per attempt) and gpu always; cpus_per_task (default: threads),
# gpu_model and constraint only where set (SLURM: --cpus-per-task, --gpus=MODEL:N, --constraint).
RESOURCE_KEYS = ("threads", "mem_mb", "runtime", "gpu", "cpus_per_task", "gpu_model", "constraint")
DEFAULT_RESOURCES = {"threads": 1, "mem_mb": 2000, "runtime": 30, "gpu": 0}
SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


@dataclass(frozen=True)
class DatasetFacts:
    train_size: int | None  # training examples (None: depends on the local copy)
    classes: int | None


# What the grid checks without loading data or torch; tests/safety keeps these equal to the registries.
DATASETS = {
    "digits": DatasetFacts(1257, 10), "synthetic-text": DatasetFacts(3000, 2),
    "glyphs": DatasetFacts(48000, 62), "synthetic-clauses": DatasetFacts(20000, 4),
    "cifar10": DatasetFacts(50000, 10), "cifar100": DatasetFacts(50000, 100), "imagenet": DatasetFacts(None, None),
    "glue-cola": DatasetFacts(8551, 2), "glue-sst2": DatasetFacts(67349, 2), "glue-mrpc": DatasetFacts(3668, 2),
    "glue-qqp": DatasetFacts(363846, 2), "glue-stsb": DatasetFacts(5749, 1), "glue-mnli": DatasetFacts(392702, 3),
    "glue-qnli": DatasetFacts(104743, 2), "glue-rte": DatasetFacts(2490, 2), "glue-wnli": DatasetFacts(635, 2),
}
# Registered models and hub ids -> the smaller side of their smallest compressed linear (rank limit).
MODEL_WIDTHS = {
    "vit-digits": 64, "bert-mini": 64, "vit-tiny": 192, "vit-small": 384, "vit-base": 768, "bert-base": 768,
    "WinKawaks/vit-tiny-patch16-224": 192, "WinKawaks/vit-small-patch16-224": 384,
    "google/vit-base-patch16-224": 768, "bert-base-uncased": 768, "google-bert/bert-base-uncased": 768,
}
REGISTERED_MODELS = ("bert-base", "bert-mini", "vit-base", "vit-digits", "vit-small", "vit-tiny")
LOWRANK_DEFAULT_RANK = 16
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
DENSE_RUN = re.compile(r"(?:^|/)runs/([^/]+)/([^/]+)/(?:dense|dense-scratch|pretrain)/seed\d+/?$")

# The cell config of docs/interfaces.md, in its order, with the trainer's documented defaults.
CELL_DEFAULTS: dict[str, Any] = {
    "model": None,
    "dataset": None,
    "init": "scratch",
    "compressor": None,
    "method": "posthoc",
    "q": 0,
    "schedule": "linear",
    "iterative_t": None,
    "original": "shared",
    "epochs": 10,
    "batch_size": 64,
    "lr": 0.001,
    "weight_decay": 0.0,
    "warmup_steps": 0,
    "min_lr": 1.0e-6,
    "grad_clip": None,
    "seed": 0,
    "device": "auto",
    "bf16": False,
    "workers": 0,
    "data_root": None,
}
# Keys the grid sets itself; a `training:` block may not override them.
IDENTITY_KEYS = ("model", "dataset", "compressor", "method", "q", "schedule", "iterative_t", "seed")


class GridError(ValueError):
    """The workflow config does not describe a valid, non-empty set of distinct cells."""


def canonical_length(value: Any, what: str = "Q") -> str:
    """A length as a path-safe string: steps "120" or epochs "12ep" (vcon.lengths)."""
    try:
        return lengths.canonical(value, what)
    except lengths.LengthError as error:
        raise GridError(str(error)) from None


def canonical_seed(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise GridError(f"a seed must be a non-negative integer, got {value!r}")
    text = str(value).strip()
    if isinstance(value, float):
        if not value.is_integer():
            raise GridError(f"a seed must be a non-negative integer, got {value!r}")
        text = str(int(value))
    if not text.isdigit():
        raise GridError(f"a seed must be a non-negative integer, got {value!r}")
    return str(int(text))


@dataclass(frozen=True)
class Cell:
    """One training job: its identity (canonical strings) and its full cell config."""

    model: str
    dataset: str
    compressor: str  # label from the config's `compressors`, or "none" for a dense run
    method: str  # pretrain | dense | dense-scratch | posthoc | iterative | vcon
    variant: str  # "" (dense) | "q0" | "t{T}" | "q{Q}-{schedule}"
    seed: str
    config: dict[str, Any] = field(compare=False, hash=False, repr=False)
    resources: dict[str, Any] = field(compare=False, hash=False, repr=False)
    init_run: str | None = field(default=None, compare=False, hash=False)  # run id of the run it starts from
    start: str = PRETRAINED  # of a compression cell (dense runs: PRETRAINED)

    @property
    def run_id(self) -> str:
        if self.method in DENSE_METHODS:
            return f"{self.model}/{self.dataset}/{self.method}/seed{self.seed}"
        start = f"{FINETUNED}/" if self.start == FINETUNED else ""
        return f"{self.model}/{self.dataset}/{start}{self.compressor}/{self.method}/{self.variant}/seed{self.seed}"

    def run_dir(self, root: str = RUNS_ROOT) -> str:
        return f"{root}/{self.run_id}"

    @property
    def q(self) -> str:
        return self.variant[1:].split("-")[0] if self.method in ("posthoc", "vcon") else ""

    @property
    def schedule(self) -> str:
        return self.variant.split("-", 1)[1] if self.method == "vcon" else ""

    @property
    def iterative_t(self) -> str:
        return self.variant[1:] if self.method == "iterative" else ""

    def row(self) -> dict[str, str]:
        """The cell's identity as a flat row (the workflow's manifest of expected runs)."""
        return {
            "run": self.run_id,
            "model": self.model,
            "dataset": self.dataset,
            "start": "" if self.method in DENSE_METHODS else self.start,
            "compressor": self.compressor,
            "method": self.method,
            "q": self.q,
            "schedule": self.schedule,
            "iterative_t": self.iterative_t,
            "seed": self.seed,
            "compressor_spec": json.dumps(self.config["compressor"], sort_keys=True) if self.config["compressor"] else "",
            "config": json.dumps(self.config, sort_keys=True),
        }


@dataclass
class Grid:
    cells: dict[str, Cell]  # run id -> cell, in expansion order

    def __len__(self) -> int:
        return len(self.cells)

    def counts(self) -> dict[str, int]:
        counted = Counter(cell.method for cell in self.cells.values())
        return {method: counted[method] for method in (*DENSE_METHODS, *METHODS) if counted[method]}

    def rows(self) -> list[dict[str, str]]:
        return [cell.row() for cell in self.cells.values()]

    def has_experiment(self, model: str, dataset: str) -> bool:
        return any(c.model == model and c.dataset == dataset for c in self.cells.values())


def _label(value: Any, what: str) -> str:
    if not isinstance(value, str) or not LABEL.match(value):
        raise GridError(f"{what} {value!r} is not a valid name (letters, digits, '.', '_', '+', '-')")
    return value


def _unique(values: Iterable[str], what: str) -> list[str]:
    values = list(values)
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if repeated:
        raise GridError(f"duplicate {what} after normalisation: {', '.join(repeated)}; allowed: each value once")
    return values


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise GridError(f"{what} must be a mapping, got {value!r}")
    return dict(value)


def _training(*layers: Any, where: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in layers:
        layer = _mapping(layer, f"{where}: training")
        clash = sorted(set(layer) & set(IDENTITY_KEYS))
        if clash:
            raise GridError(f"{where}: training may not set {', '.join(clash)}; the grid sets them")
        merged.update(layer)
    return merged


def _resources(*layers: Any, where: str) -> dict[str, Any]:
    merged = dict(DEFAULT_RESOURCES)
    for layer in layers:
        layer = _mapping(layer, f"{where}: resources")
        unknown = sorted(set(layer) - set(RESOURCE_KEYS))
        if unknown:
            raise GridError(f"{where}: unknown resources {', '.join(unknown)}; valid: {', '.join(RESOURCE_KEYS)}")
        merged.update(layer)
    return merged


def _starts(value: Any, label: str) -> list[str]:
    """The starting points of a model's compression cells (default: the pretrained model)."""
    if value is None:
        return [PRETRAINED]
    starts = _unique(value, f"starts of {label}")
    for start in starts:
        if start not in STARTS:
            raise GridError(f"models.{label}: unknown start {start!r}{did_you_mean(str(start), STARTS)}; "
                            f"allowed: {', '.join(STARTS)}")
    return starts


def _pretrain(config: Mapping[str, Any], label: str, entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """A model's pretraining on a source task: dataset, seed and merged training/resources."""
    if entry.get("pretrain") is None:
        return None
    where = f"models.{label}.pretrain"
    spec = _mapping(entry["pretrain"], where)
    dataset = _label(spec.get("dataset"), f"{where}.dataset")
    if dataset not in DATASETS:
        raise GridError(f"{where}.dataset: unknown dataset {dataset!r}{did_you_mean(dataset, DATASETS)}; "
                        f"allowed: {', '.join(sorted(DATASETS))}")
    if "init" in _training(config.get("training"), entry.get("training"), where=f"models.{label}"):
        raise GridError(f"models.{label}: a pretrain stage and training.init both give the starting point; "
                        f"allowed: one of them (remove init from training)")
    return {
        "dataset": dataset,
        "seed": canonical_seed(spec.get("seed", 0)),
        "training": _training(config.get("training"), spec.get("training"), where=where),
        "resources": _resources(config.get("resources"), entry.get("resources"), spec.get("resources"), where=where),
        "where": where,
    }


def _experiments(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Label, registry model, pretraining, merged training/resources and Q/T lists of each (model, dataset)."""
    out = []
    for label, entry in _mapping(config.get("models"), "models").items():
        _label(label, "model")
        entry = _mapping(entry, f"models.{label}")
        pretrain = _pretrain(config, label, entry)
        datasets = entry.get("datasets") or {}
        if isinstance(datasets, list):
            datasets = {name: None for name in _unique(datasets, f"datasets of {label}")}
        for dataset, spec in _mapping(datasets, f"models.{label}.datasets").items():
            _label(dataset, "dataset")
            spec = _mapping(spec, f"models.{label}.datasets.{dataset}")
            where = f"models.{label}.datasets.{dataset}"
            dense = config.get("dense") if isinstance(config.get("dense"), Mapping) else {}
            out.append({
                "model": label,
                "dataset": dataset,
                "registry_model": entry.get("model", label),
                "pretrain": pretrain,
                "compressors": entry.get("compressors"),  # labels of the top-level `compressors`; None: all
                "starts": _starts(entry.get("starts", config.get("starts")), label),
                "training": _training(config.get("training"), entry.get("training"), spec.get("training"), where=where),
                "dense_training": _training(dense.get("training"), entry.get("dense_training"),
                                            spec.get("dense_training"), where=where),
                "resources": _resources(config.get("resources"), entry.get("resources"), spec.get("resources"),
                                        where=where),
                # Q values and T: the dataset's, else the model's, else the top level's.
                "q": spec.get("q", entry.get("q", config.get("q"))),
                "iterative_t": spec.get("iterative_t", entry.get("iterative_t", config.get("iterative_t", 0))),
                "where": where,
                "q_where": _origin("q", spec, entry, where, label),
                "t_where": _origin("iterative_t", spec, entry, where, label),
            })
    return out


def _origin(key: str, spec: Mapping[str, Any], entry: Mapping[str, Any], where: str, label: str) -> str:
    """The config path a per-experiment value was taken from."""
    return f"{where}.{key}" if key in spec else f"models.{label}.{key}" if key in entry else key


def _lengths(exp: Mapping[str, Any], methods: list[str]) -> tuple[list[str], str]:
    """Canonical Q values and T of one experiment, checked against the methods."""
    where = f"{exp['model']}/{exp['dataset']}"
    q_values = _unique((canonical_length(q) for q in exp["q"] or []), f"Q values in {exp['q_where']} ({where})")
    if any(lengths.parse(q).is_zero for q in q_values):
        raise GridError("Q = 0 is the post-shot baseline: list method 'posthoc' instead of Q 0")
    if "vcon" in methods and not q_values:
        raise GridError(f"method 'vcon' needs at least one Q value in `q` ({where})")
    iterative_t = canonical_length(exp["iterative_t"], "iterative_t")
    if "iterative" in methods and lengths.parse(iterative_t).is_zero:
        raise GridError(f"method 'iterative' needs iterative_t > 0, steps or 'Nep' ({where})")
    return q_values, iterative_t


def _check_names(exp: Mapping[str, Any]) -> None:
    """The dataset is registered; the model is registered, a hub id (owner/name) or a directory."""
    where, dataset, model = exp["where"], exp["dataset"], exp["registry_model"]
    if dataset not in DATASETS:
        raise GridError(f"{where}: unknown dataset {dataset!r}{did_you_mean(dataset, DATASETS)}; "
                        f"allowed: {', '.join(sorted(DATASETS))}")
    if model in REGISTERED_MODELS or HUB_ID.match(model) or Path(model).expanduser().is_dir():
        return
    key = f"models.{exp['model']}.model" if model != exp["model"] else f"models.{exp['model']}"
    raise GridError(f"{key}: unknown model {model!r}{did_you_mean(model, REGISTERED_MODELS)}; allowed: "
                    f"{', '.join(REGISTERED_MODELS)}, a hub id (owner/name) or an existing directory "
                    f"(give a label its model with `model:`)")


def _train_size(exp: Mapping[str, Any]) -> int | None:
    """Training examples of an experiment: its `train_size`, else the dataset's (None: unknown)."""
    size = exp["training"].get("train_size")
    facts = DATASETS.get(exp["dataset"])
    return size if isinstance(size, int) else facts.train_size if facts else None


def _steps_per_epoch(exp: Mapping[str, Any]) -> int | None:
    size = _train_size(exp)
    batch = exp["training"].get("batch_size", CELL_DEFAULTS["batch_size"])
    if size is None or not isinstance(batch, int) or batch < 1:
        return None
    return -(-size // batch)


def _check_lengths(exp: Mapping[str, Any], phases: list[tuple[str, str]]) -> None:
    """No Q, T or warm-up longer than the run; no two Q values of the same length in steps.
    `phases` holds (config path, canonical length)."""
    epochs = exp["training"].get("epochs", CELL_DEFAULTS["epochs"])
    per_epoch = _steps_per_epoch(exp)
    total = per_epoch * epochs if per_epoch and isinstance(epochs, int) else None
    size = f"{exp['dataset']}: {_train_size(exp)} training examples / batch_size " \
        f"{exp['training'].get('batch_size', CELL_DEFAULTS['batch_size'])} = {per_epoch} steps per epoch" if per_epoch else ""
    by_steps: dict[int, list[str]] = {}
    for path, canonical in phases:
        length = lengths.parse(canonical)
        steps = length.to_steps(per_epoch) if per_epoch or length.epochs is None else None
        too_long = (isinstance(epochs, int) and length.epochs is not None and length.epochs > epochs) or \
            (total is not None and steps is not None and steps > total)
        if too_long:
            run = f"{epochs} epochs" + (f" = {total} steps ({size})" if total else "")
            raise GridError(f"{path} = {canonical!r} is longer than the run of {exp['where']} ({run}); "
                            f"allowed: at most {epochs}ep" + (f" or {total} steps" if total else ""))
        if steps is not None and path.rsplit(".", 1)[-1] == "q":
            by_steps.setdefault(steps, []).append(canonical)
    for steps, same in by_steps.items():
        if len(set(same)) > 1:
            raise GridError(f"{exp['q_where']}: Q values {' and '.join(sorted(set(same)))} are the same length, "
                            f"{steps} steps, for {exp['where']} ({size}); the cells would be the same run twice; "
                            f"allowed: distinct lengths")


def _check_compressors(exp: Mapping[str, Any], compressors: Mapping[str, Any]) -> None:
    """A low-rank rank must fit the model's smallest compressed layer (where the grid knows it)."""
    width = MODEL_WIDTHS.get(exp["registry_model"])
    for label, spec in compressors.items():
        rank = spec.get("rank", LOWRANK_DEFAULT_RANK)
        if spec.get("name") == "lowrank" and width is not None and isinstance(rank, int) and rank > width:
            raise GridError(f"compressors.{label}.rank = {rank} is above the smaller side ({width}) of the compressed "
                            f"layers of model {exp['registry_model']!r} ({exp['where']}); allowed: rank <= {width}")


def _check_init(exp: Mapping[str, Any], training: Mapping[str, Any], key: str) -> None:
    """An init that is a run of another model cannot be loaded (a run of another dataset of the same
    model is a pretrained start: all but its head)."""
    init = training.get("init")
    match = DENSE_RUN.search(init) if isinstance(init, str) else None
    if match and match.group(1) != exp["model"]:
        raise GridError(f"{exp['where']}.{key}.init = {init!r} is a run of model {match.group(1)}, not of "
                        f"{exp['model']}; allowed: a run of the same model ({exp['model']}), a checkpoint or scratch")


def _duplicate_specs(compressors: Mapping[str, Any]) -> None:
    seen: dict[str, str] = {}
    for label, spec in compressors.items():
        key = json.dumps(spec, sort_keys=True)
        if key in seen:
            raise GridError(f"compressors.{label} has the same spec as compressors.{seen[key]} ({key}); every cell "
                            f"of it would run twice under two labels; allowed: distinct specs (remove one label)")
        seen[key] = label


def _own_compressors(exp: Mapping[str, Any], compressors: Mapping[str, Any]) -> dict[str, Any]:
    """The compressors an experiment runs: the model's `compressors` list, else all of them."""
    wanted = exp["compressors"]
    if wanted is None:
        return dict(compressors)
    where = f"models.{exp['model']}.compressors"
    for label in _unique(wanted, where):
        if label not in compressors:
            raise GridError(f"{where}: {label!r} is not a label of `compressors`{did_you_mean(label, compressors)}; "
                            f"allowed: {', '.join(compressors)}")
    return {label: compressors[label] for label in wanted}


def _check_experiment(exp: Mapping[str, Any], methods: list[str], q_values: list[str], iterative_t: str,
                      ablation: Mapping[str, Any], compressors: Mapping[str, Any]) -> None:
    _check_names(exp)
    phases = [(exp["q_where"], q) for q in q_values] if "vcon" in methods else []
    if "vcon" in methods and (ablation["models"] is None or exp["model"] in ablation["models"]):
        phases += [("ablation.q", q) for q in ablation["q"]]
    if "iterative" in methods:
        phases.append((exp["t_where"], iterative_t))
    warmup = exp["training"].get("warmup_steps")
    if warmup not in (None, 0):
        phases.append(("training.warmup_steps", canonical_length(warmup, "warmup_steps")))
    _check_lengths(exp, phases)
    _check_compressors(exp, compressors)
    _check_init(exp, exp["training"], "training")
    _check_init(exp, {**exp["training"], **exp["dense_training"]}, "dense_training")


@dataclass(frozen=True)
class DenseRuns:
    """`dense: true|false` or `dense: {run, scratch, training}`: the dense fine-tuning runs (the
    uncompressed reference, and the `finetuned` start), and dense runs from scratch (what the
    pretrained start is worth)."""

    run: bool
    scratch: bool

    @classmethod
    def parse(cls, value: Any) -> DenseRuns:
        if value is None or isinstance(value, bool):
            return cls(bool(value), False)
        spec = _mapping(value, "dense")
        return cls(bool(spec.get("run", True)), bool(spec.get("scratch", False)))


def _cell_config(base: Mapping[str, Any], **identity: Any) -> dict[str, Any]:
    """Interface keys in the interface's order, extra trainer keys sorted: the YAML text of a
    cell depends on its values only, never on the order keys were written in."""
    merged = {**CELL_DEFAULTS, **base, **identity}
    spec = merged["compressor"]
    if spec is not None:
        merged["compressor"] = {"name": spec["name"], **{k: spec[k] for k in sorted(spec) if k != "name"}}
    return {key: merged[key] for key in [*CELL_DEFAULTS, *sorted(set(merged) - set(CELL_DEFAULTS))]}


def _ablation(value: Any, compressors: Mapping[str, Any]) -> dict[str, Any]:
    """Extra beta shapes at some Q, optionally for some compressors and models only."""
    ablation = _mapping(value, "ablation")
    shapes = _unique(ablation.get("schedules") or [], "ablation schedules")
    for shape in shapes:
        if shape not in SHAPES:
            raise GridError(f"ablation.schedules: {shape!r} is not allowed{did_you_mean(shape, SHAPES)}; allowed: one "
                            f"of {', '.join(SHAPES)}")
    q_values = _unique((canonical_length(q) for q in ablation.get("q") or []), "ablation Q values")
    if any(lengths.parse(q).is_zero for q in q_values):
        raise GridError("ablation Q values must be > 0")
    for name in ablation.get("compressors") or []:
        if name not in compressors:
            raise GridError(f"ablation compressor {name!r} is not in `compressors`")
    return {"schedules": shapes, "q": q_values, "compressors": ablation.get("compressors"),
            "models": ablation.get("models")}


def _variants(methods: list[str], iterative_t: str,
              vcon_pairs: list[tuple[str, str]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, variant, identity keys) of one compressor: posthoc at Q = 0, iterative with its
    T, VCON per (Q, shape)."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    if "posthoc" in methods:
        out.append(("posthoc", "q0", {"q": 0}))
    if "iterative" in methods:
        out.append(("iterative", f"t{iterative_t}", {"iterative_t": lengths.parse(iterative_t).value}))
    if "vcon" in methods:
        out += [("vcon", f"q{q}-{shape}", {"q": lengths.parse(q).value, "schedule": shape}) for q, shape in vcon_pairs]
    return out


def expand(config: Mapping[str, Any]) -> Grid:
    """Every cell of a workflow config, pretraining and dense runs first; raises GridError when invalid."""
    dense_runs = DenseRuns.parse(config.get("dense"))
    compressors = _mapping(config.get("compressors"), "compressors")
    for label, spec in compressors.items():
        _label(label, "compressor")
        if label in ("dense", "none"):
            raise GridError(f"compressor label {label!r} is reserved")
        if not isinstance(spec, Mapping) or "name" not in spec:
            raise GridError(f"compressor {label!r} needs a spec mapping with a 'name' key, got {spec!r}")
    methods = _unique(config.get("methods") or [], "methods")
    for method in methods:
        if method not in METHODS:
            raise GridError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    seeds = _unique((canonical_seed(s) for s in config.get("seeds") or []), "seeds")
    schedule = config.get("schedule", "linear")
    if schedule not in SHAPES:
        raise GridError(f"schedule = {schedule!r} is not allowed{did_you_mean(schedule, SHAPES)}; allowed: one of "
                        f"{', '.join(SHAPES)}")

    ablation = _ablation(config.get("ablation"), compressors)
    _duplicate_specs(compressors)

    cells: list[Cell] = []
    pretrained: dict[str, Cell] = {}
    for exp in _experiments(config):
        model, dataset = exp["model"], exp["dataset"]
        q_values, iterative_t = _lengths(exp, methods)
        own = _own_compressors(exp, compressors)
        _check_experiment(exp, methods, q_values, iterative_t, ablation, own)
        start = _pretrain_cell(exp, pretrained, cells)
        start_init = {"init": start.run_dir()} if start else {}
        if FINETUNED in exp["starts"] and not dense_runs.run:
            raise GridError(f"models.{model}: start {FINETUNED!r} begins from the dense runs, but `dense` makes none; "
                            f"allowed: dense: true (or dense.run: true), or the start {PRETRAINED!r} alone")
        if dense_runs.scratch and not start and exp["training"].get("init", "scratch") == "scratch":
            raise GridError(f"{exp['where']}: dense.scratch compares against a pretrained start, but this experiment "
                            f"starts from scratch already; allowed: a pretrain stage or training.init, or no dense.scratch")
        for seed in seeds:
            common = {"model": exp["registry_model"], "dataset": dataset, "seed": int(seed)}
            dense_config = {**exp["training"], **exp["dense_training"]}
            dense = Cell(model, dataset, "none", DENSE, "", seed,
                         config=_cell_config(dense_config, **common, **start_init),
                         resources=exp["resources"], init_run=start.run_id if start else None)
            if dense_runs.run:
                cells.append(dense)
            if dense_runs.scratch:
                cells.append(Cell(model, dataset, "none", DENSE_SCRATCH, "", seed,
                                  config=_cell_config({**dense_config, "init": "scratch"}, **common),
                                  resources=exp["resources"]))
            origins = {PRETRAINED: (start_init, start.run_id if start else None),
                       FINETUNED: ({"init": dense.run_dir()}, dense.run_id)}
            for start_name in exp["starts"]:
                init, init_run = origins[start_name]
                for label, spec in own.items():
                    pairs = [(q, schedule) for q in q_values]
                    if (ablation["compressors"] is None or label in ablation["compressors"]) and (
                            ablation["models"] is None or model in ablation["models"]):
                        pairs += [(q, shape) for q in ablation["q"] for shape in ablation["schedules"]
                                  if (q, shape) not in pairs]
                    for method, variant, identity in _variants(methods, iterative_t, pairs):
                        cell_config = _cell_config(exp["training"], **common, **init, compressor=spec, method=method,
                                                   **identity)
                        cells.append(Cell(model, dataset, label, method, variant, seed, config=cell_config,
                                          resources=exp["resources"], init_run=init_run, start=start_name))
    if all(cell.method == PRETRAIN for cell in cells):
        empty = [key for key in ("models", "seeds", "compressors", "methods") if not config.get(key)]
        raise GridError(f"the grid expands to zero cells (empty: {', '.join(empty) or 'datasets of every model'}); "
                        f"allowed: at least one model with a dataset, one seed, and compressors with methods "
                        f"or dense runs")
    repeated = sorted(run for run, n in Counter(c.run_id for c in cells).items() if n > 1)
    if repeated:
        raise GridError(f"duplicate cells: {', '.join(repeated[:5])}")
    return Grid({cell.run_id: cell for cell in cells})


def _pretrain_cell(exp: Mapping[str, Any], pretrained: dict[str, Cell], cells: list[Cell]) -> Cell | None:
    """The pretraining run of the experiment's model (made once per model label, added to `cells`)."""
    spec = exp["pretrain"]
    if spec is None:
        return None
    if spec["dataset"] == exp["dataset"]:
        raise GridError(f"{spec['where']}.dataset = {spec['dataset']!r} is also a target dataset of "
                        f"{exp['model']}; allowed: a source task distinct from the target")
    if exp["model"] not in pretrained:
        config = _cell_config(spec["training"], model=exp["registry_model"], dataset=spec["dataset"],
                              seed=int(spec["seed"]))
        cell = Cell(exp["model"], spec["dataset"], "none", PRETRAIN, "", spec["seed"], config=config,
                    resources=spec["resources"])
        pretrained[exp["model"]] = cell
        cells.append(cell)
    return pretrained[exp["model"]]


def check(config: Any, source: str, schema: str | Path | None = SCHEMA) -> Grid:
    """Validate a workflow config against the JSON schema, then expand it; every GridError names
    `source` (the config file) and the path inside it."""
    if schema is not None and Path(schema).is_file():
        lines = schema_errors.problems(config, schema_errors.load_schema(schema), IDENTITY_KEYS)
        if lines:
            raise GridError(schema_errors.message(lines, source))
    try:
        return expand(config or {})
    except GridError as error:
        raise GridError(f"{source}: {error}") from None


def load(path: str | Path, schema: str | Path | None = SCHEMA) -> Grid:
    import yaml

    try:
        with open(path) as handle:
            config = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise GridError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    return check(config if config is not None else {}, str(path), schema)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vcon.grid", description="count or list a config's cells")
    parser.add_argument("config", help="workflow config (YAML)")
    parser.add_argument("--list", action="store_true", help="print every run directory")
    args = parser.parse_args(argv)
    try:
        grid = load(args.config)
    except GridError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.list:
        for cell in grid.cells.values():
            print(cell.run_dir())
    counts = ", ".join(f"{method} {n}" for method, n in grid.counts().items())
    print(f"{len(grid)} cells ({counts})", file=sys.stderr if args.list else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
