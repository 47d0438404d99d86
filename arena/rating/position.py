"""Bradley-Terry with a position (home-advantage) term: ``P(A beats B) = sigma(s_A - s_B + h)``.

``model_a`` is the answer the judge saw first (battle rows keep the judge's positions), so ``h`` is the
judge's preference for position A on the log-odds scale: 0 for an unbiased judge. With ``h`` in the model,
games judged in one order only are not biased by the position they happened to draw, and ``h`` comes with
its own interval (reported as the ``home`` parameters of the ``bt-position`` method, in rating points).

The parameter vector is ``x = (s_0 .. s_{n-1}, h)``. As every Bradley-Terry fit here, the objective carries
the gauge term ``(sum s)^2 / 2`` and a small ridge (:mod:`arena.rating.newton`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.errors import UserError
from arena.rating.bootstrap import make_resampler, percentile_interval
from arena.rating.bt import DEFAULT_RIDGE, compact_codes
from arena.rating.encoding import Encoded
from arena.rating.frame import A_WINS, B_WINS
from arena.rating.newton import add_ridge, minimize, pair_hessian, solve
from arena.rating.registry import Fit
from arena.rating.sandwich import normal_interval
from arena.rating.settings import RatingSettings


@dataclass(frozen=True)
class PositionCells:
    """Battles aggregated per ordered pair (``a`` shown first): credit to ``a`` and total weight."""

    a: np.ndarray
    b: np.ndarray
    wins: np.ndarray
    """Weighted credit to the model in position A (a tie is half)."""
    total: np.ndarray


def position_cells(n_items: int, a: np.ndarray, b: np.ndarray, credit: np.ndarray, weight: np.ndarray) -> PositionCells:
    """Sum ``credit * weight`` and ``weight`` per ordered pair ``(a, b)`` (rows of weight 0 drop out)."""
    key = np.asarray(a, dtype=np.int64) * n_items + np.asarray(b, dtype=np.int64)
    cells, inverse = compact_codes(key, n_items * n_items)
    wins = np.bincount(inverse, np.asarray(credit, dtype=float) * weight, len(cells))
    total = np.bincount(inverse, np.asarray(weight, dtype=float), len(cells))
    keep = total > 0
    return PositionCells(cells[keep] // n_items, cells[keep] % n_items, wins[keep], total[keep])


def _home_hessian(n_items: int, cells: PositionCells, x: np.ndarray, total: np.ndarray, ridge: float) -> np.ndarray:
    """Hessian of the penalised negative log-likelihood in ``(s, h)`` with pair weights ``total``."""
    p = 1.0 / (1.0 + np.exp(-(x[cells.a] - x[cells.b] + x[n_items])))
    h = total * p * (1.0 - p)
    hess = np.zeros((n_items + 1, n_items + 1))
    if len(h):
        hess[:n_items, :n_items] = pair_hessian(n_items, cells.a, cells.b, h, ridge)
    else:  # nothing judged yet: the gauge and the ridge alone
        hess[:n_items, :n_items] = 1.0
        add_ridge(hess[:n_items, :n_items], ridge)
    cross = np.bincount(cells.a, h, n_items) - np.bincount(cells.b, h, n_items)
    hess[:n_items, n_items] = hess[n_items, :n_items] = cross
    hess[n_items, n_items] = h.sum()
    add_ridge(hess[n_items:, n_items:], ridge)
    return hess


def fit_home(
    n_items: int,
    cells: PositionCells,
    *,
    wins: np.ndarray | None = None,
    total: np.ndarray | None = None,
    ridge: float = DEFAULT_RIDGE,
    init: np.ndarray | None = None,
    tol: float = 1e-9,
    max_iter: int = 200,
) -> np.ndarray:
    """Maximum-likelihood ``(s, h)`` of the home-advantage model by damped Newton's method.

    Args:
        n_items: number of models.
        cells: the ordered-pair totals (:func:`position_cells`).
        wins, total: replace ``cells.wins`` / ``cells.total`` (bootstrap reweightings).
        ridge: L2 penalty on strengths and ``h``.
        init: warm start, length ``n_items + 1``.

    Returns:
        ``x`` of length ``n_items + 1``: strengths (natural scale, mean zero), then ``h``.
    """
    w = cells.wins if wins is None else wins
    t = cells.total if total is None else total
    x0 = np.zeros(n_items + 1) if init is None else np.array(init, dtype=float)
    if len(cells.a) == 0 or not (t > 0).any():
        return np.zeros(n_items + 1)

    def objective(x: np.ndarray) -> float:
        z = x[cells.a] - x[cells.b] + x[n_items]
        nll = float(np.sum(w * np.logaddexp(0.0, -z) + (t - w) * np.logaddexp(0.0, z)))
        return nll + 0.5 * float(x[:n_items].sum()) ** 2 + 0.5 * ridge * float(x @ x)

    def derivatives(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = 1.0 / (1.0 + np.exp(-(x[cells.a] - x[cells.b] + x[n_items])))
        r = w - t * p
        grad = np.empty(n_items + 1)
        grad[:n_items] = np.bincount(cells.a, r, n_items) - np.bincount(cells.b, r, n_items) - x[:n_items].sum()
        grad[n_items] = r.sum()
        grad -= ridge * x
        return grad, _home_hessian(n_items, cells, x, t, ridge)

    x = minimize(x0, objective, derivatives, tol=tol, max_iter=max_iter)
    x[:n_items] -= x[:n_items].mean()
    return x


def home_covariance(
    n_items: int, cells: PositionCells, x: np.ndarray, *, ridge: float = DEFAULT_RIDGE,
    meat: np.ndarray | None = None,
) -> np.ndarray:
    """Covariance of ``x``: the inverse Fisher information, or the sandwich ``H^-1 M H^-1`` given ``meat``.

    The strength block is centred (the gauge fixes only the mean), so it is the covariance of mean-zero
    strengths; the last row and column are ``h``'s.
    """
    hess = _home_hessian(n_items, cells, x, cells.total, ridge)
    inv = solve(hess, np.eye(n_items + 1))
    cov = inv if meat is None else inv @ meat @ inv
    centre = np.eye(n_items + 1)
    centre[:n_items, :n_items] -= 1.0 / n_items
    return np.asarray(centre @ cov @ centre.T)


def _credit(enc: Encoded, ties: str) -> tuple[np.ndarray, np.ndarray]:
    credit = np.where(enc.outcome == A_WINS, 1.0, np.where(enc.outcome == B_WINS, 0.0, 0.5))
    weight = np.where(enc.outcome > B_WINS, 0.0, enc.weight) if ties == "drop" else enc.weight
    return credit, np.asarray(weight, dtype=float)


def clustered_meat(n: int, enc: Encoded, credit: np.ndarray, weight: np.ndarray, x: np.ndarray,
                    by_question: bool) -> np.ndarray:
    """Sum over questions (or battles) of the outer product of their summed scores in ``(s, h)``."""
    p = 1.0 / (1.0 + np.exp(-(x[enc.a] - x[enc.b] + x[n])))
    r = weight * (credit - p)
    rows = np.arange(len(r))
    scores = np.zeros((len(r), n + 1))
    np.add.at(scores, (rows, enc.a), r)
    np.add.at(scores, (rows, enc.b), -r)
    scores[:, n] = r
    if not by_question:
        # A row of frequency f is f battles: f single-battle outer products of its per-battle score.
        freq = np.where(weight > 0, weight, 1.0)
        return np.asarray((scores / freq[:, None]).T @ (scores))
    group = compact_codes(enc.group)[1]
    summed = np.zeros((int(group.max()) + 1 if len(group) else 0, n + 1))
    np.add.at(summed, group, scores)
    return np.asarray(summed.T @ summed)


def fit_bt_position(
    enc: Encoded, settings: RatingSettings, rng: np.random.Generator, *, interval: str = "bootstrap"
) -> Fit:
    """The ``bt-position`` rating method: strengths with the home term fitted beside them.

    Intervals: ``bootstrap`` (``settings.bootstrap`` refits on questions or battles resampled as
    ``settings.resample`` says) or ``sandwich`` (clustered the same way). ``Fit.params`` holds ``home``
    (rating points in favour of position A), its interval ``home_ci_low``/``home_ci_high`` and ``home_log_odds``.

    Raises:
        UserError: a tie model other than ``half``/``drop``, or reweighting (not modelled here).
    """
    if settings.ties not in ("half", "drop"):
        raise UserError(f"rating.ties {settings.ties!r}: bt-position takes half or drop; use --method bt for tie models")
    if settings.reweight != "none":
        raise UserError("rating.reweight inverse-pair: bt-position fits positions as judged; use --method bt")
    n = enc.n_items
    credit, weight = _credit(enc, settings.ties)
    cells = position_cells(n, enc.a, enc.b, credit, weight)
    x = fit_home(n, cells)
    by_question = settings.resample == "question" and enc.has_questions
    points = settings.scale / np.log(settings.elo.base)
    boot, cov = np.empty((0, n)), None
    if interval == "sandwich":
        full = home_covariance(n, cells, x, meat=clustered_meat(n, enc, credit, weight, x, by_question))
        cov = full[:n, :n]
        lo, hi = normal_interval(x[n:], np.array([full[n, n]]), settings.confidence)
    elif settings.bootstrap > 0:
        samples = _bootstrap(n, enc, credit, weight, x, settings.bootstrap, rng, by_question)
        boot = samples[:, :n]
        lo, hi = percentile_interval(samples[:, n:], settings.confidence)
    else:
        lo = hi = x[n:]
    params = {"home": float(x[n] * points), "home_ci_low": float(lo[0] * points),
              "home_ci_high": float(hi[0] * points), "home_log_odds": float(x[n])}
    return Fit(x[:n], boot, [], cov=cov, params=params)


def _bootstrap(n: int, enc: Encoded, credit: np.ndarray, weight: np.ndarray, x: np.ndarray, rounds: int,
               rng: np.random.Generator, by_question: bool) -> np.ndarray:
    """``(rounds, n + 1)`` refits of ``(s, h)`` on resampled questions (or battles), warm-started at ``x``."""
    # Resampling cells: ordered pair x outcome, so a draw's weights carry each cell's credit with them.
    row_key = (enc.a.astype(np.int64) * n + enc.b) * 3 + np.rint(credit * 2).astype(np.int64)
    keys, cell_of_row = compact_codes(row_key, n * n * 3)
    sampler = make_resampler(cell_of_row, weight, enc.count, enc.group, len(keys),
                             "question" if by_question else "battle")
    cell_credit = (keys % 3) / 2.0
    pairs, pair_of_cell = compact_codes(keys // 3, n * n)
    shape = PositionCells(pairs // n, pairs % n, np.zeros(len(pairs)), np.ones(len(pairs)))
    draws = sampler.draw_many(rng, rounds)
    samples = np.empty((rounds, n + 1))
    for k, d in enumerate(draws):
        wins = np.bincount(pair_of_cell, d * cell_credit, len(pairs))
        total = np.bincount(pair_of_cell, d, len(pairs))
        samples[k] = fit_home(n, shape, wins=wins, total=total, init=x)
    return samples
