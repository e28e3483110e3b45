"""The probability of improvement across settings, after rliable (Agarwal et al. 2021):
P(X > Y) = the mean over settings of P(a run of X beats a run of Y in that setting), ties counted
one half (the Mann-Whitney U over n m pairs), with a stratified bootstrap interval: within each
setting (the strata) the runs of X and of Y are resampled independently, and the percentile interval
of the resampled means is reported.

Written with numpy after rliable's definitions: rliable 1.2.0 needs `arch` < 8, and arch 7.2.0 fails
to import beside the pinned pandas 3.1.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LEVEL = 0.95


def _wins(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """S[i, j] = 1 where x_i > y_j, 1/2 where equal, 0 below."""
    return (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])


def probability_of_improvement(settings: Sequence[tuple[Sequence[float], Sequence[float]]]) -> float:
    """The mean over settings of P(X > Y); each setting is (runs of X, runs of Y)."""
    if not settings:
        return float("nan")
    return float(np.mean([_wins(np.asarray(x, float), np.asarray(y, float)).mean() for x, y in settings]))


def stratified_interval(settings: Sequence[tuple[Sequence[float], Sequence[float]]], resamples: int = 10000,
                        seed: int = 0, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of the probability of improvement under a stratified bootstrap: in every
    setting, n runs of X and m runs of Y drawn with replacement (independently), `resamples` times."""
    if not settings:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    total = np.zeros(resamples)
    for x, y in settings:
        wins = _wins(np.asarray(x, float), np.asarray(y, float))
        n, m = wins.shape
        count_x = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples)
        count_y = rng.multinomial(m, np.full(m, 1.0 / m), size=resamples)
        total += np.einsum("ri,ij,rj->r", count_x, wins, count_y) / (n * m)
    means = total / len(settings)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)
