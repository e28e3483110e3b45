"""Plugins installed from outside the vcon package, without touching the environment: the example
package pip-installed into a folder of its own once per session, and distributions made by hand (a
.dist-info folder with METADATA and entry_points.txt beside their modules)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vcon import plugins
from vcon.grid import workflow_schema

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "vcon-plugin-example"


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/vcon-plugin-example installed by pip into a folder (built from a copy: setuptools
    writes build/ and *.egg-info next to the sources)."""
    source = tmp_path_factory.mktemp("example-source") / EXAMPLE.name
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = tmp_path_factory.mktemp("example-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(source)], check=True, capture_output=True)
    return site


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


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """`installed(site, ...)` puts folders of installed distributions on sys.path (this process) and
    PYTHONPATH (subprocesses); the registries read the entry points again then, and after the test."""
    saved_path, folders = list(sys.path), []

    def install(*sites: Path) -> None:
        folders.extend(str(site) for site in sites)
        sys.path[:0] = [str(site) for site in sites]
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([*map(str, sites), os.environ.get("PYTHONPATH", "")]))
        _forget()

    yield install
    sys.path[:] = saved_path
    for name, module in list(sys.modules.items()):  # the plugins' own modules
        if str(getattr(module, "__file__", None)).startswith(tuple(folders)):
            del sys.modules[name]
    _forget()


def _forget() -> None:
    plugins.rescan()
    workflow_schema.cache_clear()
