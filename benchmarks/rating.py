"""Rating speed against the real references, side by side in one run, on Chatbot-Arena-shaped battles.

    # the references go in a separate venv, never into arena's own (they are not arena dependencies):
    python3 -m venv .bench-venv
    .bench-venv/bin/pip install torch==2.13.0 && .bench-venv/bin/pip install -e . arena-rank evalica tqdm
    OPENBLAS_NUM_THREADS=1 taskset -c 0,1 .bench-venv/bin/python benchmarks/rating.py        # 129 models, 1.67M battles
    # FastChat's rows: --fastchat-file FastChat/fastchat/serve/monitor/rating_systems.py (a checkout of it)
    .bench-venv/bin/python benchmarks/rating.py --quick                                     # 20 models, 100k battles

Rows (each timed here, on the same synthetic battles; "extrapolated" rows time a few rounds and scale up):

- arena: aggregation + point fit, the 1,000-round bootstrap (:func:`arena.rating.bootstrap.bootstrap_strengths`,
  single battles resampled), sandwich intervals through :func:`arena.rating.compute_leaderboard` (``ci``
  sandwich) on the aggregated counts, style-control bootstrap;
- FastChat: ``compute_bootstrap_bt`` and ``compute_bootstrap_style_control`` from FastChat's own
  ``fastchat/serve/monitor/rating_systems.py`` (the PyPI ``fschat`` does not ship it): give the file of a FastChat
  checkout with ``--fastchat-file`` (measured at commit 0e6d3e4); it runs with its 2-process pool and one BLAS
  thread per process. Without it those rows are skipped;
- a lean per-round L-BFGS refit on pair counts (scipy, analytic gradient), the floor of FastChat's method;
- arena-rank (``pip install arena-rank``, JAX): point fit, sandwich intervals, a short bootstrap (its pool
  deadlocks when forked after JAX starts, so workers are spawned; their start-up is in its time);
- evalica (``pip install evalica``): point fit.

The old per-battle L-BFGS refit (a strawman no tool uses) is gone. Reference rows are skipped with a note
when their package is missing.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # FastChat's pool oversubscribes otherwise
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent
FASTCHAT_FILE: Path | None = None
"""FastChat's rating_systems.py (``--fastchat-file``), loaded by :func:`fastchat_module`."""


def fastchat_module() -> Any:
    """FastChat's ``rating_systems`` module from the file given with ``--fastchat-file``.

    Imported by name from its folder (put on ``sys.path``), so the spawned workers of its process pool import it too.
    """
    import importlib

    if FASTCHAT_FILE is None:
        raise ImportError("give --fastchat-file PATH/fastchat/serve/monitor/rating_systems.py of a FastChat checkout")
    folder = str(FASTCHAT_FILE.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(FASTCHAT_FILE.stem)
SCALE = 400.0 / math.log(10.0)


def synthetic(n_models: int, n_battles: int, tie_rate: float, seed: int = 0, style: bool = False) -> pd.DataFrame:
    """Battles with normal strengths (sd 1, natural scale), Pareto pair popularity, random ties (and style)."""
    rng = np.random.default_rng(seed)
    true = rng.normal(0.0, 1.0, n_models)
    p = rng.pareto(1.5, n_models) + 1.0
    p /= p.sum()
    a = rng.choice(n_models, n_battles, p=p)
    b = rng.choice(n_models, n_battles, p=p)
    clash = a == b
    b[clash] = (a[clash] + rng.integers(1, n_models, clash.sum())) % n_models
    names = np.array([f"model-{k:03d}" for k in range(n_models)])
    frame = pd.DataFrame({"model_a": names[a], "model_b": names[b]})
    logit = true[a] - true[b]
    if style:
        for feat in ("len", "header", "list", "bold"):
            frame[f"{feat}_a"] = rng.poisson(300 if feat == "len" else 3, n_battles)
            frame[f"{feat}_b"] = rng.poisson(300 if feat == "len" else 3, n_battles)
        la, lb = frame["len_a"].to_numpy() + 1, frame["len_b"].to_numpy() + 1
        logit = logit + 2.0 * (la - lb) / (la + lb)
    win = rng.random(n_battles) < 1.0 / (1.0 + np.exp(-logit))
    winner = np.where(win, "model_a", "model_b").astype(object)
    winner[rng.random(n_battles) < tie_rate] = "tie"
    frame["winner"] = winner
    frame["question_id"] = np.arange(n_battles).astype(str)
    return frame


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def counts_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Identical (model_a, model_b, winner) rows merged into one row with ``count``: Chatbot Arena's counts file."""
    out = frame.groupby(["model_a", "model_b", "winner"], sort=True).size().reset_index(name="count")
    out["question_id"] = np.arange(len(out)).astype(str)
    return out


# ---------------------------------------------------------------------------------------------- arena


def arena_rows(frame: pd.DataFrame, rounds: int) -> tuple[list[tuple[str, float, str]], dict[str, Any]]:
    from arena.rating import RatingSettings, compute_leaderboard, validate_frame
    from arena.rating.bootstrap import bootstrap_strengths, make_resampler
    from arena.rating.bt import aggregate, canonical, fit_pairs, pair_design
    from arena.rating.encoding import encode

    enc = encode(validate_frame(frame))
    n = enc.n_items

    def point() -> Any:
        cells, cell_of = aggregate(n, *canonical(enc.a, enc.b, enc.outcome), enc.weight)
        design = pair_design(n, cells)
        wins, total = design.totals(cells.weight)
        return cells, cell_of, design, fit_pairs(n, design.i, design.j, wins, total)

    t_fit, (cells, cell_of, design, s) = timed(point)

    def bootstrap() -> tuple[float, np.ndarray]:  # a fresh resampler: building its sampling table is timed too
        sampler = make_resampler(cell_of, enc.weight, enc.count, enc.group, len(cells.a), "battle")
        return timed(lambda: bootstrap_strengths(design, sampler, rounds, np.random.default_rng(0), init=s))

    t_boot, boot = min((bootstrap() for _ in range(3)), key=lambda t: t[0])
    rows = [("arena: aggregate + point fit", t_fit, f"{len(cells.a):,} cells"),
            (f"arena: bootstrap, {rounds} rounds", t_boot, "best of 3, sampling table built each time")]
    extra: dict[str, Any] = {"models": enc.models, "point": s * SCALE, "boot": boot * SCALE}
    counts = counts_frame(frame)
    try:
        settings = RatingSettings(ci="sandwich", bootstrap=0, seed=0, resample="battle")
    except Exception as exc:  # an arena without sandwich intervals (before F13a)
        rows.append(("arena: sandwich intervals", float("nan"), f"not available: {exc}"))
        return rows, extra
    t_sw, board = timed(lambda: compute_leaderboard(validate_frame(counts), settings))
    extra["sandwich"] = {r["model"]: (r["ci_low"], r["ci_high"], r["rating"]) for r in board.rows}
    rows.append(("arena: sandwich leaderboard on counts", t_sw, f"{len(counts):,} count rows, whole leaderboard"))
    return rows, extra


def lean_lbfgs(frame: pd.DataFrame, rounds: int, timed_rounds: int) -> tuple[str, float, str]:
    """Per-round scipy L-BFGS refit on the (pair, outcome) counts of a multinomial resample: FastChat's method
    without its process pool, pandas preprocessing or per-row objective."""
    from scipy.optimize import minimize

    from arena.rating import validate_frame
    from arena.rating.bt import aggregate, canonical, pair_design
    from arena.rating.encoding import encode

    enc = encode(validate_frame(frame))
    n = enc.n_items
    cells, _ = aggregate(n, *canonical(enc.a, enc.b, enc.outcome), enc.weight)
    design = pair_design(n, cells)
    i, j = design.i, design.j
    rng = np.random.default_rng(0)

    def fit(weight: np.ndarray) -> np.ndarray:
        wins, total = design.totals(weight)

        def f(x: np.ndarray) -> tuple[float, np.ndarray]:
            d = x[i] - x[j]
            p = 1.0 / (1.0 + np.exp(-d))
            ll = wins * np.log(p + 1e-300) + (total - wins) * np.log1p(-p + 1e-300)
            g = wins - total * p
            return -float(ll.sum()), -(np.bincount(i, g, n) - np.bincount(j, g, n))

        return minimize(f, np.zeros(n), jac=True, method="L-BFGS-B", options={"ftol": 1e-9, "gtol": 1e-6}).x

    total = cells.weight.sum()
    per = math.inf
    for _ in range(3):  # best of 3, as arena's bootstrap
        t0 = time.perf_counter()
        for _ in range(timed_rounds):
            fit(rng.multinomial(int(total), cells.weight / total) * 1.0)
        per = min(per, (time.perf_counter() - t0) / timed_rounds)
    return (f"lean L-BFGS on counts, {rounds} rounds", per * rounds,
            f"extrapolated from {timed_rounds} rounds, best of 3 ({per * 1e3:.1f} ms/round)")


# ---------------------------------------------------------------------------------------------- references


def fastchat_bt(frame: pd.DataFrame, rounds: int) -> tuple[str, float, str]:
    try:
        fc = fastchat_module()
    except ImportError as exc:
        return ("FastChat compute_bootstrap_bt", float("nan"), f"skipped: {exc} (pip install tqdm scipy)")
    t, _ = timed(lambda: fc.compute_bootstrap_bt(frame, num_round=rounds, num_cpu=2))
    return (f"FastChat compute_bootstrap_bt, {rounds} rounds", t, "2-process pool, 1 BLAS thread each")


def evalica_fit(frame: pd.DataFrame) -> tuple[str, float, str]:
    try:
        import evalica
    except ImportError:
        return ("evalica bradley_terry", float("nan"), "skipped: pip install evalica")
    wmap = {"model_a": evalica.Winner.X, "model_b": evalica.Winner.Y, "tie": evalica.Winner.Draw}
    winners = [wmap[w] for w in frame["winner"]]
    t, _ = timed(lambda: evalica.bradley_terry(frame["model_a"].tolist(), frame["model_b"].tolist(), winners))
    return ("evalica bradley_terry (point, from rows)", t, "")


def arena_rank_rows(frame: pd.DataFrame, rounds: int, boot_rounds: int) -> tuple[list[tuple[str, float, str]], dict[str, Any]]:
    try:
        from arena_rank.models.bradley_terry import BradleyTerry
        from arena_rank.utils.data_utils import PairDataset
    except ImportError:
        return [("arena-rank", float("nan"), "skipped: pip install arena-rank")], {}
    t_data, data = timed(lambda: PairDataset.from_pandas(frame))
    model = BradleyTerry(n_competitors=len(data.competitors))
    t_fit, _ = timed(lambda: model.fit(data))
    t_sw, res = timed(lambda: model.compute_ratings_and_cis(data, ci_method="sandwich"))
    rows = [("arena-rank: PairDataset.from_pandas", t_data, ""), ("arena-rank: fit", t_fit, ""),
            ("arena-rank: sandwich intervals", t_sw, "after fit")]
    boot_model = BradleyTerry(n_competitors=len(data.competitors))
    boot_model.fit(data)
    t_b, _ = timed(lambda: boot_model.compute_ratings_and_cis(data, ci_method="bootstrap", num_bootstrap=boot_rounds,
                                                              n_jobs=2))
    rows.append((f"arena-rank: bootstrap, {boot_rounds} rounds (measured, not scaled)", t_b,
                 "2 spawned workers, their start-up and JIT included"))
    sandwich = {m: (float(lo), float(hi), float(r)) for m, lo, hi, r in
                zip(data.competitors, res["rating_lower"], res["rating_upper"], res["ratings"], strict=True)}
    return rows, {"sandwich": sandwich}


def style_rows(n_models: int, n_battles: int, rounds: int) -> list[tuple[str, float, str]]:
    from arena.rating import RatingSettings, compute_leaderboard, validate_frame

    frame = synthetic(n_models, n_battles, 0.3, seed=3, style=True)
    settings = RatingSettings(style_control=True, bootstrap=rounds, seed=0, resample="battle")
    t_ours = min(timed(lambda: compute_leaderboard(validate_frame(frame), settings))[0] for _ in range(3))
    rows = [(f"arena: style-control bootstrap, {rounds} rounds, {n_battles:,} battles", t_ours,
             "whole leaderboard, best of 3")]
    try:
        fc = fastchat_module()
    except ImportError as exc:
        return rows + [("FastChat compute_bootstrap_style_control", float("nan"), f"skipped: {exc}")]
    fc_frame = frame[["model_a", "model_b", "winner"]].copy()
    fc_frame["conv_metadata"] = [
        {"sum_assistant_a_tokens": la, "header_count_a": ha, "list_count_a": sa, "bold_count_a": ba,
         "sum_assistant_b_tokens": lb, "header_count_b": hb, "list_count_b": sb, "bold_count_b": bb}
        for la, ha, sa, ba, lb, hb, sb, bb in zip(*(frame[f"{f}_{s}"].astype(int).tolist() for s in "ab"
                                                      for f in ("len", "header", "list", "bold")), strict=True)]
    # Best of 3 for every row of this comparison, as for arena's flat-column row above.
    t_fc = min(timed(lambda: fc.compute_bootstrap_style_control(fc_frame, num_round=rounds, num_cpu=2))[0]
               for _ in range(3))
    rows.append((f"FastChat compute_bootstrap_style_control, {rounds} rounds", t_fc,
                 f"{t_fc / t_ours:.1f}x arena's time, best of 3"))
    # The same frame FastChat reads (style features nested in conv_metadata), through arena's own reading of it.
    t_meta, board = min((timed(lambda: compute_leaderboard(validate_frame(fc_frame), settings)) for _ in range(3)),
                        key=lambda tb: tb[0])
    rows.append(("arena: the same, reading FastChat's conv_metadata frame", t_meta,
                 f"{t_fc / t_meta:.1f}x faster than FastChat, best of 3"))
    fc_ratings, fc_coef = fc.compute_style_control(fc_frame)
    ours = {r["model"]: r["rating"] for r in board.extras["style"]["rows"]}
    gap = np.array([ours[m] - fc_ratings[m] for m in fc_ratings.index])
    rows.append(("point ratings, arena vs FastChat compute_style_control", float("nan"),
                 f"max |difference| {np.abs(gap - gap.mean()).max():.3f} points (centred); coefficients "
                 f"{np.round(board.extras['style']['coefficients'], 3).tolist()} vs {np.round(fc_coef, 3).tolist()}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 models, 100k battles, 200 rounds")
    parser.add_argument("--skip-fastchat", action="store_true", help="skip the slow FastChat rows")
    parser.add_argument("--fastchat-file", type=Path, default=None,
                        help="fastchat/serve/monitor/rating_systems.py of a FastChat checkout (its rows are skipped without it)")
    args = parser.parse_args()
    global FASTCHAT_FILE
    FASTCHAT_FILE = args.fastchat_file
    # arena-rank's bootstrap pool deadlocks when forked after JAX has started threads: spawn workers
    # (FastChat's pool then spawns too; its start-up is inside its time, as it is for its users on macOS).
    multiprocessing.set_start_method("spawn", force=True)
    n_models, n_battles, rounds = (20, 100_000, 200) if args.quick else (129, 1_670_000, 1000)
    frame = synthetic(n_models, n_battles, 0.35)
    print(f"{n_models} models, {n_battles:,} battles, {rounds} rounds; cores: {len(os.sched_getaffinity(0))}; "
          f"load average {os.getloadavg()[0]:.2f}")
    rows: list[tuple[str, float, str]] = []

    def show(new: list[tuple[str, float, str]]) -> None:
        rows.extend(new)
        for name, t, note in new:
            print(f"{name:<62}  {t:9.3f} s  {note}", flush=True)

    arena_part, ours = arena_rows(frame, rounds)
    show(arena_part)
    show([lean_lbfgs(frame, rounds, timed_rounds=20)])
    show([evalica_fit(frame)])
    rank_rows, theirs = arena_rank_rows(frame, rounds, boot_rounds=10 if not args.quick else 20)
    show(rank_rows)
    if not args.skip_fastchat:
        show([fastchat_bt(frame, rounds)])
    show(style_rows(20, 200_000 if not args.quick else 50_000, 100))
    t_boot = next(t for name, t, _ in rows if name.startswith("arena: bootstrap"))
    t_lean = next(t for name, t, _ in rows if name.startswith("lean L-BFGS"))
    print(f"\narena bootstrap vs lean L-BFGS refit: {t_lean / t_boot:.1f}x")
    if "sandwich" in ours and "sandwich" in theirs:
        diffs = [max(abs((ours["sandwich"][m][k] - ours["sandwich"][m][2]) - (theirs["sandwich"][m][k] - theirs["sandwich"][m][2]))
                     for k in (0, 1)) for m in ours["sandwich"] if m in theirs["sandwich"]]
        print(f"sandwich half-widths, arena vs arena-rank: max |difference| {max(diffs):.3f} rating points "
              f"over {len(diffs)} models")


if __name__ == "__main__":
    main()
