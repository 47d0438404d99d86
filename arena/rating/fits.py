"""The built-in rating methods' fit functions (registered in :mod:`arena.rating.registry` as ``bt`` and ``elo``).

Each is ``fit(encoded, settings, rng, *, interval) -> Fit``; the only interval type today is ``bootstrap``
(``settings.bootstrap`` rounds, resampling questions or battles as ``settings.resample`` says).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from arena.errors import DataError
from arena.rating.bootstrap import bootstrap_strengths, make_resampler
from arena.rating.bradley_terry import aggregate, canonical, fit_pairs, graph_warnings, pair_design
from arena.rating.elo import elo, elo_bootstrap, elo_updates, is_shuffled
from arena.rating.frame import Encoded
from arena.rating.registry import Fit
from arena.rating.settings import RatingSettings


def resample_unit(enc: Encoded, settings: RatingSettings) -> Literal["question", "battle"]:
    """Battles without question ids: every battle is its own question, so questions are battles."""
    return settings.resample if enc.has_questions else "battle"


def fit_bt(
    enc: Encoded, settings: RatingSettings, rng: np.random.Generator, *, interval: str = "bootstrap"
) -> Fit:
    """Bradley-Terry: point strengths (natural scale), ``settings.bootstrap`` resampled refits and warnings
    about an ill-posed design (unplayed, disconnected, unbeaten or winless models)."""
    n = enc.n_items
    cells, cell_of_battle = aggregate(n, *canonical(enc.a, enc.b, enc.outcome), enc.weight)
    design = pair_design(n, cells, settings.ties)
    wins, total = design.totals(cells.weight)
    point = fit_pairs(n, design.i, design.j, wins, total)
    notes = []
    for kind, idx in graph_warnings(n, design.i, design.j, wins, total):
        names = ", ".join(enc.models[k] for k in idx[:10]) + (" ..." if len(idx) > 10 else "")
        notes.append(
            {
                "unplayed": f"no usable battles for: {names}; their ratings are the prior (mean)",
                "components": f"battles form disconnected groups; these models never meet the largest group: {names}; "
                "ratings across groups are not comparable",
                "unbeaten": f"never lost a battle: {names}; ratings are held finite by a small ridge and are lower bounds",
                "winless": f"never won a battle: {names}; ratings are held finite by a small ridge and are upper bounds",
            }[kind]
        )
    boot = np.empty((0, n))
    if settings.bootstrap > 0:
        sampler = make_resampler(
            cell_of_battle, enc.weight, enc.count, enc.group, len(cells.a), resample_unit(enc, settings)
        )
        boot = bootstrap_strengths(design, sampler, settings.bootstrap, rng, init=point)
    return Fit(point, boot, notes)


MAX_ELO_UPDATES = 50_000_000
"""Longest Elo sequence :func:`fit_elo` will run (counts expand to one update per battle)."""


def fit_elo(
    enc: Encoded, settings: RatingSettings, rng: np.random.Generator, *, interval: str = "bootstrap"
) -> Fit:
    """Online Elo over the update sequence of :func:`~arena.rating.elo.elo_updates`, and its bootstrap.

    Raises:
        DataError: a non-integer count (Elo runs whole battles), or a sequence too long to run.
    """
    e = settings.elo
    whole = np.isclose(enc.count, np.rint(enc.count), rtol=0, atol=1e-9)
    if not whole.all():
        bad = float(enc.count[np.flatnonzero(~whole)[0]])
        raise DataError(
            f"elo runs whole battles one by one, but a row has count {bad:g}; "
            "use --method bt (Bradley-Terry takes fractional counts)"
        )
    row_weight = enc.row_weight if enc.row_weight is not None else np.ones(len(enc.a))
    total = float((np.rint(enc.count) * np.where(row_weight > 0, np.ceil(row_weight), 0)).sum())
    if total > MAX_ELO_UPDATES:
        raise DataError(
            f"elo would run {total:,.0f} sequential updates (over {MAX_ELO_UPDATES:,}); "
            "use --method bt, which fits aggregated counts directly"
        )
    rows, step = elo_updates(enc.count, row_weight, e.order, rng)
    notes = []
    if is_shuffled(enc.count, row_weight, e.order):
        seed = 0 if settings.seed is None else settings.seed
        notes.append(
            f"elo: {len(enc.a):,} rows expanded to {len(rows):,} updates (counts, and weights above 1) "
            f"and run in an order shuffled with seed {seed}; online Elo depends on battle order"
        )
    kw: dict[str, Any] = {
        "k": e.k,
        "initial": e.initial,
        "scale": e.scale,
        "base": e.base,
        "ties": settings.ties,
    }
    data = (enc.a[rows], enc.b[rows], enc.outcome[rows])
    point = elo(enc.n_items, data, step=step, **kw)
    boot = np.empty((0, enc.n_items))
    if settings.bootstrap > 0:
        groups = enc.group[rows] if resample_unit(enc, settings) == "question" else None
        boot = elo_bootstrap(enc.n_items, data, settings.bootstrap, rng, groups=groups, step=step, **kw)
    return Fit(point, boot, notes)
