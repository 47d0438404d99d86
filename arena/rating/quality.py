"""How good a benchmark is: separability, agreement with a reference, per-question quality, fragility.

All of it is computed on Bradley-Terry strengths (ties as half a win, no style control), whatever method
rated the leaderboard, from the battles as frequencies (``weight * count``):

- **separability**: the share of model pairs separated by a simultaneous max-t test on bootstrap
  differences (arenakit's test): for every pair the bootstrap difference ``D`` is studentised by its own
  bootstrap standard error; the critical value is the ``confidence`` quantile, over rounds, of the largest
  ``|D - d| / se`` across all pairs, so the whole set of "separated" claims holds at that confidence (not
  interval overlap, which is neither simultaneous nor calibrated);
- **agreement** and **pair-rank Brier score** against a reference leaderboard (arena-hard): over the pairs
  the reference separates (its intervals do not overlap; a reference without intervals separates every
  pair whose ratings differ), agreement is +1 when we separate the pair the same way, -1 the other way and
  0 when we do not separate it, averaged; the Brier score is the mean of ``(1 - P)^2`` with ``P`` the
  share of bootstrap rounds that order the pair as the reference does (ties half; 0 or 1 from the point
  ratings without a bootstrap);
- **per question**: battles, discrimination (the weighted mean over its battles of +1 when the better-rated
  model won, -1 when it lost, 0 for a tie), tie rate, and flip rate (over model pairs judged in both
  orders on that question, the chance that a battle in one order and a battle in the other name different
  outcomes);
- **fragility**: the fewest battles and the fewest questions whose removal changes #1 or reverses a
  separated pair, found by greedy removal guided by the influence of each unit on the pair's gap, with
  refits after every step and a bisection on the last one, for the eight pairs (of #1's and of all
  separated ones) cheapest to first order (an upper bound on the true fewest; exact on the cases in the
  tests), and each model's leave-one-question-out rank range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from arena.rating.bootstrap import Refitter, bootstrap_strengths, make_resampler
from arena.rating.bt import DEFAULT_RIDGE, PairDesign, aggregate, canonical, fit_pairs, pair_design
from arena.rating.encoding import Encoded, encode
from arena.rating.frame import A_WINS, B_WINS, TIE
from arena.rating.newton import bt_hessian, win_probability
from arena.rating.settings import RatingSettings

_MAX_STEPS = 60


@dataclass(frozen=True)
class Setup:
    """Battles aggregated to cells, their pair design and the point fit."""

    enc: Encoded
    design: PairDesign
    weight: np.ndarray
    """Frequency per cell."""
    cell_of_row: np.ndarray
    point: np.ndarray

    def fit(self, weight: np.ndarray) -> np.ndarray:
        wins, total = self.design.totals(weight)
        d = self.design
        return fit_pairs(d.n_items, d.i, d.j, wins, total, init=self.point, tol=1e-8)

    def questions(self) -> csr_matrix:
        """``(n_questions, n_cells)`` frequency of each question's battles in each cell."""
        enc = self.enc
        n_q = int(enc.group.max()) + 1 if len(enc.group) else 0
        m = csr_matrix((enc.weight, (enc.group, self.cell_of_row)), shape=(n_q, len(self.weight)))
        m.sum_duplicates()
        return m


def setup(battles: pd.DataFrame) -> Setup:
    """Encode a validated battles frame (see :func:`arena.rating.validate_frame`) and fit Bradley-Terry."""
    enc = encode(battles)
    cells, cell_of_row = aggregate(enc.n_items, *canonical(enc.a, enc.b, enc.outcome), enc.weight)
    design = pair_design(enc.n_items, cells, "half")
    wins, total = design.totals(cells.weight)
    point = fit_pairs(enc.n_items, design.i, design.j, wins, total, tol=1e-10)
    return Setup(enc, design, cells.weight, cell_of_row, point)


# ---------------------------------------------------------------------------------------------- separability


def max_t_separation(point: np.ndarray, samples: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, float]:
    """Simultaneous max-t test of every pair's difference on bootstrap ``samples`` (``(rounds, n)``).

    Returns:
        ``(sign, critical)``: ``sign[i, j]`` is +1 when ``i`` is surely above ``j``, -1 when surely below,
        0 otherwise (antisymmetric); ``critical`` is the max-t critical value (nan without usable rounds).
    """
    n = len(point)
    i, j = np.triu_indices(n, 1)
    sign = np.zeros((n, n), dtype=int)
    if len(samples) < 2 or len(i) == 0:
        return sign, float("nan")
    d = point[i] - point[j]
    diff = samples[:, i] - samples[:, j]
    se = diff.std(axis=0, ddof=1)
    ok = se > 1e-12 * max(1.0, float(np.abs(point).max()))
    if not ok.any():
        return sign, float("nan")
    max_t = (np.abs(diff[:, ok] - d[ok]) / se[ok]).max(axis=1)
    critical = float(np.quantile(max_t, confidence))
    sep = np.zeros(len(i), dtype=bool)
    sep[ok] = np.abs(d[ok]) > critical * se[ok]
    s = np.where(sep, np.sign(d), 0).astype(int)
    sign[i, j], sign[j, i] = s, -s
    return sign, critical


def separability(sign: np.ndarray) -> float | None:
    """Share of model pairs separated (``sign`` from :func:`max_t_separation`); None with fewer than 2 models."""
    n = len(sign)
    pairs = n * (n - 1) // 2
    return float(np.count_nonzero(np.triu(sign, 1))) / pairs if pairs else None


def order_probability(point: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """``P[i, j]``: share of bootstrap rounds with ``i`` above ``j`` (ties half); the point order without rounds."""
    if len(samples) == 0:
        return 0.5 + 0.5 * np.sign(point[:, None] - point[None, :])
    above = (samples[:, :, None] > samples[:, None, :]).mean(axis=0)
    equal = (samples[:, :, None] == samples[:, None, :]).mean(axis=0)
    return np.asarray(above + 0.5 * equal)


def reference_agreement(
    models: list[str], sign: np.ndarray, prob: np.ndarray, reference: pd.DataFrame
) -> dict[str, Any]:
    """Agreement and pair-rank Brier score against ``reference`` (columns ``model, rating`` and optionally
    ``ci_low, ci_high``) over the pairs it separates among the models both rate."""
    ref = reference.drop_duplicates("model").set_index("model")
    idx = [k for k, m in enumerate(models) if m in ref.index]
    rating = ref["rating"].astype(float)
    low = ref["ci_low"].astype(float) if "ci_low" in ref else rating
    high = ref["ci_high"].astype(float) if "ci_high" in ref else rating
    agree = opposite = unseparated = 0
    brier: list[float] = []
    for a_pos, x in enumerate(idx):
        for y in idx[a_pos + 1:]:
            mx, my = models[x], models[y]
            if low[mx] > high[my]:
                hi, lo = x, y
            elif low[my] > high[mx]:
                hi, lo = y, x
            else:
                continue
            brier.append((1.0 - float(prob[hi, lo])) ** 2)
            s = sign[hi, lo]
            agree += s > 0
            opposite += s < 0
            unseparated += s == 0
    considered = agree + opposite + unseparated
    return {
        "models": len(idx),
        "pairs_separated_by_reference": considered,
        "agreement": (agree - opposite) / considered if considered else None,
        "same_order": int(agree),
        "opposite_order": int(opposite),
        "not_separated": int(unseparated),
        "brier": float(np.mean(brier)) if brier else None,
    }


# ---------------------------------------------------------------------------------------------- per question


def question_table(st: Setup, question_ids: np.ndarray) -> pd.DataFrame:
    """Per question (``question_ids[k]`` names group ``k``): battles, discrimination, tie rate, flip rate."""
    enc, point = st.enc, st.point
    w = enc.weight
    gap = point[enc.a] - point[enc.b]
    won_by_better = np.where(enc.outcome == TIE, 0.0, np.where(enc.outcome == A_WINS, 1.0, -1.0)) * np.sign(gap)
    frame = pd.DataFrame({"q": enc.group, "w": w, "disc": w * won_by_better, "tie": w * (enc.outcome == TIE)})
    per = frame.groupby("q")[["w", "disc", "tie"]].sum()
    lo, hi, canon = canonical(enc.a, enc.b, enc.outcome)
    flips = pd.DataFrame({"q": enc.group, "pair": lo * enc.n_items + hi, "order": enc.a < enc.b, "w": w,
                          **{f"o{k}": w * (canon == k) for k in (A_WINS, B_WINS, TIE)}})
    sums = flips.groupby(["q", "pair", "order"])[["w", "o0", "o1", "o2"]].sum()
    sums = sums[sums["w"] > 0]
    dist = sums[["o0", "o1", "o2"]].div(sums["w"], axis=0)
    both = dist.unstack("order").dropna()
    flip_rate = pd.Series(dtype=float)
    if len(both) and both.columns.get_level_values("order").nunique() == 2:
        same = sum(both[(f"o{k}", True)] * both[(f"o{k}", False)] for k in range(3))
        flip_rate = (1.0 - same).groupby(level="q").mean()
    out = pd.DataFrame({
        "question_id": question_ids[per.index.to_numpy()],
        "battles": per["w"].to_numpy(),
        "discrimination": (per["disc"] / per["w"]).to_numpy(),
        "tie_rate": (per["tie"] / per["w"]).to_numpy(),
        "flip_rate": flip_rate.reindex(per.index).to_numpy(),
    })
    return out[out["battles"] > 0].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- fragility


def _effects(st: Setup, s: np.ndarray, weight: np.ndarray, x: int, y: int) -> np.ndarray:
    """First-order change of ``s[x] - s[y]`` from removing one battle of each cell (negative = closes it)."""
    d = st.design
    _, total = d.totals(weight)
    hess = bt_hessian(s, d.i, d.j, total, DEFAULT_RIDGE)
    v = np.linalg.solve(hess, np.eye(len(s))[x] - np.eye(len(s))[y])
    return np.asarray(-(v[d.i] - v[d.j])[d.cell_pair] * _cell_gradient(d, s))


def _cell_gradient(d: PairDesign, s: np.ndarray) -> np.ndarray:
    """Per cell, the gradient of its pair's log-likelihood per battle at ``s`` (0 for dropped cells)."""
    return np.where(d.cell_keep, d.cell_credit - win_probability(s, d.i, d.j)[d.cell_pair], 0.0)


def fewest_removals(st: Setup, x: int, y: int, units: csr_matrix | None = None) -> int | None:
    """Fewest battles (``units`` None) or units (rows of ``units``, cell frequencies; e.g. questions) whose
    removal puts ``y`` at or above ``x`` (``s[x] > s[y]`` now), by greedy removal; None when removing every
    battle that helps ``x`` over ``y`` is not enough."""
    weight = st.weight.copy()
    s = st.point.copy()
    removed = 0
    alive = None if units is None else np.ones(units.shape[0], dtype=bool)
    for _ in range(_MAX_STEPS):
        gap = s[x] - s[y]
        eff = _effects(st, s, weight, x, y)
        if units is None:
            per_unit, amount = eff, np.floor(weight + 1e-9)
        else:
            assert alive is not None
            per_unit, amount = np.asarray(units @ eff).ravel(), alive.astype(float)
        order = np.argsort(per_unit, kind="stable")
        order = order[(per_unit[order] < 0) & (amount[order] > 0)]
        if len(order) == 0:
            return None
        take = np.zeros(len(per_unit))
        need = gap
        for u in order:
            k = min(amount[u], np.ceil(need / -per_unit[u] - 1e-9)) if units is None else 1.0
            take[u] = max(k, 1.0)
            need += per_unit[u] * take[u]
            if need < 0:
                break
        plan = [(int(u), int(take[u])) for u in order if take[u] > 0]

        def apply(k: int, base: np.ndarray = weight, plan: list[tuple[int, int]] = plan) -> np.ndarray:
            out = base.copy()
            for u, t in plan:
                t = min(t, k)
                k -= t
                out = out - (t * np.eye(1, len(out), u).ravel() if units is None else t * units[u].toarray().ravel())
                if k == 0:
                    break
            return np.maximum(out, 0.0)

        total = sum(t for _, t in plan)
        new_w = apply(total)
        new_s = st.fit(new_w)
        if new_s[y] >= new_s[x] - 1e-12:
            lo, hi = 0, total  # flipped at hi, not at lo
            while hi - lo > 1:
                mid = (lo + hi) // 2
                t = st.fit(apply(mid))
                lo, hi = (lo, mid) if t[y] >= t[x] - 1e-12 else (mid, hi)
            return removed + hi
        removed += total
        weight, s = new_w, new_s
        if alive is not None:
            alive[[u for u, _ in plan]] = False
    return None


def _cheapest(st: Setup, moves: np.ndarray, pairs: list[tuple[int, int]], units: csr_matrix | None,
              keep: int = 8) -> tuple[int | None, tuple[int, int] | None]:
    """The fewest removals over ``pairs``, searched for the ``keep`` pairs cheapest to first order (the first-order
    guess only ranks: at the Chatbot Arena shape the exact answers were 0.97-1.2 times the guesses)."""
    if not pairs:
        return None, None
    guess = _first_order_costs(st, moves, pairs, units)
    best: tuple[int | None, tuple[int, int] | None] = (None, None)
    for k in np.argsort(guess, kind="stable")[:keep]:
        found = fewest_removals(st, pairs[k][0], pairs[k][1], units)
        if found is not None and (best[0] is None or found < best[0]):
            best = (found, pairs[k])
    return best


def _cell_moves(st: Setup) -> np.ndarray:
    """``(n, cells)``: how each model's strength moves, to first order at the point, per battle of each cell
    removed (:func:`_effects` for every model at once, from one inverse)."""
    d = st.design
    inv = np.linalg.inv(bt_hessian(st.point, d.i, d.j, d.totals(st.weight)[1], DEFAULT_RIDGE))
    return np.ascontiguousarray((inv[d.i] - inv[d.j])[d.cell_pair].T) * _cell_gradient(d, st.point)


def _first_order_costs(st: Setup, moves: np.ndarray, pairs: list[tuple[int, int]],
                       units: csr_matrix | None) -> np.ndarray:
    """For each pair ``(x, y)``, the gap ``s[x] - s[y]`` over the most any single unit (battle, or row of
    ``units``) closes it to first order (``moves``: :func:`_cell_moves`)."""
    cap = st.weight if units is None else 1.0
    xs, ys = np.array(pairs).T
    out = np.empty(len(pairs))
    step = max(1, (1 << 21) // max(moves.shape[1], 1))
    for at in range(0, len(pairs), step):
        x, y = xs[at:at + step], ys[at:at + step]
        closes = moves[x] - moves[y]  # (k, cells): how far removing one battle of each cell closes each gap
        if units is not None:
            closes = np.asarray(units @ closes.T).T
        np.maximum(closes, 0.0, out=closes)
        gain = (closes / np.maximum(cap, 1e-12)).max(axis=1, initial=0.0)
        out[at:at + step] = (st.point[x] - st.point[y]) / np.maximum(gain, 1e-300)
    return out


def leave_one_question_out(st: Setup, chunk: int = 64) -> np.ndarray:
    """Ranks (1 = best, ties share the better rank) of each model with each question removed, ``(n_q, n)``."""
    qm = st.questions()
    refit = Refitter(st.design, st.weight, st.point, tol=1e-9)
    ranks = []
    for start in range(0, qm.shape[0], chunk):
        w = st.weight[None, :] - qm[start:start + chunk].toarray()
        s = refit(np.maximum(w, 0.0))
        ranks.append(1 + (s[:, None, :] > s[:, :, None] + 1e-9).sum(axis=2))
    return np.concatenate(ranks) if ranks else np.empty((0, st.enc.n_items), dtype=int)


# ---------------------------------------------------------------------------------------------- all of it


def benchmark_quality(
    battles: pd.DataFrame,
    settings: RatingSettings | None = None,
    *,
    reference: pd.DataFrame | None = None,
    fragility: bool = True,
) -> dict[str, Any] | None:
    """Every quality figure of the module notes for a validated battles frame, JSON-ready.

    ``settings`` gives the bootstrap rounds (0: no separability), the seed, the resampling unit and the
    confidence; ``reference`` a leaderboard (``model, rating[, ci_low, ci_high]``) to agree with.
    Returns None when fewer than two models played.
    """
    settings = settings or RatingSettings(bootstrap=1000, seed=0)
    if battles.empty:
        return None
    st = setup(battles)
    enc, n = st.enc, st.enc.n_items
    if n < 2:
        return None
    rng = np.random.default_rng([settings.seed or 0, 13])
    by_question = enc.has_questions and settings.resample == "question"
    sampler = make_resampler(st.cell_of_row, enc.weight, enc.count, enc.group, len(st.weight),
                             "question" if by_question else "battle")
    rounds = settings.bootstrap
    samples = np.empty((0, n))
    if rounds > 0:
        samples = bootstrap_strengths(st.design, sampler, rounds, rng, init=st.point)
    sign, critical = max_t_separation(st.point, samples, settings.confidence)
    out: dict[str, Any] = {
        "method": "bradley-terry, ties as half a win",
        "rounds": rounds,
        "confidence": settings.confidence,
        # No usable spread (no rounds, or every resample alike: one question) measures no separability, not 0.
        "separability": {"share": separability(sign) if rounds > 0 and np.isfinite(critical) else None,
                         "separated_pairs": int(np.count_nonzero(np.triu(sign, 1))),
                         "pairs": n * (n - 1) // 2,
                         "max_t_critical": critical if np.isfinite(critical) else None},
    }
    if reference is not None:
        out["reference"] = reference_agreement(enc.models, sign, order_probability(st.point, samples), reference)
        if rounds == 0:  # nothing is separated without a bootstrap: agreement would read as "none agree"
            out["reference"]["agreement"] = None
        elif not np.isfinite(critical):  # rounds without spread (one question): no agreement, and order
            out["reference"]["agreement"] = out["reference"]["brier"] = None  # probabilities of 0 or 1 are no Brier
    qids = np.unique(battles["question_id"].astype(str).to_numpy())
    if enc.has_questions:
        table = question_table(st, qids)
        out["questions"] = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
                            for row in table.to_dict("records")]
    if fragility:
        out["fragility"] = _fragility(st, sign, enc.has_questions)
    return out


def _fragility(st: Setup, sign: np.ndarray, has_questions: bool) -> dict[str, Any]:
    models, point = st.enc.models, st.point
    top = int(np.argmax(point))
    top_pairs = [(top, y) for y in range(len(point)) if y != top]
    # Every separated pair is a candidate: the closest separated model below x is not always the cheapest to
    # reverse (a pair far apart on few battles can be cheaper than a close pair on many).
    sep_pairs = [(int(x), int(y)) for x, y in zip(*np.nonzero(sign > 0), strict=True)]
    units = st.questions() if has_questions else None
    moves = _cell_moves(st)
    out: dict[str, Any] = {"top": models[top]}
    for name, pairs in (("top", top_pairs), ("separated_pair", sep_pairs)):
        k, pair = _cheapest(st, moves, pairs, None)
        out[f"battles_to_change_{name}"] = k
        out[f"battles_to_change_{name}_pair"] = None if pair is None else [models[pair[0]], models[pair[1]]]
        kq, pair_q = _cheapest(st, moves, pairs, units) if units is not None else (None, None)
        out[f"questions_to_change_{name}"] = kq
        out[f"questions_to_change_{name}_pair"] = None if pair_q is None else [models[pair_q[0]], models[pair_q[1]]]
    if units is not None:
        ranks = leave_one_question_out(st)
        full = 1 + (point[None, :] > point[:, None] + 1e-9).sum(axis=1)
        lo = np.minimum(ranks.min(axis=0), full) if len(ranks) else full
        hi = np.maximum(ranks.max(axis=0), full) if len(ranks) else full
        out["loqo_rank_range"] = {m: [int(lo[k]), int(hi[k])] for k, m in enumerate(models)}
    return out


__all__ = ["Setup", "benchmark_quality", "fewest_removals", "leave_one_question_out", "max_t_separation",
           "order_probability", "question_table", "reference_agreement", "separability", "setup"]
