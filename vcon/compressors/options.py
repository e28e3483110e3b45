"""The options of each compressor, declared once: name, keys, defaults, meaning and JSON schema, what
ties keys together (`__post_init__`), and which keys only shape its iterative baseline
(`iterative_keys`: what a workflow's `iterative_variants` may set).

Each compressor class takes its fields from its options (`class Prune(PruneOptions, WeightCompressor)`),
and the workflow schema's `$defs.compressor` is built from them (`schema()`), so neither copies them.
`problems` checks a spec against them: the one check of a compressor spec, for cell configs, workflow
configs and `from_spec` alike. `OPTIONS` holds them with those of plugin compressors
(`vcon.compressors.declared`). Imports no torch: the grid reads this module before any job.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from vcon import schema_errors
from vcon.compressors.declared import checked_options
from vcon.keys import key, properties
from vcon.names import Registry
from vcon.schedules import INQ_SHARES


class SpecError(ValueError):
    """A compressor spec that cannot be used, with a message naming the key and the valid values."""


def _refuse(key: str, value: Any, allowed: str) -> SpecError:
    return SpecError(f"{key} = {value!r} is not allowed; allowed: {allowed}")


# prune
GRADIENTS = ("straight_through", "masked")
TIES = ("exact", "keep")
GRANULARITY = r"^(layer|row|[0-9]+:[0-9]+)$"
# binary and quant
SHARE_MODES = ("frozen", "trained")
# binary
SCALES = ("layer", "row")
SIGN_ZEROS = ("plus", "zero")
# lowrank
BIASES = ("shared", "separate")
RANK_STEP_STATES = ("reset", "kept")
DEFAULT_SPARSITY = 0.9


@dataclass(frozen=True)
class PruneOptions:
    name: ClassVar[str] = "prune"
    family: ClassVar[str] = "pruning"
    iterative_keys: ClassVar[tuple[str, ...]] = ("gradient", "update_every", "ramp_every", "ramp_start",
                                                 "ramp_updates", "ramp_initial")
    sparsity: float | None = key(f"share of the weights zeroed; null: {DEFAULT_SPARSITY}, or 1 - N/M for an N:M "
                                 "granularity", None,
                                 {"type": ["number", "null"], "minimum": 0, "exclusiveMaximum": 1})
    granularity: str = key("layer (over the whole matrix) | row (per output row) | N:M (the N largest of every M "
                           "consecutive weights of a row)", "layer",
                           {"type": "string", "pattern": GRANULARITY, "description": "layer, row or N:M such as 2:4"})
    update_every: int = key("recompute the mask every this many steps; 0 freezes it", 1,
                            {"type": "integer", "minimum": 0})
    gradient: str = key("straight_through (pruned weights keep their gradient) | masked (the gradient of W * mask; "
                        "in the iterative baseline pruned weights also stay pruned, as in Zhu & Gupta 2017)",
                        "straight_through", {"enum": list(GRADIENTS)})
    ramp_every: int | None = key("dt: update interval (steps) of the iterative baseline's cubic sparsity ramp "
                                 "(Zhu & Gupta 2017); null: (iterative_t - t_0) // n when ramp_updates is given, "
                                 "else 1", None, {"type": ["integer", "null"], "minimum": 1})
    ramp_start: int = key("t_0: step of the ramp's first update (dense before it)", 0,
                          {"type": "integer", "minimum": 0})
    ramp_updates: int | None = key("n: updates of the ramp after t_0, ending at t_0 + n dt <= iterative_t; null: as "
                                   "many as fit, (iterative_t - t_0) // dt", None,
                                   {"type": ["integer", "null"], "minimum": 1})
    ramp_initial: float = key("s_i: sparsity of the ramp at t_0 (at most `sparsity`)", 0.0,
                              {"type": "number", "minimum": 0, "exclusiveMaximum": 1})
    ties: str = key("exact (the stated count, lower index first) | keep (keep every weight at the threshold)",
                    "exact", {"enum": list(TIES)})

    def __post_init__(self) -> None:
        """An N:M granularity sets the sparsity, 1 - N/M; the ramp starts below the final sparsity."""
        n_m = self.n_m
        if n_m:
            n, m = n_m
            if not 0 < n < m:
                raise _refuse("granularity", self.granularity, "N:M with 0 < N < M, e.g. '2:4'")
            implied = 1.0 - n / m
            if self.sparsity is not None and not math.isclose(self.sparsity, implied):
                raise _refuse("sparsity", self.sparsity, f"none with granularity {self.granularity!r}, which means "
                              f"sparsity {implied}: drop the sparsity key")
            object.__setattr__(self, "sparsity", implied)
        if self.sparsity is None:
            object.__setattr__(self, "sparsity", DEFAULT_SPARSITY)
        if self.ramp_initial > self.sparsity:
            raise _refuse("ramp_initial", self.ramp_initial, f"at most sparsity ({self.sparsity})")

    @property
    def n_m(self) -> tuple[int, int] | None:
        n, colon, m = self.granularity.partition(":")
        return (int(n), int(m)) if colon else None

    def level_label(self) -> str:
        if self.n_m:
            return self.granularity
        return f"{100 * self.sparsity:g} %" + (" per row" if self.granularity == "row" else "")


@dataclass(frozen=True)
class QuantizedOptions:
    """The options every weight quantizer shares (the INQ stages of its iterative baseline)."""

    iterative_keys: ClassVar[tuple[str, ...]] = ("shares", "quantized_share")

    shares: Sequence[float] = key("shares of each layer quantized at the INQ stages of the iterative baseline, "
                                  "increasing, in (0, 1]", INQ_SHARES,
                                  {"type": "array", "minItems": 1,
                                   "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}})
    quantized_share: str = key("frozen (INQ: each share keeps its quantized values) | trained (re-quantized every "
                               "step)", "frozen", {"enum": list(SHARE_MODES)})

    def __post_init__(self) -> None:
        shares = tuple(self.shares)
        if list(shares) != sorted(shares):
            raise _refuse("shares", list(shares), "increasing shares")
        object.__setattr__(self, "shares", shares)


@dataclass(frozen=True)
class BinaryOptions(QuantizedOptions):
    name: ClassVar[str] = "binary"
    family: ClassVar[str] = "quantization"
    scale: str = key("one mean |w| per layer or per output row", "layer", {"enum": list(SCALES)})
    sign_zero: str = key("plus (sign(0) = +1) | zero (torch.sign: a weight of 0 stays 0)", "plus",
                         {"enum": list(SIGN_ZEROS)})

    def level_label(self) -> str:
        return "1 bit"


@dataclass(frozen=True)
class QuantOptions(QuantizedOptions):
    name: ClassVar[str] = "quant"
    family: ClassVar[str] = "quantization"
    bits: int = key("bits of the symmetric uniform grid", 4, {"type": "integer", "minimum": 2, "maximum": 8})

    def level_label(self) -> str:
        return f"{self.bits} bits"


@dataclass(frozen=True)
class LowRankOptions:
    name: ClassVar[str] = "lowrank"
    family: ClassVar[str] = "low rank"
    iterative_keys: ClassVar[tuple[str, ...]] = ("start_rank", "rank_stages", "optimizer_state")
    rank: int = key("rank of the truncated SVD", 16, {"type": "integer", "minimum": 1})
    start_rank: int | None = key("first rank of the iterative baseline; null: 4 * rank, capped by the layer", None,
                                 {"type": ["integer", "null"], "minimum": 1})
    rank_stages: int = key("geometric re-truncation steps of the iterative baseline", 4,
                           {"type": "integer", "minimum": 1})
    bias: str = key("shared (one bias for both branches) | separate (the factor pair has its own)", "shared",
                    {"enum": list(BIASES)})
    optimizer_state: str = key("the factors' optimizer state at a rank step of the iterative baseline: reset "
                               "(dropped: the re-truncated factors are a new basis) | kept (the old basis's moments "
                               "carry on, design 1)", "reset", {"enum": list(RANK_STEP_STATES)})

    def __post_init__(self) -> None:
        if self.start_rank is not None and self.start_rank < self.rank:
            raise _refuse("start_rank", self.start_rank, f"null or an integer >= rank ({self.rank})")

    def level_label(self) -> str:
        return f"rank {self.rank}"


# The built-ins', and those other installed packages declare (entry-point group vcon.compressors).
OPTIONS: Registry[type] = Registry("compressor", "vcon.compressors", checked_options)
for _options in (PruneOptions, BinaryOptions, QuantOptions, LowRankOptions):
    OPTIONS.add(_options.name, _options)


def schema() -> dict[str, Any]:
    """The JSON schema of a compressor spec ({name: prune, sparsity: 0.9}): a known name, and only
    that compressor's keys, each of its type and range. The workflow's `$defs.compressor`."""
    return {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"enum": sorted(OPTIONS)}},
        "allOf": [{"if": {"required": ["name"], "properties": {"name": {"const": name}}},
                   "then": {"additionalProperties": False, "properties": {"name": {}, **properties(options)}}}
                  for name, options in OPTIONS.items()],
    }


def options_of(spec: Mapping[str, Any]) -> Any:
    """The options dataclass of a spec that `problems` passed."""
    return OPTIONS.get(spec["name"])(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k != "name"})


def unusable(spec: Any, where: str) -> list[str]:
    """Why the compressor a spec names cannot be used, when a plugin declares it (the schema would only say
    that the name is not allowed)."""
    problem = OPTIONS.problem(spec.get("name")) if isinstance(spec, Mapping) else None
    return [f"{where}.name: {problem}"] if problem else []


def problems(spec: Any, where: str = "compressor") -> list[str]:
    """Every problem of a compressor spec, one line each, `where` its path in the config: a compressor
    that cannot be used, then each key against its schema, then what ties keys together."""
    lines = unusable(spec, where) or schema_errors.problems(spec, schema(), root=where)
    if lines:
        return lines
    try:
        options_of(spec)
    except SpecError as error:
        return [f"{where}.{error}"]
    return []


def describe(spec: Mapping[str, Any]) -> tuple[str, str]:
    """(family, level) of a compressor spec for tables and figures, e.g. ("pruning", "95 %"); a
    plugin without `family` / `level_label` is its own family, its level its keys."""
    options = options_of(spec)
    if hasattr(options, "family") and hasattr(options, "level_label"):
        return options.family, options.level_label()
    return spec["name"], ", ".join(f"{k} {v}" for k, v in spec.items() if k != "name") or spec["name"]


def iterative_variants_schema(label_pattern: str) -> dict[str, Any]:
    """The JSON schema of a workflow's `iterative_variants`: compressor name -> variant label -> the
    iterative keys of that compressor that the variant sets."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            name: {"type": "object", "minProperties": 1, "propertyNames": {"pattern": label_pattern},
                   "additionalProperties": {
                       "type": ["object", "null"], "additionalProperties": False,
                       "properties": {k: v for k, v in properties(options).items()
                                      if k in getattr(options, "iterative_keys", ())}}}
            for name, options in OPTIONS.items()},
    }
