"""Distributions made by hand for the plugin tests: a .dist-info folder with METADATA and
entry_points.txt beside their modules, as pip leaves an installed package."""
from __future__ import annotations

from pathlib import Path


def make_distribution(root: Path, name: str, entry_points: dict[str, dict[str, str]],
                      modules: dict[str, str] | None = None) -> Path:
    """A distribution `name` 0.1 installed by hand into `root`: its entry points by group, and its
    modules (file name -> source)."""
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in points.items()) + "\n"
        for group, points in entry_points.items()))
    for file, text in (modules or {}).items():
        (root / file).write_text(text)
    return root
