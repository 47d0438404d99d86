"""Compare two leaderboards: rank correlations, arena-hard's agreement, separability.

Each side is a leaderboard (``leaderboard.json`` rows, ``leaderboard.csv``, a run dir holding them, or any
table with ``model`` and ``rating`` columns, e.g. evalica's ``algorithm,item,score`` filtered with
``where={"algorithm": "bradley_terry"}``) or a battles file, which is rated here with
:func:`arena.rating.compute_leaderboard` after reading through :mod:`arena.tables` (so ``columns`` and
``winner_labels`` map another tool's table, as ``arena rate --map`` does).

Over the models both sides rate, :func:`compare` reports:

- Spearman, Kendall (tau-b) and Pearson correlations of the ratings and of the ranks (``scipy.stats``);
  the ranks are the leaderboard's ``rank`` column when it has one (arena's ranks: 1 + the number of models
  surely better), else ranks by rating. With battles on a side, each rating correlation gets a percentile
  bootstrap interval: the correlations are recomputed on each round of that side's own rating bootstrap
  (:func:`arena.rating.compute_leaderboard`: its method, resampling unit and counts, ``bootstrap`` rounds;
  A seeded with the seed, B with the seed + 1, so that the two sides resample independently). Rank
  correlations get no interval: the interval-aware ranks of a re-fit would need a bootstrap of their own
  in every round;
- arena-hard's agreement with confidence: over the model pairs that B separates (non-overlapping intervals
  in B), +1 when A orders the pair the same way and separates it, -1 when A separates it the other way,
  0 when A does not separate it; the mean is reported with the three counts. A side without intervals
  separates every pair whose ratings differ;
- separability of each side: the share of model pairs it separates (interval overlap, arena-hard's); none
  for a side without intervals;
- for each side rated from battles, its benchmark quality (:func:`arena.rating.quality.benchmark_quality`)
  with the other side as the reference: separability by a simultaneous max-t test on bootstrap
  differences, agreement and pair-rank Brier score, per-question discrimination, tie and flip rates, and
  fragility (the per-question table in JSON only).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from arena.errors import DataError, UserError
from arena.rating.frame import blank_cells
from arena.text import md_escape

Format = Literal["table", "json", "md"]
FORMATS: tuple[str, ...] = ("table", "json", "md")
_MODEL_COLUMNS = ("model", "item", "name", "model_name")
_RATING_COLUMNS = ("rating", "score", "elo", "elo_rating", "arena_score", "arena score")
"""Leaderboard columns by the names tools write them (matched ignoring case): arena and FastChat ``rating``,
arena-hard ``score``, older Chatbot Arena tables ``elo``/``elo_rating``, LMArena's ``Arena Score``."""
_METHODS = ("spearman", "kendall", "pearson")


@dataclass
class Side:
    """One side of a comparison: a leaderboard, and the battles it was rated from when there are any."""

    source: str
    board: pd.DataFrame
    """Columns ``model, rating, ci_low, ci_high, rank`` (intervals equal the rating when unknown)."""
    battles: pd.DataFrame | None = None
    settings: Any = None
    notes: list[str] = field(default_factory=list)
    samples: pd.DataFrame | None = None
    """The bootstrap ratings of a side rated here (rounds x models), from ``settings``."""


# ---------------------------------------------------------------------------------------------- reading


def _pick(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    by_lower = {str(c).strip().lower(): c for c in reversed(list(frame.columns))}  # the first of equal names wins
    return next((by_lower[n] for n in names if n in by_lower), None)


def _filter(frame: pd.DataFrame, where: Mapping[str, str], source: str) -> pd.DataFrame:
    for col, value in where.items():
        if col in frame.columns:
            frame = frame[frame[col].astype(str) == value]
            if frame.empty:
                raise DataError(f"{source}: no row has {col}={value}")
    return frame


def board_from_table(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """A leaderboard table (a :data:`_MODEL_COLUMNS` and a :data:`_RATING_COLUMNS` column) in our columns."""
    model_col, rating_col = _pick(frame, _MODEL_COLUMNS), _pick(frame, _RATING_COLUMNS)
    if model_col is None or rating_col is None:
        raise DataError(f"{source}: not a leaderboard (needs a model column: {'/'.join(_MODEL_COLUMNS)}, and a "
                        f"rating column: {'/'.join(_RATING_COLUMNS)}) nor battles (model_a, model_b, winner); "
                        f"the file has: {', '.join(map(str, frame.columns)) or '(none)'}")
    models = frame[model_col].astype(str)  # names as battles keep them (not stripped); a missing one stays missing
    blank = np.flatnonzero(blank_cells(models))
    if len(blank):
        raise DataError(f"{source}: row {blank[0] + 1}: no model name in column {model_col!r}; every leaderboard row "
                        "names its model (drop or fill the row)")
    dup = models[models.duplicated()]
    if len(dup):
        raise DataError(f"{source}: model {dup.iloc[0]!r} has several rows; keep one row per model "
                        "(e.g. --where algorithm=bradley_terry)")
    try:
        rating = pd.to_numeric(frame[rating_col]).astype(float).to_numpy()
    except (TypeError, ValueError):
        raise DataError(f"{source}: column {rating_col!r} must be numeric") from None
    if not np.isfinite(rating).all():
        raise DataError(f"{source}: column {rating_col!r} has missing or infinite values")
    out = pd.DataFrame({"model": models.to_numpy(), "rating": rating})
    for col in ("ci_low", "ci_high"):
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(float) if col in frame.columns else rating
        out[col] = np.where(np.isfinite(values), values, rating)
    if "rank" in frame.columns and pd.to_numeric(frame["rank"], errors="coerce").notna().all():
        out["rank"] = pd.to_numeric(frame["rank"]).astype(float).to_numpy()
    else:
        out["rank"] = _ranks(rating)
    return out.reset_index(drop=True)


def _ranks(rating: np.ndarray) -> np.ndarray:
    """1 = best; equal ratings share the better rank."""
    from scipy.stats import rankdata

    return np.asarray(rankdata(-np.asarray(rating, float), method="min"), dtype=float)


def _rate(battles: pd.DataFrame, settings: Any) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The board (``model, rating, ci_low, ci_high, rank``) and the bootstrap rating samples."""
    from arena.rating import compute_leaderboard

    result = compute_leaderboard(battles, settings)
    return pd.DataFrame(result.rows)[["model", "rating", "ci_low", "ci_high", "rank"]], result.samples


def load_side(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    winner_labels: Mapping[str, str] | None = None,
    where: Mapping[str, str] | None = None,
    settings: Any = None,
) -> Side:
    """Read one side: a run dir, a leaderboard table or a battles table (rated with ``settings``).

    Raises:
        DataError / UserError: a missing file, a table that is neither a leaderboard nor battles, or the
            errors of :func:`arena.tables.read_table` and :func:`arena.tables.apply_mapping`.
    """
    from arena.rating import RatingSettings, validate_frame
    from arena.tables import apply_mapping, read_table

    path = Path(path)
    settings = settings if settings is not None else RatingSettings(bootstrap=200, seed=0)
    if path.is_dir():
        found = next((path / n for n in ("leaderboard.json", "leaderboard.csv") if (path / n).is_file()), None)
        if found is None:
            raise DataError(f"{path}: no leaderboard.json or leaderboard.csv in this folder; give a run dir, "
                            "a leaderboard file or a battles file")
        return Side(str(path), board_from_table(read_table(found), str(found)), settings=settings)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    raw = _filter(read_table(path, columns), where or {}, str(path))
    is_board = _pick(raw, _MODEL_COLUMNS) is not None and _pick(raw, _RATING_COLUMNS) is not None
    if not is_board and (columns or winner_labels):
        # The mapping is for battle tables; a leaderboard on the other side is read as it is.
        raw = apply_mapping(raw, columns or {}, winner_labels or {}, str(path))
    if {"model_a", "model_b", "winner"} <= set(raw.columns):
        battles = validate_frame(raw, where=str(path))
        if battles.empty:
            raise DataError(f"{path}: no battles to rate")
        board, samples = _rate(battles, settings)
        return Side(str(path), board, battles=battles, settings=settings, notes=list(battles.attrs.get("notes", [])),
                    samples=samples)
    return Side(str(path), board_from_table(raw, str(path)), settings=settings)


# ---------------------------------------------------------------------------------------------- statistics


def correlations(a: np.ndarray, b: np.ndarray) -> dict[str, float | None]:
    """Spearman, Kendall (tau-b) and Pearson correlation of two equal-length vectors (None when undefined)."""
    from scipy import stats

    out: dict[str, float | None] = {}
    constant = np.ptp(a) == 0 or np.ptp(b) == 0
    for name, fn in (("spearman", stats.spearmanr), ("kendall", stats.kendalltau), ("pearson", stats.pearsonr)):
        value = math.nan if constant else float(fn(a, b)[0])
        out[name] = None if not math.isfinite(value) else value
    return out


def _separated(low: np.ndarray, high: np.ndarray, i: int, j: int) -> int:
    """+1 when i is surely above j, -1 when surely below, 0 when the intervals overlap."""
    if low[i] > high[j]:
        return 1
    if low[j] > high[i]:
        return -1
    return 0


def agreement(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, Any]:
    """arena-hard's agreement with confidence of A with B over the pairs B separates (rows aligned by model)."""
    la, ha = a["ci_low"].to_numpy(float), a["ci_high"].to_numpy(float)
    lb, hb = b["ci_low"].to_numpy(float), b["ci_high"].to_numpy(float)
    n = len(a)
    agree = disagree = unseparated = 0
    separated_a = separated_b = 0
    for i, j in itertools.combinations(range(n), 2):
        sa, sb = _separated(la, ha, i, j), _separated(lb, hb, i, j)
        separated_a += sa != 0
        separated_b += sb != 0
        if sb == 0:
            continue
        if sa == 0:
            unseparated += 1
        elif sa == sb:
            agree += 1
        else:
            disagree += 1
    pairs = n * (n - 1) // 2
    considered = agree + disagree + unseparated
    return {
        "agreement": (agree - disagree) / considered if considered else None,
        "pairs": pairs,
        "pairs_separated_by_b": considered,
        "same_order": agree,
        "opposite_order": disagree,
        "not_separated_by_a": unseparated,
        "separability_a": separated_a / pairs if pairs and _has_intervals(la, ha) else None,
        "separability_b": separated_b / pairs if pairs and _has_intervals(lb, hb) else None,
    }


def _has_intervals(low: np.ndarray, high: np.ndarray) -> bool:
    """False for a board whose every interval has zero width (none was given, or 0 bootstrap rounds): its
    separability is unknown, not 1."""
    return bool(np.any(high > low))


def _bootstrap_ratings(side: Side, rounds: int, seed: int) -> pd.DataFrame | None:
    """``rounds`` bootstrap rating samples of a side rated from battles (its own, when they match); None when its
    resamples are all alike (one question, or one kind of battle: the rating's note says so)."""
    from arena.rating import RatingSettings, compute_leaderboard
    from arena.rating.leaderboard import NO_SPREAD_NOTES

    settings = side.settings if side.settings is not None else RatingSettings()
    if side.samples is not None and len(side.samples) == rounds and settings.seed == seed:
        return side.samples
    result = compute_leaderboard(side.battles, settings.model_copy(update={"bootstrap": rounds, "seed": seed}))
    if result.samples is None and any(note in result.warnings for note in NO_SPREAD_NOTES):
        return None
    if result.samples is None:
        raise DataError(f"{side.source}: rating method {settings.method!r} with these settings gives no "
                        "bootstrap samples; compare with --bootstrap 0")
    return result.samples


def _interval(values: list[float | None], confidence: float) -> list[float | None]:
    finite = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if len(finite) == 0:
        return [None, None]
    tail = 100 * (1 - confidence) / 2
    return [float(np.percentile(finite, tail)), float(np.percentile(finite, 100 - tail))]


def compare(a: Side, b: Side, *, bootstrap: int = 200, seed: int = 0, confidence: float = 0.95) -> dict[str, Any]:
    """Compare leaderboard ``a`` with ``b`` (agreement is of A with B's separated pairs); see the module notes.

    Raises:
        DataError: fewer than 3 models in both.
    """
    common = sorted(set(a.board["model"]) & set(b.board["model"]))
    if len(common) < 3:
        raise DataError(f"{a.source} and {b.source} share {len(common)} model(s); a comparison needs at least 3 "
                        "(check the names, or map them with --map)")
    ba = a.board.set_index("model").loc[common].reset_index()
    bb = b.board.set_index("model").loc[common].reset_index()
    ra, rb = ba["rating"].to_numpy(float), bb["rating"].to_numpy(float)
    ka, kb = ba["rank"].to_numpy(float), bb["rank"].to_numpy(float)
    result: dict[str, Any] = {
        "a": a.source,
        "b": b.source,
        "models": len(common),
        "only_in_a": sorted(set(a.board["model"]) - set(common)),
        "only_in_b": sorted(set(b.board["model"]) - set(common)),
        "correlations": {"rating": correlations(ra, rb), "rank": correlations(ka, kb)},
        "agreement": agreement(ba, bb),
        "bootstrap": None,
        "notes": a.notes + b.notes,
    }
    sides = [s for s in (a, b) if s.battles is not None]
    result["quality"] = _quality(a, b, bootstrap, seed, confidence)
    boots: dict[int, np.ndarray] = {}
    for k, s in enumerate((a, b)):
        drawn = _bootstrap_ratings(s, bootstrap, seed + k) if bootstrap > 0 and s.battles is not None else None
        if drawn is not None:
            boots[id(s)] = drawn.reindex(columns=common).to_numpy(float)
        elif bootstrap > 0 and s.battles is not None:
            result["notes"].append(f"{s.source}: its resamples are all alike (one question, or one kind of battle): "
                                   "the correlations get no bootstrap interval")
    if boots and all(id(s) in boots for s in sides):
        samples: dict[str, list[float | None]] = {m: [] for m in _METHODS}
        for r in range(bootstrap):
            xa = boots[id(a)][r] if id(a) in boots else ra
            xb = boots[id(b)][r] if id(b) in boots else rb
            for name, value in correlations(xa, xb).items():
                samples[name].append(value)
        result["bootstrap"] = {
            "rounds": bootstrap, "seed": seed, "confidence": confidence,
            "resampled": [s.source for s in sides],
            "intervals": {"rating": {m: _interval(v, confidence) for m, v in samples.items()}},
        }
    return result


def _quality(a: Side, b: Side, rounds: int, seed: int, confidence: float) -> dict[str, Any]:
    """Benchmark quality of each side rated from battles, against the other side as the reference."""
    from arena.rating import RatingSettings
    from arena.rating.quality import benchmark_quality
    from arena.rating.rows import jsonable

    out: dict[str, Any] = {}
    for name, side, other in (("a", a, b), ("b", b, a)):
        if side.battles is None:
            out[name] = None
            continue
        base = side.settings if side.settings is not None else RatingSettings()
        settings = base.model_copy(update={"bootstrap": rounds, "seed": seed, "confidence": confidence})
        out[name] = jsonable(benchmark_quality(side.battles, settings, reference=other.board))
    return out


# ---------------------------------------------------------------------------------------------- output


def _count(x: int | None) -> str:
    return "n/a" if x is None else str(x)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _lines(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    boot = result["bootstrap"]
    rows = []
    for kind in ("rating", "rank"):
        for m in _METHODS:
            value = result["correlations"][kind][m]
            ci = ""
            if boot is not None and kind in boot["intervals"]:
                lo, hi = boot["intervals"][kind][m]
                ci = f"[{_fmt(lo)}, {_fmt(hi)}]"
            rows.append((f"{m} of {kind}s", _fmt(value), ci))
    ag = result["agreement"]
    rows.append(("agreement (A with B's separated pairs)", _fmt(ag["agreement"]),
                 f"+{ag['same_order']} -{ag['opposite_order']} 0x{ag['not_separated_by_a']} "
                 f"of {ag['pairs_separated_by_b']} pairs"))
    rows.append(("separability of A", _fmt(ag["separability_a"]), f"of {ag['pairs']} pairs"))
    rows.append(("separability of B", _fmt(ag["separability_b"]), f"of {ag['pairs']} pairs"))
    for side, other in (("a", "B"), ("b", "A")):
        q = (result.get("quality") or {}).get(side)
        if not q:
            continue
        name, sep = side.upper(), q["separability"]
        rows.append((f"max-t separability of {name}", _fmt(sep["share"]),
                     f"{sep['separated_pairs']} of {sep['pairs']} pairs, {q['rounds']} rounds"))
        ref = q.get("reference") or {}
        rows.append((f"agreement of {name} (max-t) with {other}", _fmt(ref.get("agreement")),
                     f"over {ref.get('pairs_separated_by_reference', 0)} pairs {other} separates"))
        rows.append((f"pair-rank Brier of {name} vs {other}", _fmt(ref.get("brier")), "0 is perfect, 0.25 a coin"))
        fr = q.get("fragility") or {}
        for what in ("top", "separated_pair"):
            label = "#1" if what == "top" else "a separated pair"
            pair = fr.get(f"battles_to_change_{what}_pair")
            rows.append((f"{name}: fewest battles to change {label}", _count(fr.get(f"battles_to_change_{what}")),
                         " vs ".join(pair) if pair else ""))
            rows.append((f"{name}: fewest questions to change {label}",
                         _count(fr.get(f"questions_to_change_{what}")), ""))
    return rows


def format_comparison(result: dict[str, Any], fmt: Format = "table") -> str:
    """Render :func:`compare`'s result as an aligned text table, JSON or Markdown."""
    if fmt == "json":
        return json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    if fmt not in ("table", "md"):
        raise UserError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    boot = result["bootstrap"]
    ci_head = f"{100 * boot['confidence']:.0f}% CI ({boot['rounds']} rounds)" if boot else ""
    head = f"A: {result['a']}\nB: {result['b']}\nmodels in both: {result['models']}"
    for side in ("a", "b"):
        only = result[f"only_in_{side}"]
        if only:
            head += f"\nonly in {side.upper()} ({len(only)}): " + ", ".join(only[:10]) + (" ..." if len(only) > 10 else "")
    rows = _lines(result)
    if fmt == "md":
        body = "| statistic | value | " + (ci_head or "detail") + " |\n|---|---:|---|\n"
        body += "".join(f"| {md_escape(s)} | {md_escape(v)} | {md_escape(d)} |\n" for s, v, d in rows)
        text = "\n\n".join(["  \n".join(md_escape(line) for line in head.split("\n")), body])
    else:
        w = max(len(s) for s, _, _ in rows)
        body = "\n".join(f"{s:<{w}}  {v:>7}  {d}".rstrip() for s, v, d in rows)
        text = head + "\n\n" + (f"{'':<{w}}  {'value':>7}  {ci_head}".rstrip() + "\n" if ci_head else "") + body + "\n"
    prefix = "> note: " if fmt == "md" else "note: "
    if result["notes"]:
        text += "\n" + "\n".join(prefix + n for n in result["notes"]) + "\n"
    return text if text.endswith("\n") else text + "\n"
