"""The battle table: one row per judged battle, from judgments or battle rows."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from arena.browse.data import TABLE_COLUMNS, RunData, _empty, _validated
from arena.browse.leaderboard import rating_settings
from arena.judging.battles import WINNER_OF
from arena.records import WINNERS

log = logging.getLogger(__name__)


def _winner_model(model_a: pd.Series, model_b: pd.Series, winner: pd.Series) -> pd.Series:
    w = winner.to_numpy(dtype=object)
    out = np.where(w == "model_a", model_a.to_numpy(dtype=object),
                   np.where(w == "model_b", model_b.to_numpy(dtype=object), w))
    return pd.Series(out, index=winner.index, dtype=object)


def _mark_flips(table: pd.DataFrame) -> pd.Series:
    """True on both rows of a game judged in both orders whose winners differ (an order flip).

    Vectorised on integer codes of ``game_key`` (rows with an error or no game key take no part): a game flips
    when its rows hold both values of ``swapped`` and more than one (non-missing) ``winner_model``.
    """
    out = np.zeros(len(table), dtype=bool)
    ok = (table["error"].isna() & table["game_key"].fillna("").astype(bool)).to_numpy(dtype=bool)
    if not ok.any():
        return pd.Series(out, index=table.index)
    games, _ = pd.factorize(table["game_key"].to_numpy(dtype=object)[ok])
    size = np.bincount(games)
    swapped = np.bincount(games, weights=table["swapped"].to_numpy(dtype=bool)[ok].astype(float))
    orders = (swapped > 0) & (swapped < size)
    winners, _ = pd.factorize(table["winner_model"].to_numpy(dtype=object)[ok])
    known = winners >= 0
    span = pd.DataFrame({"g": games[known], "w": winners[known]}).groupby("g")["w"].agg(["min", "max"])
    differ = np.zeros(len(size), dtype=bool)
    differ[span.index.to_numpy()] = span["min"].to_numpy() != span["max"].to_numpy()
    out[ok] = (orders & differ)[games]
    return pd.Series(out, index=table.index)


def _battles_table(b: pd.DataFrame) -> pd.DataFrame:
    """The battle table of a battles frame alone (bare file, evalscope, single-mode implied battles)."""
    t = pd.DataFrame(index=b.index)
    t["bid"] = b["key"].astype(str) if "key" in b.columns and b["key"].astype(bool).all() and b["key"].is_unique \
        else pd.Series(np.arange(len(b)), index=b.index).astype(str)
    for c in ("question_id", "category", "turn", "model_a", "model_b", "winner", "weight", "judge"):
        t[c] = b[c]
    t["verdict"] = b["winner"]
    t["winner_model"] = _winner_model(b["model_a"], b["model_b"], b["winner"])
    if "swapped" in b.columns:
        t["swapped"] = b["swapped"].fillna(False).astype(bool)
    else:
        t["swapped"] = b["model_a"] > b["model_b"]
    if "game_key" in b.columns and b["game_key"].fillna("").astype(bool).all():
        t["game_key"] = b["game_key"].astype(str)
    else:
        lo = np.minimum(b["model_a"].to_numpy(dtype=object), b["model_b"].to_numpy(dtype=object))
        hi = np.maximum(b["model_a"].to_numpy(dtype=object), b["model_b"].to_numpy(dtype=object))
        t["game_key"] = b["question_id"] + "|" + b["turn"].astype(str) + "|" + lo + "|" + hi
    t["error"] = None
    for c in ("len_a", "len_b", "score_a", "score_b"):
        t[c] = pd.to_numeric(b[c], errors="coerce") if c in b.columns else np.nan
    for c in ("answer_a", "answer_b"):
        t[c] = b[c] if c in b.columns else None
    t["output"] = ""
    t["flip"] = _mark_flips(t)
    return t[list(TABLE_COLUMNS)].reset_index(drop=True)


def _answer_lengths(answers: pd.DataFrame) -> pd.Series:
    """Characters of each answer turn, indexed by ``(key, turn)``."""
    if answers.empty:
        return pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=["key", "turn"]))
    ex = answers[["key", "turns"]].explode("turns").dropna(subset=["turns"])
    ex["turn"] = ex.groupby("key").cumcount() + 1
    return pd.Series(ex["turns"].str.len().to_numpy(dtype=float), index=pd.MultiIndex.from_frame(ex[["key", "turn"]]))


def _run_table(data: RunData) -> pd.DataFrame:
    """Battle table of a run dir: one row per pairwise judgment (errors included), else the battles."""
    j = data.judgments
    if j.empty or "model_b" not in j.columns or j["model_b"].isna().all():
        return _battles_table(data.battles) if not data.battles.empty else _empty(TABLE_COLUMNS)
    j = j[j["model_b"].notna()].reset_index(drop=True)
    t = pd.DataFrame({"bid": j["key"].astype(str), "question_id": j["question_id"].astype(str)})
    t["category"] = j.get("category", pd.Series("general", index=j.index)).fillna("general").astype(str)
    t["turn"] = pd.to_numeric(j.get("turn", 1), errors="coerce").fillna(1).astype(int)
    t["model_a"], t["model_b"] = j["model_a"].astype(str), j["model_b"].astype(str)
    err = j["error"] if "error" in j.columns else pd.Series(None, index=j.index, dtype=object)
    verdict = j["verdict"] if "verdict" in j.columns else pd.Series(None, index=j.index, dtype=object)
    t["error"] = err.where(err.notna(), None)
    t["verdict"] = verdict.where(verdict.notna(), "error")
    t["winner"] = t["verdict"].map(WINNER_OF).fillna("error")
    t["winner_model"] = _winner_model(t["model_a"], t["model_b"], t["winner"])
    weights = {k: w for k, w in zip(data.battles["key"], data.battles["weight"], strict=False) if isinstance(k, str)} \
        if "key" in data.battles.columns else {}  # a key that is not text (a damaged line) joins no judgment
    t["weight"] = t["bid"].map(weights).fillna(0.0)
    t["judge"] = j.get("judge", "").astype(str)
    t["swapped"] = j.get("swapped", False).fillna(False).astype(bool)
    t["game_key"] = j.get("game_key", "").fillna("").astype(str)
    t["answer_a"], t["answer_b"] = j["answer_a"].astype(str), j["answer_b"].astype(str)
    lengths = _answer_lengths(data.answers)
    for side in ("a", "b"):
        idx = pd.MultiIndex.from_arrays([t[f"answer_{side}"], t["turn"]])
        t[f"len_{side}"] = lengths.reindex(idx).to_numpy() if len(lengths) else np.nan
    t["output"] = j.get("output", "").fillna("").astype(str)
    t["score_a"] = np.nan
    t["score_b"] = np.nan
    t["flip"] = _mark_flips(t)
    return t[list(TABLE_COLUMNS)]


def _provisional_battles(data: RunData) -> pd.DataFrame:
    """Battles from the judgments on disk, for a run that has not written ``battles.jsonl`` yet."""
    t = data.table[data.table["error"].isna() & data.table["winner"].isin(WINNERS)]
    if t.empty:
        return data.battles
    strong = rating_settings(data).strong_weight
    frame = t[["question_id", "model_a", "model_b", "winner", "judge", "turn", "category", "swapped",
               "game_key", "len_a", "len_b"]].assign(key=t["bid"])
    frame["weight"] = np.where(t["verdict"].str.contains(">>", regex=False), strong, 1.0)
    return _validated(frame.reset_index(drop=True), "judgments.jsonl")
