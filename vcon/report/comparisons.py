"""What a paired comparison (VCON minus a baseline, per seed) shows, in words that survive a change
of machine: its class, the seeds it would need, and whether two disjoint blocks of seeds agree.

The rules (docs/design.md, fixed before the reported runs):
- class, the first that applies to the 95 % interval [low, high] of the mean gain, in points:
  "ahead by more than 1 point" (low > +1), "ahead" (low > 0), "behind" (high < 0), "equivalent
  within ±1 point" (the interval contains 0 and lies inside [-1, +1]: two one-sided tests, in their
  conservative form), "undecided" (none of these);
- two results agree when both are decided and point the same way (ahead, behind, equivalent), when
  one is undecided and its mean lies on the decided one's side (> 0 for ahead, < 0 for behind,
  within ±1 for equivalent), or when both are undecided;
- a finding (a decided all-seed class) replicates when the two blocks of seeds agree with each other
  and each agrees with the all-seed class.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

AHEAD_BY_MARGIN = "ahead by more than 1 point"
AHEAD = "ahead"
BEHIND = "behind"
EQUIVALENT = "equivalent within ±1 point"
UNDECIDED = "undecided"
CLASSES = (AHEAD_BY_MARGIN, AHEAD, BEHIND, EQUIVALENT, UNDECIDED)
MARGIN = 1.0  # points: v3's "more than 1 point", and the equivalence margin
_DIRECTION = {AHEAD_BY_MARGIN: "ahead", AHEAD: "ahead", BEHIND: "behind", EQUIVALENT: "equivalent"}


def classify(low: float, high: float, margin: float = MARGIN) -> str:
    """The class of a gain's 95 % interval [low, high] (points); undecided when it is unknown (NaN)."""
    if math.isnan(low) or math.isnan(high):
        return UNDECIDED
    if low > margin:
        return AHEAD_BY_MARGIN
    if low > 0:
        return AHEAD
    if high < 0:
        return BEHIND
    if -margin <= low and high <= margin:
        return EQUIVALENT
    return UNDECIDED


def direction(cls: str) -> str | None:
    """ahead, behind or equivalent for a decided class; None for undecided."""
    if cls not in CLASSES:
        raise ValueError(f"unknown class {cls!r}; valid: {', '.join(CLASSES)}")
    return _DIRECTION.get(cls)


def _on_side(mean: float, way: str, margin: float) -> bool:
    if math.isnan(mean):
        return False
    return mean > 0 if way == "ahead" else mean < 0 if way == "behind" else abs(mean) <= margin


def agree(class_a: str, mean_a: float, class_b: str, mean_b: float, margin: float = MARGIN) -> bool:
    """Whether two results of one comparison (two blocks of seeds, or two machines) agree."""
    way_a, way_b = direction(class_a), direction(class_b)
    if way_a is not None and way_b is not None:
        return way_a == way_b
    if way_a is not None:
        return _on_side(mean_b, way_a, margin)
    if way_b is not None:
        return _on_side(mean_a, way_b, margin)
    return True


def replicates(all_class: str, all_mean: float, blocks: Sequence[tuple[str, float]], margin: float = MARGIN) -> bool:
    """Whether a decided all-seed class replicates over two blocks of seeds (False when undecided)."""
    if direction(all_class) is None:
        return False
    (class_a, mean_a), (class_b, mean_b) = blocks
    return (agree(class_a, mean_a, class_b, mean_b, margin) and agree(all_class, all_mean, class_a, mean_a, margin)
            and agree(all_class, all_mean, class_b, mean_b, margin))


def split_blocks(seeds: Sequence[str]) -> tuple[list[str], list[str]]:
    """The seeds in numeric order, cut into a first and a second half (the first gets the odd one)."""
    ordered = sorted(seeds, key=int)
    middle = (len(ordered) + 1) // 2
    return ordered[:middle], ordered[middle:]


def seeds_needed(sd: float, half_width: float = MARGIN, level: float = 0.95, most: int = 10_000) -> float:
    """The fewest seeds n for which a paired t interval with this spread has at most `half_width`:
    t(level, n - 1) sd / sqrt(n) <= half_width. NaN when the spread is unknown; inf beyond `most`."""
    if math.isnan(sd):
        return math.nan
    if sd == 0:
        return 2
    from scipy import stats

    for n in range(2, most + 1):
        if stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n) <= half_width:
            return n
    return math.inf
