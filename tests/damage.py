"""Damaging a file the way a crashed node or a flaky shared file system does (tests of vcon.integrity)."""
from __future__ import annotations

from pathlib import Path


def flip_bytes(path: Path, count: int = 2) -> None:
    """Invert `count` bytes in the middle of the file: same size, other content."""
    data = bytearray(Path(path).read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + count):
        data[i] ^= 0xFF
    Path(path).write_bytes(bytes(data))


def truncate(path: Path) -> None:
    """Keep the first half of the file."""
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])


def change_digit(path: Path, old: str, new: str) -> None:
    """Replace the first occurrence of `old` by `new` (a flipped digit in a text file)."""
    text = Path(path).read_text()
    assert old in text, f"{old!r} not in {path}"
    Path(path).write_text(text.replace(old, new, 1))
