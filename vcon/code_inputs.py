"""The source files a command runs, found by following its imports of vcon modules (read, not run): the
workflow lists them as inputs of the rule that runs the command, so that an edit reruns it and a new
module is never left out."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "vcon"
ROOT = Path(__file__).resolve().parent.parent  # the folder that holds the package


def _file(module: str) -> Path | None:
    """The file of a vcon module, or None for a name that is not a module (a function, a constant)."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _run_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of a module that can run, so not the imports under `if TYPE_CHECKING:` (type hints only)."""
    nodes, pending = [], [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending += node.orelse
        else:
            pending += ast.iter_child_nodes(node)
    return nodes


def _imported(path: Path) -> set[str]:
    """The vcon modules a file imports, with the packages above them (importing runs their __init__)."""
    names: set[str] = set()
    for node in _run_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    found = set()
    for name in names:
        parts = name.split(".")
        if parts[0] == PACKAGE:
            found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return found


def sources(*modules: str) -> list[str]:
    """The files of `modules` and of every vcon module they import, directly or not, relative to ROOT,
    sorted."""
    pending, seen = list(modules), set()
    files: set[Path] = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _file(module)
        if path is not None:
            files.add(path)
            pending += _imported(path)
    return sorted(str(path.relative_to(ROOT)) for path in files)
