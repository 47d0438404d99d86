"""Invariance suite: the same battles through every entry point and representation give the same numbers.

Pure helpers that build representations of one set of battles (:func:`to_counts`, :func:`to_weights`,
:func:`shuffle`, :func:`rename`, :func:`swap_sides`), the datasets (synthetic Bradley-Terry battles with known
strengths and several questions per pair; LLMFAO crowd votes), and the entry points, each a function
``(frame, settings, baseline) -> leaderboard rows`` so the test modules can be tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from arena.rating import RatingSettings

DATA = Path(__file__).resolve().parents[1] / "data"
SWAP_WINNER = {"model_a": "model_b", "model_b": "model_a", "tie": "tie", "tie (bothbad)": "tie (bothbad)"}
STYLE_PAIRS = (("len_a", "len_b"), ("header_a", "header_b"), ("list_a", "list_b"), ("bold_a", "bold_b"))
COMPARED = ("rating", "ci_low", "ci_high", "rank", "rank_low", "rank_high", "battles", "wins", "losses", "ties",
            "win_rate", "win_rate_low", "win_rate_high", "score", "score_low", "score_high")
RATING_TOL = 1e-6
"""Absolute tolerance on ratings (Elo points): the fits converge far below it."""
CI_TOL = 1e-3
"""Absolute tolerance on interval bounds: bootstrap refits stop at a Newton tolerance of 1e-6 (natural scale)."""
GROUP_KEYS = ("question_id", "model_a", "model_b", "winner", "turn", "category", "judge",
              "len_a", "len_b", "header_a", "header_b", "list_a", "list_b", "bold_a", "bold_b")


# ------------------------------------------------------------------------------------------------ data


def synthetic_battles(seed: int = 0, n_models: int = 5, questions_per_pair: int = 6, style: bool = False) -> pd.DataFrame:
    """Battles drawn from Bradley-Terry with known strengths: every pair on several questions, both orders.

    Each (question, pair) is judged in both orders, and some outcomes repeat within a question, so aggregating
    identical rows (:func:`to_counts`) really merges rows. With ``style``, answers get lengths (``len_a``,
    ``len_b``) and the judge favours the longer one.
    """
    rng = np.random.default_rng(seed)
    strength = np.linspace(-1.0, 1.0, n_models)
    models = [f"m{k}" for k in range(n_models)]
    rows: list[dict[str, Any]] = []
    lengths = rng.integers(50, 800, size=(n_models, questions_per_pair * n_models))
    for i in range(n_models):
        for j in range(i + 1, n_models):
            for q in range(questions_per_pair):
                qid = f"q{(q + i + j) % (questions_per_pair * 2)}"
                qi = int(qid[1:])
                for a, b in ((i, j), (j, i)):
                    la, lb = int(lengths[a, qi]), int(lengths[b, qi])
                    bonus = 0.4 * np.sign(la - lb) if style else 0.0
                    p = 1.0 / (1.0 + np.exp(-(strength[a] - strength[b] + bonus)))
                    u = rng.random()
                    winner = "tie" if u < 0.12 else ("model_a" if rng.random() < p else "model_b")
                    row: dict[str, Any] = {"question_id": qid, "model_a": models[a], "model_b": models[b],
                                           "winner": winner}
                    if style:
                        row.update(len_a=la, len_b=lb)
                    rows.append(row)
                    if rng.random() < 0.3:  # an identical repeat (a second judge sample): counts merge it
                        rows.append(dict(row))
    return pd.DataFrame(rows)


def llmfao_battles(limit: int | None = 3000) -> pd.DataFrame:
    """LLMFAO crowd votes (dustalov/llmfao, CC BY 4.0) in FastChat columns: left = model_a, right = model_b.

    ``prompt`` becomes the question id (the resampling unit); ``limit`` keeps the first rows (file order).
    """
    raw = pd.read_csv(DATA / "llmfao" / "crowd-comparisons.csv")
    if limit is not None:
        raw = raw.iloc[:limit]
    winner = raw["winner"].map({"left": "model_a", "right": "model_b", "tie": "tie"})
    assert winner.notna().all(), "crowd-comparisons.csv: winner outside left/right/tie"
    return pd.DataFrame({"question_id": "p" + raw["prompt"].astype(str), "model_a": raw["left"],
                         "model_b": raw["right"], "winner": winner}).reset_index(drop=True)


# ------------------------------------------------------------------------------------- representations


def _keys(frame: pd.DataFrame) -> list[str]:
    return [c for c in GROUP_KEYS if c in frame.columns]


def to_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Identical rows merged into one row with ``count`` = how many (first-appearance order kept)."""
    keys = _keys(frame)
    out = frame.groupby(keys, sort=False, dropna=False).size().rename("count").reset_index()
    return out.astype({"count": int})


def to_weights(frame: pd.DataFrame) -> pd.DataFrame:
    """Identical rows merged into one row with an integer frequency ``weight``."""
    return to_counts(frame).rename(columns={"count": "weight"})


def shuffle(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """Rows in a seeded random order."""
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def rename(frame: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """Model names replaced by ``mapping`` (a permutation or new names)."""
    out = frame.copy()
    for col in ("model_a", "model_b"):
        out[col] = out[col].map(lambda m: mapping.get(m, m))
    return out


def swap_sides(frame: pd.DataFrame) -> pd.DataFrame:
    """Every battle seen from the other side: model_a <-> model_b, style columns swapped, winner flipped."""
    out = frame.copy()
    out["model_a"], out["model_b"] = frame["model_b"], frame["model_a"]
    out["winner"] = frame["winner"].map(SWAP_WINNER)
    for ca, cb in STYLE_PAIRS:
        if ca in frame.columns and cb in frame.columns:
            out[ca], out[cb] = frame[cb], frame[ca]
    return out


def permutation(frame: pd.DataFrame) -> dict[str, str]:
    """A derangement-like permutation of the frame's model names (sorted order reversed)."""
    names = sorted(set(frame["model_a"]) | set(frame["model_b"]))
    return dict(zip(names, reversed(names), strict=True))


def fresh_names(frame: pd.DataFrame) -> dict[str, str]:
    """New names that sort in a different order than the old ones."""
    names = sorted(set(frame["model_a"]) | set(frame["model_b"]))
    return {n: f"{chr(ord('z') - k)}-renamed" for k, n in enumerate(names)}


def invert(mapping: dict[str, str]) -> dict[str, str]:
    return {v: k for k, v in mapping.items()}


REPRESENTATIONS: dict[str, Callable[[pd.DataFrame], tuple[pd.DataFrame, dict[str, str]]]] = {
    "rows": lambda f: (f, {}),
    "counts": lambda f: (to_counts(f), {}),
    "weights": lambda f: (to_weights(f), {}),
    "shuffled": lambda f: (shuffle(f), {}),
    "counts-shuffled": lambda f: (shuffle(to_counts(f), seed=3), {}),
    "permuted-names": lambda f: (rename(f, permutation(f)), invert(permutation(f))),
    "renamed": lambda f: (rename(f, fresh_names(f)), invert(fresh_names(f))),
    "swapped": lambda f: (swap_sides(f), {}),
}
"""Name -> (frame -> (new frame, map from its model names back to the original names))."""


# ------------------------------------------------------------------------------------------ entry points


def settings_for(method: str, rounds: int = 100, seed: int = 0, resample: str = "question",
                 elo_order: str = "auto") -> RatingSettings:
    """Settings of one tested method: ``bt``, ``elo`` or ``style`` (Bradley-Terry with style control)."""
    return RatingSettings.model_validate({"method": "elo" if method == "elo" else "bt", "bootstrap": rounds,
                                          "seed": seed, "resample": resample, "style_control": method == "style",
                                          "elo": {"order": elo_order}})


def expand(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Each row of ``column`` = n repeated n times, consecutively, as n plain rows (the column dropped)."""
    n = frame[column].to_numpy(dtype=int)
    return frame.loc[frame.index.repeat(n)].drop(columns=[column]).reset_index(drop=True)


def write_battles(frame: pd.DataFrame, path: Path) -> Path:
    """A battles file by suffix (JSONL or CSV), rows in frame order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict(orient="records")), encoding="utf-8")
    return path


def api_rows(frame: pd.DataFrame, settings: RatingSettings, baseline: str | None, tmp: Path) -> list[dict[str, Any]]:
    """The Python API: ``compute_leaderboard(battles_frame(records), settings)``."""
    from arena.rating import battles_frame, compute_leaderboard

    records = frame.to_dict(orient="records")
    return compute_leaderboard(battles_frame(records), settings, baseline=baseline).rows


def cli(args: list[str]) -> tuple[int, str]:
    """Run ``arena ARGS`` in-process through its console entry point (errors -> exit 2 or 1, as a user sees
    them); returns ``(exit code, stdout + stderr)``."""
    from arena.cli import main

    def entry() -> None:
        main(args)

    result = CliRunner().invoke(click.Command("arena", callback=entry), [])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def rate_args(settings: RatingSettings, baseline: str | None) -> list[str]:
    args = ["--method", settings.method, "--bootstrap", str(settings.bootstrap), "--seed", str(settings.seed),
            "--resample", settings.resample]
    if settings.style_control:
        args.append("--style-control")
    if settings.method == "elo":
        args += ["--elo-order", settings.elo.order]
    if baseline is not None:
        args += ["--baseline", baseline]
    return args


def rate_cli_rows(frame: pd.DataFrame, settings: RatingSettings, baseline: str | None, tmp: Path,
                  suffix: str = ".jsonl") -> list[dict[str, Any]]:
    """``arena rate FILE --format json`` (the leaderboard.json rows)."""
    path = write_battles(frame, tmp / f"battles{suffix}")
    out = tmp / "rate.json"
    code, text = cli(["rate", str(path), "--format", "json", "--out", str(out), *rate_args(settings, baseline)])
    if code != 0:
        raise RefusedError(text, code)
    return json.loads(out.read_text(encoding="utf-8"))


def rate_csv_rows(frame: pd.DataFrame, settings: RatingSettings, baseline: str | None, tmp: Path) -> list[dict[str, Any]]:
    """``arena rate`` on the same battles written as CSV."""
    return rate_cli_rows(frame, settings, baseline, tmp, suffix=".csv")


def import_rows(frame: pd.DataFrame, settings: RatingSettings, baseline: str | None, tmp: Path) -> list[dict[str, Any]]:
    """``arena import chatbot-arena FILE DEST`` (plain logs or aggregated counts), then DEST/leaderboard.json."""
    path = write_battles(frame, tmp / "log.jsonl")
    dest = tmp / "imported"
    code, text = cli(["import", "chatbot-arena", str(path), str(dest), "--bootstrap", str(settings.bootstrap),
                      "--seed", str(settings.seed)])
    if code != 0:
        raise RefusedError(text, code)
    return json.loads((dest / "leaderboard.json").read_text(encoding="utf-8"))


def viz_rows(frame: pd.DataFrame, settings: RatingSettings, baseline: str | None, tmp: Path) -> list[dict[str, Any]]:
    """The browser: ``leaderboard_rows(load_source(FILE))`` on a bare battles file (arena rate's defaults)."""
    from arena import browse as vd

    data = vd.load_source(write_battles(frame, tmp / "viz.jsonl"))
    bad = [n for n in data.notes if "incomplete" not in n]
    if bad:
        raise RefusedError("; ".join(bad))
    rows, _, _ = vd.leaderboard_rows(data, bootstrap=settings.bootstrap)
    return rows.to_dict(orient="records")


EntryPoint = Callable[[pd.DataFrame, RatingSettings, "str | None", Path], list[dict[str, Any]]]
ENTRY_POINTS: dict[str, EntryPoint] = {"api": api_rows, "rate": rate_cli_rows, "rate-csv": rate_csv_rows,
                                       "import": import_rows, "viz": viz_rows}
DEFAULTS_ONLY = {"import", "viz"}
"""Entry points that rate with fixed settings (Bradley-Terry, resample question, no style control)."""


class RefusedError(Exception):
    """An entry point refused its input: the CLI's message (exit code in ``code``) or the browser's notes."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------------------------- compare


def by_model(rows: list[dict[str, Any]], back: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Rows keyed by model, names mapped back to the original ones."""
    back = back or {}
    return {back.get(str(r["model"]), str(r["model"])): r for r in rows}


def _num(x: Any) -> float | None:
    if x is None:
        return None
    v = float(x)
    return None if np.isnan(v) else v


def assert_same_rows(got: list[dict[str, Any]], want: list[dict[str, Any]], back: dict[str, str] | None = None,
                     fields: tuple[str, ...] = COMPARED, label: str = "", check_order: bool = True) -> None:
    """Same models, for each the same value of every field present in ``want`` (within tolerances), and the
    same row order (unless ``check_order`` is False or ratings tie)."""
    g, w = by_model(got, back), by_model(want, None)
    assert set(g) == set(w), f"{label}: models differ: {sorted(g)} vs {sorted(w)}"
    problems = []
    for model, wr in w.items():
        for f in fields:
            if f not in wr:
                continue
            a, b = _num(g[model].get(f)), _num(wr[f])
            if a is None or b is None:
                if a != b:
                    problems.append(f"{model}.{f}: {a} vs {b}")
                continue
            tol = RATING_TOL * max(1.0, abs(b)) if f == "rating" else CI_TOL
            if abs(a - b) > tol:
                problems.append(f"{model}.{f}: {a} vs {b}")
    assert not problems, f"{label}: {len(problems)} differences, first: " + "; ".join(problems[:6])
    if not check_order:
        return
    order_g = [back.get(str(r["model"]), str(r["model"])) if back else str(r["model"]) for r in got]
    assert order_g == [str(r["model"]) for r in want] or len({round(float(r["rating"]), 6) for r in want}) < len(want), \
        f"{label}: row order differs: {order_g} vs {[r['model'] for r in want]}"


@pytest.fixture(scope="session")
def synthetic() -> pd.DataFrame:
    return synthetic_battles()


@pytest.fixture(scope="session")
def synthetic_style() -> pd.DataFrame:
    return synthetic_battles(seed=5, style=True)


@pytest.fixture(scope="session")
def llmfao() -> pd.DataFrame:
    return llmfao_battles()
