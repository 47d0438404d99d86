"""Agreement between raters on categorical outcomes: Cohen's kappa (two raters), Fleiss' kappa (many).

Pure functions over label sequences; used by the jury report (judge vs judge) and by the comparison of a
judge with people (:mod:`arena.judging.votes`). Outcomes of a pairwise game are written in the game's
canonical order (:func:`canonical_outcome`), so two raters who saw the pair in different positions compare.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

Outcome = str
"""``"first"`` (the first model of the sorted pair won), ``"second"`` or ``"tie"``."""


def canonical_outcome(model_a: str, model_b: str, winner: str) -> Outcome:
    """The outcome of a battle in the pair's sorted order: ``first``, ``second`` or ``tie``.

    ``winner`` is a FastChat label in ``model_a``/``model_b`` terms; both tie labels give ``tie``.
    """
    if winner not in ("model_a", "model_b"):
        return "tie"
    won = model_a if winner == "model_a" else model_b
    return "first" if won == min(model_a, model_b) else "second"


def pair_of(model_a: str, model_b: str) -> tuple[str, str]:
    """The sorted pair: the same for both orders of a game."""
    return (model_a, model_b) if model_a <= model_b else (model_b, model_a)


def agreement_rate(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Share of positions where ``a`` and ``b`` hold the same label (None when empty)."""
    if len(a) != len(b):
        raise ValueError(f"label sequences differ in length ({len(a)} and {len(b)})")
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a) if a else None


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Unweighted Cohen's kappa of two label sequences (as ``sklearn.metrics.cohen_kappa_score``).

    None when there is no item or when chance agreement is 1 (both raters always give one same label).
    """
    observed = agreement_rate(a, b)
    if observed is None:
        return None
    n = len(a)
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[c] * cb[c] for c in ca.keys() | cb.keys()) / (n * n)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def fleiss_kappa(items: Sequence[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa of items each rated by the same number of raters (>= 2).

    Args:
        items: per item, the labels its raters gave.

    Returns:
        ``(P_bar - P_e) / (1 - P_e)``; None with no item or when every label is the same (``P_e = 1``).

    Raises:
        ValueError: items with different numbers of ratings, or fewer than two.
    """
    if not items:
        return None
    m = len(items[0])
    if m < 2 or any(len(r) != m for r in items):
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of ratings for every item")
    n = len(items)
    totals: Counter[Hashable] = Counter()
    p_bar = 0.0
    for ratings in items:
        counts = Counter(ratings)
        totals.update(counts)
        p_bar += (sum(c * c for c in counts.values()) - m) / (m * (m - 1))
    p_bar /= n
    p_e = sum((t / (n * m)) ** 2 for t in totals.values())
    return None if p_e == 1 else (p_bar - p_e) / (1 - p_e)
