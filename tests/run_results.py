"""Comparing runs: what two runs of the same cell and seed may differ in (timing, environment, and the
checksums of their files: torch.save writes a unique id into every file it writes, so the models'
sha256 and with them the metrics' own sha256 differ though the weights are the same), and whether a
finished run was trained again."""
from __future__ import annotations

from pathlib import Path

MAY_DIFFER = ("timing", "environment", "files", "sha256")


def comparable(metrics: dict) -> dict:
    """metrics.json without what may differ between two runs of the same cell."""
    return {key: value for key, value in metrics.items() if key not in MAY_DIFFER}


def metrics_stamps(runs_root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Run id -> (inode, mtime, content) of its metrics.json: all three stay while a run is not trained again."""
    return {str(path.parent.relative_to(runs_root)): (path.stat().st_ino, path.stat().st_mtime_ns, path.read_bytes())
            for path in Path(runs_root).rglob("metrics.json")}
