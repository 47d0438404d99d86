"""Online Elo (Chatbot Arena's original leaderboard) over battles in a documented order, and its bootstrap.

Order matters for online Elo: the same battles shuffled give different ratings. The sequence is built by
:func:`elo_updates` from the rows:

- a row of ``count`` n is n battles (n must be a whole number);
- a row of ``weight`` w is a frequency weight applied as updates of total step ``K * w``: one update of
  step ``K * w`` when ``w <= 1`` (a probability-split verdict), else ``ceil(w)`` updates, ``floor(w)``
  of step ``K`` and one of the fractional rest (a strong verdict of weight 3 is three battles, exactly as
  arena-hard duplicates the row three times), so a weight-2 row, a count-2 row and two identical rows
  are the same updates;
- ``order="file"``: rows in file order, a row's updates consecutive; ``"time"``: rows in the order of their
  times (``tstamp``; equal times in file order), then as ``file``; ``"shuffle"``: that sequence permuted with
  the rating seed; ``"auto"``: when every row is at most one update, ``time`` if every row has a time (FastChat
  sorts Chatbot Arena's battles by it: a log in any row order then gives the same Elo), else ``file`` (the
  Chatbot Arena convention, battles in file order); else ``shuffle`` (an aggregated file keeps no battle
  order, and consecutive blocks of one pair would bias online Elo toward whichever block came last).

The bootstrap resamples those updates (or whole questions) with replacement and reruns every round in
lockstep, vectorised over rounds, so its cost is ``len(sequence)`` numpy steps whatever the rounds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np

from arena.rating.frame import A_WINS, B_WINS, TIE

EloOrder = Literal["auto", "file", "shuffle", "time"]

_LOCKSTEP_BLOCK = 2048
"""Time steps whose indices are drawn at once in the lockstep bootstrap."""
_MAX_ORDER_ENTRIES = 1 << 25
"""Largest ``rounds x length`` index matrix built at once for question resampling (~256 MB)."""


def elo_updates(
    count: np.ndarray,
    weight: np.ndarray | None = None,
    order: EloOrder = "auto",
    rng: np.random.Generator | None = None,
    time: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The Elo update sequence of a battles table (see the module docstring for the rules).

    Args:
        count: whole number of battles per row (non-integer counts are the caller's to refuse).
        weight: frequency weight per row (default 1).
        order: ``auto``, ``file``, ``time`` or ``shuffle`` (:func:`sequence_order` resolves ``auto``).
        rng: the generator that shuffles (needed when the sequence is shuffled).
        time: each row's time (NaN: none), for the ``time`` order.

    Returns:
        ``(rows, step)``: the row index of every update, in sequence, and its step factor (the K
        multiplier, in ``(0, 1]``). Zero-weight and zero-count rows make no update.

    Raises:
        ValueError: the ``time`` order without a time on every row, or a shuffle without ``rng``.
    """
    count = np.rint(np.asarray(count, dtype=float)).astype(np.int64)
    w = np.ones(len(count)) if weight is None else np.asarray(weight, dtype=float)
    resolved = sequence_order(count, w, order, time)
    if resolved == "time":
        assert time is not None  # sequence_order checked it
        by_time = np.argsort(time, kind="stable")
        rows, step = elo_updates(count[by_time], w[by_time], "file")
        return by_time[rows], step
    per_battle = np.where(w > 0, np.ceil(w), 0).astype(np.int64)
    units = count * per_battle
    rows = np.repeat(np.arange(len(count)), units)
    starts = np.cumsum(units) - units
    j = (np.arange(len(rows)) - np.repeat(starts, units)) % np.maximum(np.repeat(per_battle, units), 1)
    whole = np.floor(w)
    frac = w - whole
    step = np.where(j < np.repeat(whole, units), 1.0, np.repeat(frac, units))
    if resolved == "shuffle":
        if rng is None:
            raise ValueError("a shuffled Elo sequence needs a random generator")
        perm = rng.permutation(len(rows))
        rows, step = rows[perm], step[perm]
    return rows, step


def sequence_order(count: np.ndarray, weight: np.ndarray | None, order: EloOrder,
                   time: np.ndarray | None = None) -> Literal["file", "shuffle", "time"]:
    """The order :func:`elo_updates` runs this table in: ``order`` itself, or what ``auto`` resolves to.

    Raises:
        ValueError: ``time`` asked for without a time on every row.
    """
    timed = time is not None and bool(np.isfinite(time).all())
    if order == "time":
        if not timed:
            raise ValueError("the time order needs a time on every row")
        return "time"
    if order != "auto":
        return order
    w = np.ones(len(count)) if weight is None else np.asarray(weight, dtype=float)
    units = np.rint(np.asarray(count, dtype=float)) * np.where(w > 0, np.ceil(w), 0)
    if units.max(initial=0) > 1:
        return "shuffle"
    return "time" if timed else "file"


def elo(
    n_items: int,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    k: float = 4.0,
    initial: float = 1000.0,
    scale: float = 400.0,
    base: float = 10.0,
    ties: str = "half",
    step: np.ndarray | None = None,
) -> np.ndarray:
    """Sequential Elo over battles in the given order.

    Args:
        n_items: number of models.
        data: ``(a, b, outcome)`` arrays, outcome codes as in :mod:`arena.rating.frame`.
        k: update step.
        initial: starting rating of every model.
        scale, base: expected score of ``a`` is ``1 / (1 + base ** ((r_b - r_a) / scale))``.
        ties: ``half`` scores a tie 0.5 for both; ``drop`` skips ties.
        step: per-battle multiplier of ``k`` (default 1), e.g. from :func:`elo_updates`.

    Returns:
        Ratings, shape ``(n_items,)``.
    """
    a, b, outcome = (np.asarray(x).tolist() for x in data)
    factors = [1.0] * len(a) if step is None else np.asarray(step, dtype=float).tolist()
    r = [float(initial)] * n_items
    score_of = {A_WINS: 1.0, B_WINS: 0.0, TIE: 0.5}
    drop = ties == "drop"
    for x, y, o, f in zip(a, b, outcome, factors, strict=True):
        if o == TIE and drop:
            continue
        expected = 1.0 / (1.0 + base ** ((r[y] - r[x]) / scale))
        delta = k * f * (score_of[o] - expected)
        r[x] += delta
        r[y] -= delta
    return np.array(r)


def _lockstep(
    n_items: int,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    blocks: Iterator[np.ndarray],
    rounds: int,
    step: np.ndarray,
    *,
    k: float = 4.0,
    initial: float = 1000.0,
    scale: float = 400.0,
    base: float = 10.0,
    ties: str = "half",
) -> np.ndarray:
    """Run ``rounds`` Elo sequences side by side; ``blocks`` yields ``(T, rounds)`` battle indices in turn.

    Ratings are kept on the natural scale (``r * ln(base) / scale``) so the expected score is
    ``1 / (1 + exp(s_b - s_a))``; the per-step work is a handful of numpy calls on ``rounds`` values.
    """
    a, b, outcome = (np.asarray(x) for x in data)
    c = np.log(base) / scale
    gain = c * k * np.asarray(step, dtype=float) * ((outcome != TIE) if ties == "drop" else 1.0)
    score = np.where(outcome == A_WINS, 1.0, np.where(outcome == B_WINS, 0.0, 0.5))
    gain_score = gain * score
    s = np.full(rounds * n_items, float(initial) * c)
    offset = (np.arange(rounds) * n_items)[None, :]
    for idx in blocks:
        fx = a[idx] + offset
        fy = b[idx] + offset
        g, gs = gain[idx], gain_score[idx]
        for t in range(idx.shape[0]):
            x, y = fx[t], fy[t]
            sx, sy = s[x], s[y]
            e = np.exp(sy - sx)
            e += 1.0
            delta = gs[t] - g[t] / e
            s[x] = sx + delta
            s[y] = sy - delta
    return s.reshape(rounds, n_items) / c


def elo_rounds(
    n_items: int,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    order: np.ndarray,
    *,
    k: float = 4.0,
    initial: float = 1000.0,
    scale: float = 400.0,
    base: float = 10.0,
    ties: str = "half",
    step: np.ndarray | None = None,
) -> np.ndarray:
    """Run many Elo sequences at once, vectorised over rounds.

    Args:
        order: ``(rounds, length)`` battle indices; row ``r`` is the battle sequence of round ``r``.
        step: per-battle multiplier of ``k`` (default 1).

    Returns:
        Ratings, shape ``(rounds, n_items)``.
    """
    order = np.asarray(order, dtype=np.int64)
    factors = np.ones(len(data[0])) if step is None else np.asarray(step, dtype=float)
    blocks = (order[:, s : s + _LOCKSTEP_BLOCK].T for s in range(0, order.shape[1], _LOCKSTEP_BLOCK))
    kw = {"k": k, "initial": initial, "scale": scale, "base": base, "ties": ties}
    return _lockstep(n_items, data, blocks, order.shape[0], factors, **kw)  # type: ignore[arg-type]


def elo_bootstrap(
    n_items: int,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    rounds: int,
    rng: np.random.Generator,
    *,
    groups: np.ndarray | None = None,
    step: np.ndarray | None = None,
    **kwargs: float | str,
) -> np.ndarray:
    """Bootstrap online Elo: resample battles (or whole ``groups``) with replacement, in random order, rerun.

    Args:
        data: the update sequence's ``(a, b, outcome)`` (one entry per update, see :func:`elo_updates`).
        groups: question index per update; None resamples single updates (each round is ``len`` draws
            with replacement, generated block by block so memory stays flat for millions of battles).
        step: per-update multiplier of ``k``.

    Returns:
        Ratings, shape ``(rounds, n_items)``.
    """
    n = len(data[0])
    initial = float(kwargs.get("initial", 1000.0))
    if rounds == 0 or n == 0:
        return np.zeros((rounds, n_items)) + initial
    factors = np.ones(n) if step is None else np.asarray(step, dtype=float)
    if groups is None:
        blocks = (
            rng.integers(0, n, size=(min(_LOCKSTEP_BLOCK, n - s), rounds))
            for s in range(0, n, _LOCKSTEP_BLOCK)
        )
        return _lockstep(n_items, data, blocks, rounds, factors, **kwargs)  # type: ignore[arg-type]
    # Number the groups that have updates (sorted, so row order does not matter) and index them once.
    dense = np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
    members = np.argsort(dense, kind="stable")
    starts = np.searchsorted(dense[members], np.arange(int(dense.max()) + 2))
    chunk = max(1, _MAX_ORDER_ENTRIES // n)
    out = []
    for start in range(0, rounds, chunk):
        size = min(chunk, rounds - start)
        order = np.stack([_group_sample(members, starts, n, rng) for _ in range(size)])
        out.append(elo_rounds(n_items, data, order, step=factors, **kwargs))  # type: ignore[arg-type]
    return np.concatenate(out)


def _group_sample(members: np.ndarray, starts: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Battle indices of a resample of whole groups, shuffled, truncated/padded to the original length ``n``.

    ``members`` are battle indices sorted by group and ``starts[g]:starts[g + 1]`` group ``g``'s slice.
    """
    n_groups = len(starts) - 1
    picked = rng.integers(0, n_groups, size=n_groups)
    sizes = starts[picked + 1] - starts[picked]
    # Concatenate the picked groups' members without a Python loop over groups.
    first = np.repeat(starts[picked] - (np.cumsum(sizes) - sizes), sizes)
    idx = members[first + np.arange(int(sizes.sum()))]
    rng.shuffle(idx)
    # Rounds run in lockstep, so each needs the same length; resampled totals differ only by noise.
    return idx[:n] if len(idx) >= n else np.concatenate([idx, idx[rng.integers(0, len(idx), n - len(idx))]])
