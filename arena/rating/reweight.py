"""Inverse-pair-frequency reweighting (LMArena's, ``rating.reweight: inverse-pair``).

An unbalanced log (one pair battled thousands of times, others a few dozen) lets the heavily sampled pairs
dominate the fit. LMArena's rater (lmarena/arena-rank, ``PairDataset(reweighted=True)``) gives every battle
of a model pair the weight ``1 / max(n_pair, 50)``, so every pair with at least 50 battles counts as much
as any other and thinner pairs are not inflated. Here the weights are rescaled to sum to the number of
battles (the fit's ridge then means what it means unweighted; the optimum does not move).
"""

from __future__ import annotations

import numpy as np

from arena.rating.bt import compact_codes

MIN_PAIR_COUNT = 50.0
"""Pairs with fewer battles are weighted as if they had this many (LMArena's ``min_pair_count``)."""


def inverse_pair_factor(
    n_items: int, a: np.ndarray, b: np.ndarray, freq: np.ndarray, *, min_count: float = MIN_PAIR_COUNT
) -> np.ndarray:
    """Per-row multiplier of the fit weight: ``1 / max(pair battles, min_count)``, rescaled so that
    ``sum(freq * factor) == sum(freq)``.

    Args:
        n_items: number of models.
        a, b: model indices per row (either order: a pair is unordered).
        freq: battles per row (``count * weight``), which sum to the pair's battles.
        min_count: the floor on a pair's battle count.
    """
    a, b, freq = np.asarray(a, np.int64), np.asarray(b, np.int64), np.asarray(freq, dtype=float)
    if len(a) == 0:
        return np.ones(0)
    code = np.minimum(a, b) * n_items + np.maximum(a, b)
    uniq, inverse = compact_codes(code, n_items * n_items)
    pair_freq = np.bincount(inverse, freq, len(uniq))
    raw = 1.0 / np.maximum(pair_freq, min_count)[inverse]
    total, weighted = float(freq.sum()), float(freq @ raw)
    return raw * (total / weighted) if weighted > 0 else np.ones(len(a))
