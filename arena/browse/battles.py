"""What the battle list shows: filters, pages and one battle in detail."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from arena.browse.data import RunData

log = logging.getLogger(__name__)


@dataclass
class BattleFilter:
    """What the battle list shows. Empty lists mean "all"."""

    models: list[str] = field(default_factory=list)
    """One model: battles it played; two or more: battles between two of them."""
    categories: list[str] = field(default_factory=list)
    turns: list[int] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    flips_only: bool = False
    ties_only: bool = False
    errors_only: bool = False
    min_len: float | None = None
    """Keep battles whose longer answer has at least this many characters."""
    max_len: float | None = None
    """Keep battles whose longer answer has at most this many characters."""
    search: str = ""
    """Case-insensitive text in the question, either answer or the judge's reply."""


def search_mask(data: RunData, table: pd.DataFrame, text: str) -> pd.Series:
    """Rows of ``table`` whose question, answers or judge reply contain ``text`` (case-insensitive)."""
    text = text.strip()
    if not text:
        return pd.Series(True, index=table.index)
    mask = table["output"].str.contains(text, case=False, regex=False, na=False)
    mask |= table["model_a"].str.contains(text, case=False, regex=False) | table["model_b"].str.contains(
        text, case=False, regex=False
    )
    if not data.answers.empty:
        hit = data.answers.loc[data.answers["text"].str.contains(text, case=False, regex=False, na=False), "key"]
        keys = set(hit)
        mask |= table["answer_a"].isin(keys) | table["answer_b"].isin(keys)
    if not data.questions.empty:
        qtext = data.questions["turns"].map(lambda t: "\n".join(map(str, t)) if isinstance(t, list) else "")
        qids = set(data.questions.loc[qtext.str.contains(text, case=False, regex=False, na=False), "question_id"])
        mask |= table["question_id"].isin(qids)
    return mask


def filter_battles(data: RunData, flt: BattleFilter) -> pd.DataFrame:
    """The rows of :attr:`RunData.table` that pass ``flt``, in file order."""
    t = data.table
    if t.empty:
        return t
    mask = pd.Series(True, index=t.index)
    if len(flt.models) == 1:
        mask &= (t["model_a"] == flt.models[0]) | (t["model_b"] == flt.models[0])
    elif flt.models:
        mask &= t["model_a"].isin(flt.models) & t["model_b"].isin(flt.models)
    if flt.categories:
        mask &= t["category"].isin(flt.categories)
    if flt.turns:
        mask &= t["turn"].isin(flt.turns)
    if flt.verdicts:
        mask &= t["verdict"].isin(flt.verdicts)
    if flt.flips_only:
        mask &= t["flip"]
    if flt.ties_only:
        mask &= t["winner"].str.startswith("tie")
    if flt.errors_only:
        mask &= t["error"].notna()
    longest = t[["len_a", "len_b"]].max(axis=1)
    if flt.min_len is not None:
        mask &= longest >= flt.min_len
    if flt.max_len is not None:
        mask &= longest <= flt.max_len
    if flt.search.strip():
        mask &= search_mask(data, t, flt.search)
    return t[mask]


def page_of(frame: pd.DataFrame, page: int, size: int) -> tuple[pd.DataFrame, int]:
    """Rows of 1-based ``page`` (clamped) and the number of pages."""
    pages = max(1, math.ceil(len(frame) / size))
    page = min(max(1, page), pages)
    return frame.iloc[(page - 1) * size : page * size], pages


def battle_list_view(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns the battle list shows, with readable names."""
    view = rows[["bid", "question_id", "category", "turn", "model_a", "model_b", "verdict", "winner_model",
                 "flip", "len_a", "len_b"]].copy()
    view["error"] = rows["error"].notna()
    return view.rename(columns={"winner_model": "winner", "len_a": "chars A", "len_b": "chars B",
                                "flip": "order flip", "error": "parse error"})


def _answer(data: RunData, key: Any) -> dict[str, Any] | None:
    if key is None or (isinstance(key, float) and math.isnan(key)) or data.answers.empty:
        return None
    hit = data.answers[data.answers["key"] == key]
    if hit.empty:
        return None
    row = hit.iloc[0]
    return {"key": str(row["key"]), "model": str(row["model"]), "turns": list(row["turns"]),
            "error": row["error"] if isinstance(row["error"], str) else None}


def battle_detail(data: RunData, bid: str) -> dict[str, Any] | None:
    """One battle as the detail view shows it; None when ``bid`` is unknown.

    Returns:
        ``row`` (the table row), ``question`` (``turns``, ``reference``, ``category`` or None), ``answer_a`` and
        ``answer_b`` (``model``, ``turns`` or None), and ``orders``: the judgments of the same game (both orders
        when judged so), each with ``model_a, model_b, swapped, verdict, winner_model, output, error, prompt``.
    """
    t = data.table
    hit = t.index[t["bid"] == str(bid)]
    if len(hit) == 0:
        return None
    row = t.loc[hit[0]].to_dict()
    question = None
    if not data.questions.empty and row["question_id"] in data.questions.index:
        q = data.questions.loc[row["question_id"]]
        ref = q["reference"] if isinstance(q["reference"], list) else None
        question = {"turns": list(q["turns"]) if isinstance(q["turns"], list) else [], "reference": ref,
                    "category": q["category"]}
    game = t[t["game_key"] == row["game_key"]] if row["game_key"] else t.loc[hit[:1]]
    game = game.sort_values("swapped", kind="stable")
    j = data.judgments.set_index("key") if "key" in data.judgments.columns and not data.judgments.empty else None
    orders = []
    for _, g in game.iterrows():
        prompt = None
        if j is not None and g["bid"] in j.index:
            jr = j.loc[g["bid"]]
            prompt = f"{jr.get('prompt_set', '')}/{jr.get('prompt_name', '')}@{jr.get('prompt_version', '')}"
        orders.append({"bid": g["bid"], "model_a": g["model_a"], "model_b": g["model_b"], "swapped": bool(g["swapped"]),
                       "verdict": g["verdict"], "winner_model": g["winner_model"], "output": g["output"],
                       "error": g["error"], "prompt": prompt, "judge": g["judge"],
                       "score_a": _num_or_none(g["score_a"]), "score_b": _num_or_none(g["score_b"])})
    return {"row": row, "question": question, "answer_a": _answer(data, row["answer_a"]),
            "answer_b": _answer(data, row["answer_b"]), "orders": orders}


def _num_or_none(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
