"""Plugins installed from outside the vcon package, without touching the environment: the example
package pip-installed into a folder of its own once per session, and `installed` to put such folders
(or those of distributions.make_distribution) on the paths."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from workflow_run import REPO

from vcon import plugins
from vcon.grid import workflow_schema

EXAMPLE = REPO / "examples" / "vcon-plugin-example"


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/vcon-plugin-example installed by pip into a folder, offline: built from a copy
    (setuptools writes build/ and *.egg-info next to the sources) with the environment's setuptools
    (torch requires one that builds wheels)."""
    source = tmp_path_factory.mktemp("example-source") / EXAMPLE.name
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = tmp_path_factory.mktemp("example-site")
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                             "--no-index", "--target", str(site), str(source)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return site


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
