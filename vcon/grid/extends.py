"""`extends: FILE` in a workflow config: start from another config file (its path relative to this
one's folder) and change only what differs, so that the studies built on the default (its pilots, the
level map) share its recipe, and so its finished runs, instead of copying it."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vcon.grid.cells import GridError


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`: mappings key by key; a key set to null is removed (its default applies);
    any other value (a list, a number, a string) replaces the base's."""
    merged = dict(base)
    for key, value in override.items():
        inner = merged.get(key)
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge(inner, value) if isinstance(value, Mapping) and isinstance(inner, Mapping) else value
    return merged


def resolve(config: Mapping[str, Any] | None, folder: str | Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The config with its `extends` chain merged in, base first; `folder` is the config file's."""
    config = dict(config or {})
    if "extends" not in config:
        return config
    import yaml

    name = config.pop("extends")
    if not isinstance(name, str) or not name:
        raise GridError(f"extends = {name!r} is not allowed; allowed: the path of another workflow config file, "
                        f"relative to {folder}")
    path = (Path(folder) / name).resolve()
    if path in chain:
        raise GridError(f"extends: {' -> '.join(str(p) for p in (*chain, path))} is a cycle; allowed: a chain that "
                        f"ends in a config without `extends`")
    if not path.is_file():
        raise GridError(f"extends: {name!r} is not a file ({path}); allowed: another workflow config file, relative "
                        f"to {folder}")
    try:
        base = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise GridError(f"extends: {path}: not valid YAML: {' '.join(str(error).split())}") from None
    return merge(resolve(base, path.parent, (*chain, path)), config)
