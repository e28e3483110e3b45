"""What a plugin compressor declares (entry-point group `vcon.compressors`, see `vcon.plugins`), checked.

Its options are a frozen dataclass of the built-ins' form (`vcon.compressors.options`): `name` (the
entry point's), `implementation` ("module:Class", the compressor class built on the options) and
every key a `vcon.keys.key(doc, default, schema)` field whose default its own schema allows. The
options are read without torch (the workflow schema, `vcon train --help`); the class is imported
when a spec names the compressor.
"""
from __future__ import annotations

import dataclasses
import importlib
import re
from typing import Any

from vcon.plugins import BadDeclaration

IMPLEMENTATION = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
FORM = "@dataclass(frozen=True) class ...Options with vcon.keys.key(doc, default, schema) fields, as in " \
       "vcon.compressors.options"


def checked_options(declared: Any, name: str) -> type:
    """The options class an entry point names, if it has the built-ins' form; else BadDeclaration."""
    if not (isinstance(declared, type) and dataclasses.is_dataclass(declared)):
        raise BadDeclaration(f"it names {declared!r}, not an options dataclass ({FORM})")
    label = declared.__qualname__
    fields = dataclasses.fields(declared)
    if not declared.__dataclass_params__.frozen:
        raise BadDeclaration(f"{label} is not frozen; declare it @dataclass(frozen=True)")
    if "name" in {f.name for f in fields} or getattr(declared, "name", None) != name:
        raise BadDeclaration(f"{label}.name must be its entry point's name: declare name: ClassVar[str] = {name!r}")
    implementation = getattr(declared, "implementation", None)
    if not isinstance(implementation, str) or not IMPLEMENTATION.match(implementation):
        raise BadDeclaration(f"{label}.implementation is {implementation!r}; declare implementation: ClassVar[str] = "
                             f"'module:Class', the compressor class built on {label}")
    for field in fields:
        _check_key(label, field)
    return declared


def _check_key(label: str, field: dataclasses.Field) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    where = f"{label}.{field.name}"
    doc, schema = field.metadata.get("doc"), field.metadata.get("schema")
    if not (isinstance(doc, str) and doc and isinstance(schema, dict)) or field.default is dataclasses.MISSING:
        raise BadDeclaration(f"{where} is not declared with vcon.keys.key(doc, default, schema)")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise BadDeclaration(f"{where}: its schema {schema!r} is not a JSON schema ({error.message})") from None
    default = list(field.default) if isinstance(field.default, tuple) else field.default  # a spec holds lists
    if not Draft202012Validator(schema).is_valid(default):
        raise BadDeclaration(f"{where}: its default {field.default!r} is not allowed by its own schema {schema!r}")


def implementation(declared: Any, name: str) -> type:
    """The compressor class a plugin's options name (imported now), if it is built on them."""
    from vcon.compressors.base import FactorCompressor, WeightCompressor

    options = checked_options(declared, name)
    module, _, attribute = options.implementation.partition(":")
    cls = getattr(importlib.import_module(module), attribute)
    kinds = (WeightCompressor, FactorCompressor)
    if not (isinstance(cls, type) and issubclass(cls, options) and issubclass(cls, kinds)):
        raise BadDeclaration(f"{options.implementation} is {cls!r}, not a compressor class built on "
                             f"{options.__qualname__}: @dataclass(frozen=True) class "
                             f"{attribute}({options.__qualname__}, WeightCompressor) (or FactorCompressor)")
    added = [f.name for f in dataclasses.fields(cls) if f.name not in {g.name for g in dataclasses.fields(options)}]
    if added:
        raise BadDeclaration(f"{options.implementation} has keys that {options.__qualname__} does not declare: "
                             f"{', '.join(added)}; declare every key in the options")
    return cls
