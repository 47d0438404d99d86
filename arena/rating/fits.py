"""The built-in rating methods' fit functions (registered in :mod:`arena.rating.registry` as ``bt`` and ``elo``).

Each is ``fit(encoded, settings, rng, *, interval) -> Fit``. Bradley-Terry takes ``bootstrap``
(``settings.bootstrap`` rounds, resampling questions or battles as ``settings.resample`` says) and
``sandwich`` (clustered the same way), every tie model of :data:`~arena.rating.registry.TIE_MODELS` and
inverse-pair reweighting; Elo takes ``bootstrap``, ties ``half``/``drop`` and no reweighting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from arena.errors import DataError, UserError
from arena.rating import ties
from arena.rating.bootstrap import Resampler, bootstrap_strengths, make_resampler
from arena.rating.bt import (
    DEFAULT_RIDGE,
    aggregate,
    canonical,
    compact_codes,
    fit_pairs,
    graph_warnings,
    pair_design,
)
from arena.rating.encoding import Encoded
from arena.rating.frame import A_WINS, B_WINS, TIE
from arena.rating.lmarena import TIME_COLUMN
from arena.rating.online_elo import elo, elo_bootstrap, elo_updates, sequence_order
from arena.rating.registry import TIE_MODELS, Fit
from arena.rating.reweight import inverse_pair_factor
from arena.rating.sandwich import bt_covariance, clusters, meat, sandwich
from arena.rating.settings import RatingSettings


def resample_unit(enc: Encoded, settings: RatingSettings) -> Literal["question", "battle"]:
    """Battles without question ids: every battle is its own question, so questions are battles."""
    return settings.resample if enc.has_questions else "battle"


def resampling_units(enc: Encoded, settings: RatingSettings) -> tuple[Literal["question", "battle"], int]:
    """What intervals resample (or cluster by), and how many distinct ones hold battles: questions, or for single
    battles the kinds of battle (pair and outcome), since identical battles resample alike.

    With ``q`` questions the ratings vary in at most ``q - 1`` directions across resamples (and the clustered
    sandwich has rank ``q - 1``): with one unit every interval would read zero width, a certainty nothing
    measured, and with fewer questions than models some intervals come out too narrow."""
    unit = resample_unit(enc, settings)
    live = enc.weight > 0
    if unit == "question":
        return unit, len(compact_codes(enc.group[live])[0])
    lo, hi = np.minimum(enc.a, enc.b)[live], np.maximum(enc.a, enc.b)[live]
    outcome = np.where(enc.outcome[live] == TIE, TIE, np.where((enc.outcome[live] == A_WINS) == (enc.a[live] == lo),
                                                                A_WINS, B_WINS))
    return unit, len(compact_codes((lo * enc.n_items + hi) * 3 + outcome, enc.n_items * enc.n_items * 3)[0])


def _graph_notes(enc: Encoded, i: np.ndarray, j: np.ndarray, wins: np.ndarray, total: np.ndarray) -> list[str]:
    notes = []
    for kind, idx in graph_warnings(enc.n_items, i, j, wins, total):
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
    return notes


@dataclass(frozen=True)
class _Reweighted(Resampler):
    """Resample battles as they were observed, then apply the fixed per-cell reweighting."""

    base: Resampler | None = None
    factor: np.ndarray | None = None

    def prepare(self) -> None:
        assert self.base is not None  # built only by _resampler
        self.base.prepare()

    def draw_many(self, rng: np.random.Generator, rounds: int) -> np.ndarray:
        assert self.base is not None and self.factor is not None  # built only by _resampler
        return self.base.draw_many(rng, rounds) * self.factor


def _resampler(
    enc: Encoded, settings: RatingSettings, cell_of_row: np.ndarray, n_cells: int, cell_factor: np.ndarray | None
) -> Resampler:
    base = make_resampler(cell_of_row, enc.weight, enc.count, enc.group, n_cells, resample_unit(enc, settings))
    if cell_factor is None:
        return base
    return _Reweighted(base.cell_weight * cell_factor, None, base=base, factor=cell_factor)


def _cell_factor(enc: Encoded, settings: RatingSettings, cell_of_row: np.ndarray, n_cells: int) -> np.ndarray | None:
    """The reweighting per cell (constant within a pair, so within a cell), or None without reweighting."""
    if settings.reweight == "none":
        return None
    out = np.ones(n_cells)
    out[cell_of_row] = inverse_pair_factor(enc.n_items, enc.a, enc.b, enc.weight)
    return out


def fit_bt(
    enc: Encoded,
    settings: RatingSettings,
    rng: np.random.Generator,
    *,
    interval: str = "bootstrap",
    init: np.ndarray | None = None,
) -> Fit:
    """Bradley-Terry under the tie model ``settings.ties``: point strengths (natural scale), the interval
    (``bootstrap``: ``settings.bootstrap`` resampled refits; ``sandwich``: the clustered covariance of
    :mod:`arena.rating.sandwich`), the tie model's parameters, and warnings about an ill-posed design
    (unplayed, disconnected, unbeaten or winless models). ``settings.reweight`` reweights the fit only.
    ``init`` warm-starts the Newton fits (natural scale; the optimum is the same, it only saves iterations)."""
    n = enc.n_items
    cells, cell_of_battle = aggregate(n, *canonical(enc.a, enc.b, enc.outcome), enc.weight)
    n_cells = len(cells.a)
    cell_factor = _cell_factor(enc, settings, cell_of_battle, n_cells)
    fit_weight = cells.weight if cell_factor is None else cells.weight * cell_factor
    tie_model = TIE_MODELS[settings.ties]
    design = pair_design(n, cells, "drop" if settings.ties == "drop" else "half")
    wins, total = design.totals(fit_weight)
    point = fit_pairs(n, design.i, design.j, wins, total, init=init)
    notes = _graph_notes(enc, design.i, design.j, wins, total)
    by_question = resample_unit(enc, settings) == "question"
    if tie_model.fit is not None:
        return _fit_tie_model(enc, settings, rng, interval, tie_model.likelihood(), point, notes)
    boot, cov = np.empty((0, n)), None
    if interval == "sandwich":
        groups = clusters(cell_of_battle, enc.weight, enc.group, n_cells, by_question)
        cov = bt_covariance(design, point, cells.weight, groups, cell_factor)
    elif settings.bootstrap > 0:
        sampler = _resampler(enc, settings, cell_of_battle, n_cells, cell_factor)
        boot = bootstrap_strengths(design, sampler, settings.bootstrap, rng, init=point)
    return Fit(point, boot, notes, cov=cov)


def _fit_tie_model(
    enc: Encoded,
    settings: RatingSettings,
    rng: np.random.Generator,
    interval: str,
    likelihood: Any,
    start: np.ndarray,
    notes: list[str],
) -> Fit:
    """Davidson / Rao-Kupper (:mod:`arena.rating.ties`) with their intervals, warm-started at the half-tie fit.

    Raises:
        DataError: no battle has a winner (all ties): the tie parameter then has no finite estimate.
    """
    n = enc.n_items
    if not bool(((enc.outcome != TIE) & (enc.weight > 0)).any()):
        raise DataError(f"rating.ties {settings.ties}: every battle is a tie, so the tie model's parameter has no "
                        "finite estimate; rate with --ties half (all ratings equal) or judge games with a winner")
    cells, cell_of_row = ties.tie_cells(enc, enc.weight, bothbad_apart=True)
    n_cells = len(cells.i)
    cell_factor = _cell_factor(enc, settings, cell_of_row, n_cells)
    fit_weight = cells.weight if cell_factor is None else cells.weight * cell_factor
    model = likelihood(cells)
    x = ties.fit(model, cells, fit_weight, init=np.r_[start, model.initial()])
    boot, cov = np.empty((0, n)), None
    if interval == "sandwich" or settings.bootstrap > 0:
        hess = ties.hessian(model, cells, fit_weight, x, DEFAULT_RIDGE)
        if interval == "sandwich":
            groups = clusters(cell_of_row, enc.weight, enc.group, n_cells, resample_unit(enc, settings) == "question")
            cov = sandwich(hess, meat(ties.scores(model, cells, x, cell_factor), cells.weight, groups))[:n, :n]
        else:
            draws = _resampler(enc, settings, cell_of_row, n_cells, cell_factor).draw_many(rng, settings.bootstrap)
            boot = ties.bootstrap(model, cells, draws, x, hess, base_weight=fit_weight)
    return Fit(x[:n], boot, notes, cov=cov, params=model.params(x[n:]))


MAX_ELO_UPDATES = 50_000_000
"""Longest Elo sequence :func:`fit_elo` will run (counts expand to one update per battle)."""


def fit_elo(
    enc: Encoded, settings: RatingSettings, rng: np.random.Generator, *, interval: str = "bootstrap"
) -> Fit:
    """Online Elo over the update sequence of :func:`~arena.rating.online_elo.elo_updates`, and its bootstrap.

    Raises:
        DataError: a non-integer count (Elo runs whole battles), or a sequence too long to run.
    """
    if settings.ties not in ("half", "drop"):
        raise UserError(f"rating.ties {settings.ties!r}: elo takes half or drop; use --method bt for tie models")
    if settings.reweight != "none":
        raise UserError("rating.reweight inverse-pair: elo runs battles one by one; use --method bt")
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
    untimed = 0 if enc.time is None else int((~np.isfinite(enc.time)).sum())
    try:
        order = sequence_order(enc.count, row_weight, e.order, enc.time)
    except ValueError:
        raise DataError(
            f"rating.elo.order time (--elo-order time) runs battles in the order of their {TIME_COLUMN}, but "
            + (f"there is no {TIME_COLUMN} column" if enc.time is None else f"{untimed:,} of {len(enc.a):,} rows have none")
            + "; give every row a time, or use --elo-order file"
        ) from None
    rows, step = elo_updates(enc.count, row_weight, order, rng, enc.time)
    notes = []
    if order == "shuffle":
        seed = 0 if settings.seed is None else settings.seed
        notes.append(
            f"elo: {len(enc.a):,} rows expanded to {len(rows):,} updates (counts, and weights above 1) "
            f"and run in an order shuffled with seed {seed}; online Elo depends on battle order"
        )
    elif order == "time" and (moved := int((np.diff(rows) < 0).sum())):
        notes.append(f"elo: battles run in the order of their {TIME_COLUMN} (as FastChat orders Chatbot Arena's), "
                     f"not in file order ({moved:,} steps back in the file)")
    elif order == "file" and untimed:
        notes.append(f"elo: {untimed:,} of {len(enc.a):,} rows have no usable {TIME_COLUMN}, so battles run in file "
                     "order (online Elo depends on it)")
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
