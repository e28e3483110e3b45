"""What two runs of the same cell and seed may differ in: timing, environment, and the checksums of
their files (torch.save writes a unique id into every file it writes, so the models' sha256 and with
them the metrics' own sha256 differ though the weights are the same)."""
from __future__ import annotations

MAY_DIFFER = ("timing", "environment", "files", "sha256")


def comparable(metrics: dict) -> dict:
    """metrics.json without what may differ between two runs of the same cell."""
    return {key: value for key, value in metrics.items() if key not in MAY_DIFFER}
