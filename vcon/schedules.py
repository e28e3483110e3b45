"""Schedules, each a pure function of the global optimizer step.

Beta schedules give the weight of the original branch (1 -> 0 over Q steps); iterative schedules
give the compression level of the gradual baselines over T steps. Because they depend on the step
only, resuming from a checkpoint that stores the step reproduces them exactly.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

EXPONENTIAL_RATE = 5.0
STEP_STAIRS = 4


def _progress(step: int, total: int) -> float:
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if total < 0:
        raise ValueError(f"the schedule length must be >= 0, got {total}")
    if total == 0 or step >= total:
        return 1.0
    return step / total


def linear(step: int, q: int) -> float:
    """The paper's schedule: max(1 - t/Q, 0)."""
    return 1.0 - _progress(step, q)


def cosine(step: int, q: int) -> float:
    """Half a cosine from 1 to 0: slow start, fast middle, slow end."""
    p = _progress(step, q)
    return 0.0 if p >= 1.0 else 0.5 * (1.0 + math.cos(math.pi * p))


def exponential(step: int, q: int) -> float:
    """exp(-5 t/Q) shifted and scaled so that it starts at 1 and reaches exactly 0 at Q."""
    p = _progress(step, q)
    if p >= 1.0:
        return 0.0
    floor = math.exp(-EXPONENTIAL_RATE)
    return (math.exp(-EXPONENTIAL_RATE * p) - floor) / (1.0 - floor)


def staircase(step: int, q: int) -> float:
    """A staircase of 4 equal drops: 1, 0.75, 0.5, 0.25, then 0 from Q on."""
    p = _progress(step, q)
    return 1.0 - math.floor(p * STEP_STAIRS) / STEP_STAIRS


BETA_SCHEDULES = {"linear": linear, "cosine": cosine, "exponential": exponential, "staircase": staircase}


def beta(shape: str, step: int, q: int) -> float:
    """beta at optimizer step `step` for a transition of `q` steps (q = 0: post-shot, beta = 0)."""
    try:
        schedule = BETA_SCHEDULES[shape]
    except KeyError:
        raise ValueError(
            f"unknown beta schedule {shape!r}; valid schedules: {', '.join(BETA_SCHEDULES)}"
        ) from None
    return schedule(step, q)


def gradual_sparsity(step: int, total: int, final: float, every: int | None = 1, start: int = 0,
                     initial: float = 0.0, updates: int | None = None) -> float:
    """Zhu & Gupta's (2017, eq. 1) gradual pruning: s_t = s_f + (s_i - s_f) (1 - (t - t_0) / (n dt))^3,
    updated at t = t_0, t_0 + dt, ..., t_0 + n dt and held in between; 0 before t_0, s_f after the last
    update. `start` is t_0, `every` dt, `initial` s_i, `updates` n; see `ramp` for the defaults."""
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    every, n = ramp(total, every, start, updates)
    if step < start:
        return 0.0
    done = min((step - start) // every, n)
    return final + (initial - final) * (1.0 - done / n) ** 3


def ramp(total: int, every: int | None = 1, start: int = 0, updates: int | None = None) -> tuple[int, int]:
    """(dt, n) of a sparsity ramp that must end by T = `total` (t_0 + n dt <= T): dt = `every`, else
    (T - t_0) // n when only n is given, else 1; n = `updates`, else as many as fit, (T - t_0) // dt.
    A ValueError when the ramp does not fit."""
    if start < 0:
        raise ValueError(f"the ramp's first step must be >= 0, got {start}")
    if every is None:
        every = (total - start) // updates if updates else 1
    if every < 1:
        raise ValueError(f"the ramp (t_0 = {start}, n = {updates}) needs an update interval dt >= 1 step before "
                         f"T = {total}; allowed: fewer ramp_updates, an earlier ramp_start, or a longer iterative_t")
    n = (total - start) // every if updates is None else updates
    if n < 1 or start + n * every > total:
        raise ValueError(f"the sparsity ramp (t_0 = {start}, dt = {every}, n = {n}) must have n >= 1 updates ending "
                         f"by T = {total} steps (t_0 + n dt <= T); allowed: a smaller ramp_start, ramp_every or "
                         f"ramp_updates, or a longer iterative_t")
    return every, n


INQ_SHARES = (0.5, 0.75, 0.875)


def incremental_share(step: int, total: int, shares: Sequence[float] = INQ_SHARES) -> float:
    """INQ-style share of each layer's weights that is quantized: one stage per 1/len(shares)
    of T, then 1.0 from T on."""
    p = _progress(step, total)
    if p >= 1.0:
        return 1.0
    return float(shares[min(int(p * len(shares)), len(shares) - 1)])


def stepwise_rank(step: int, total: int, start: int, final: int, stages: int = 4) -> int:
    """Rank of the gradual low-rank baseline: `stages` geometric steps from `start` down, then
    exactly `final` from T on."""
    if final > start:
        raise ValueError(f"the starting rank ({start}) must be >= the final rank ({final})")
    p = _progress(step, total)
    if p >= 1.0:
        return final
    stage = min(int(p * stages), stages - 1)
    return max(final, round(start * (final / start) ** (stage / stages)))
