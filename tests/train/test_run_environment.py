"""The git state a run records: edits to the workflow's own outputs do not make the checkout dirty."""
from __future__ import annotations

import subprocess

from vcon.train import environment


def git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_dirty_counts_code_edits_but_not_rewritten_tables_and_figures(tmp_path, monkeypatch):
    for path in ("vcon/x.py", "results/tables/accuracy.md", "figures/gains.png"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("committed")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    monkeypatch.setattr(environment, "PROJECT_ROOT", tmp_path)
    assert environment.git_commit()["dirty"] is False

    (tmp_path / "results/tables/accuracy.md").write_text("a new run's table")
    (tmp_path / "figures/gains.png").write_text("a new figure")
    (tmp_path / "notes.txt").write_text("untracked")
    assert environment.git_commit()["dirty"] is False

    (tmp_path / "vcon/x.py").write_text("edited code")
    assert environment.git_commit()["dirty"] is True
