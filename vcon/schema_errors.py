"""JSON-Schema errors of a workflow config as one line each: the file, the dotted path inside it, the
value and what is allowed. Imports nothing that imports torch (the Snakefile uses it through vcon.grid)."""
from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from vcon.names import did_you_mean

MAX_ERRORS = 10
_BOUNDS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
_GRID_KEYS = {"model": "models", "dataset": "models.<label>.datasets", "compressor": "compressors",
              "method": "methods", "seed": "seeds"}
_TYPES = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
          "object": "a mapping", "array": "a list", "null": "null"}


def dotted(parts: Iterable[Any]) -> str:
    return ".".join(str(p) for p in parts) or "(top level)"


def _spelled(value: Any) -> str:
    """A value as YAML writes it: true, false, null, or the text."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return str(value)


def _types(value: Any) -> str:
    names = value if isinstance(value, list) else [value]
    return " or ".join(_TYPES.get(n, n) for n in names)


def _allowed(error: Any) -> str:
    """What the failing schema keyword allows, in words."""
    schema, keyword, limit = error.schema, error.validator, error.validator_value
    if isinstance(schema, Mapping) and schema.get("description") and keyword in ("oneOf", "anyOf", "pattern"):
        return schema["description"]
    if keyword in _BOUNDS:
        types = schema.get("type")
        kind = "an integer" if "integer" in (types if isinstance(types, list) else [types]) else "a number"
        return f"{kind} {_BOUNDS[keyword]} {limit}"
    if keyword == "type":
        return _types(limit)
    if keyword == "enum":
        return "one of " + ", ".join(_spelled(v) for v in limit) + did_you_mean(error.instance, limit)
    if keyword == "const":
        return repr(limit)
    if keyword == "pattern":
        return f"a string matching {limit}"
    if keyword in ("minItems", "minProperties"):
        return f"at least {limit} {'entries' if keyword == 'minItems' else 'keys'}"
    if keyword == "uniqueItems":
        return "no value twice"
    if keyword in ("oneOf", "anyOf") and error.context:
        return " or ".join(dict.fromkeys(_allowed(sub) for sub in error.context))
    return error.message


def _extra_keys(error: Any, identity_keys: Iterable[str], root: tuple[str, ...]) -> list[str]:
    known = list((error.schema.get("properties") or {}))
    parents = [*root, *error.absolute_path]
    in_training = bool(parents) and parents[-1] in ("training", "dense_training")
    lines = []
    for key in [k for k in error.instance if k not in known]:
        where = dotted([*parents, key])
        if in_training and key in identity_keys:
            lines.append(f"{where}: key {key!r} is not allowed here: the grid sets it for each cell from "
                         f"`{_GRID_KEYS.get(key, key)}`; allowed keys: {', '.join(known)}")
        else:
            lines.append(f"{where}: unknown key {key!r}{did_you_mean(key, known)}; allowed keys: {', '.join(known)}")
    return lines


def _matching_branch(error: Any) -> list[Any]:
    """The errors of the oneOf/anyOf branch whose type fits the value, when they lie deeper inside
    it or name its keys (a bad key within a mapping); [] when the value fits no branch or fails at its
    own level."""
    branches: dict[Any, list[Any]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    for subs in branches.values():
        if all(sub.validator != "type" or sub.relative_path for sub in subs) and \
                any(len(sub.absolute_path) > len(error.absolute_path) or sub.validator == "additionalProperties"
                    for sub in subs):
            return subs
    return []


def describe(error: Any, identity_keys: Iterable[str] = (), root: tuple[str, ...] = ()) -> list[str]:
    """One line per problem of a jsonschema ValidationError; `root`: the path of the validated value."""
    path = dotted([*root, *error.absolute_path])
    if error.validator in ("oneOf", "anyOf"):
        deeper = _matching_branch(error)
        if deeper:
            return [line for sub in deeper for line in describe(sub, identity_keys, root)]
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        return _extra_keys(error, identity_keys, root)
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return [f"{path}: missing key {k!r}" for k in missing]
    if "propertyNames" in error.schema_path:
        return [f"{path}: the name {error.instance!r} is not allowed; allowed: {_allowed(error)}"]
    return [f"{path} = {error.instance!r} is not allowed; allowed: {_allowed(error)}"]


def problems(config: Any, schema: Mapping[str, Any], identity_keys: Iterable[str] = (), root: str = "") -> list[str]:
    """Every schema violation of `config`, sorted by path, one line each; `root`: the dotted path of
    `config` inside a larger config, for the lines (e.g. "compressor")."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    lines: list[str] = []
    prefix = tuple(root.split(".")) if root else ()
    for error in errors:
        lines += [line for line in describe(error, identity_keys, prefix) if line not in lines]
    return lines


_NUMBER = re.compile(r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$")


def numbers_from_text(config: Any, schema: Mapping[str, Any]) -> Any:
    """`config` with every string that spells a number where the schema wants a number made that number:
    YAML 1.1 reads 3e-4 (no dot) as a string, so `lr: 3e-4` means the same in every config."""
    from jsonschema import Draft202012Validator

    fixed = copy.deepcopy(config)
    pending = list(Draft202012Validator(schema).iter_errors(config))
    while pending:
        error = pending.pop()
        pending += error.context or []
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        if error.validator == "type" and "number" in wanted and isinstance(error.instance, str) and \
                _NUMBER.match(error.instance) and error.absolute_path:
            *parents, last = error.absolute_path
            node = fixed
            for part in parents:
                node = node[part]
            node[last] = float(error.instance)
    return fixed


def load_schema(path: str | Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(Path(path).read_text())


def message(lines: list[str], source: str) -> str:
    """The error text: every line prefixed with the config file, at most MAX_ERRORS of them."""
    shown = [f"{source}: {line}" for line in lines[:MAX_ERRORS]]
    if len(lines) > MAX_ERRORS:
        shown.append(f"... and {len(lines) - MAX_ERRORS} more")
    return "\n".join(shown)
