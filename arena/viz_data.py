"""Everything the battle browser shows, computed here: loaders and pure functions returning frames/dicts.

The Streamlit app in ``viz/`` only renders. It reads one *source*, which is any of:

- a run dir written by the pipeline (``battles.jsonl``, ``judgments.jsonl``, ``answers/``, ``leaderboard.json``,
  ``judge_report.json``, ``manifest.json``, ``questions.jsonl``), complete, partial or still being written;
- a bare battles file in FastChat columns (JSONL, JSON, CSV or parquet), as ``arena rate`` reads;
- the llmuses/evalscope ``battle.jsonl`` (``model_a, model_b, scores, win, question, output_a, output_b, ...``).

:func:`load_source` never raises for a missing, empty or half-written source: what it could not read becomes a
line in :attr:`RunData.notes`, and the pages say so. Every computation is vectorised over pandas frames, so a
source with 100,000 battles stays interactive once loaded.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from arena.errors import UserError
from arena.records import WINNERS
from arena.store import read_jsonl

log = logging.getLogger(__name__)

SourceKind = Literal["run", "battles", "evalscope", "missing"]

RUN_FILES: tuple[str, ...] = (
    "battles.jsonl",
    "judgments.jsonl",
    "leaderboard.json",
    "judge_report.json",
    "manifest.json",
    "questions.jsonl",
)
BATTLE_SUFFIXES: tuple[str, ...] = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet", ".pq")

WINNER_OF_VERDICT: dict[str, str] = {"A>>B": "model_a", "A>B": "model_a", "A=B": "tie", "B>A": "model_b", "B>>A": "model_b"}
"""Judge verdict label -> FastChat winner label (as :mod:`arena.judging.battles`)."""

EVALSCOPE_WIN: dict[str, str] = {
    "model_a": "model_a",
    "model_b": "model_b",
    "tie": "tie",
    "tie (bothbad)": "tie (bothbad)",
    "a": "model_a",
    "b": "model_b",
}
"""llmuses/evalscope ``win`` values -> winner labels (their arena writes ``model_a | model_b | tie``)."""

TABLE_COLUMNS: tuple[str, ...] = (
    "bid",
    "question_id",
    "category",
    "turn",
    "model_a",
    "model_b",
    "verdict",
    "winner",
    "winner_model",
    "weight",
    "judge",
    "swapped",
    "game_key",
    "flip",
    "error",
    "len_a",
    "len_b",
    "answer_a",
    "answer_b",
    "output",
    "score_a",
    "score_b",
)
"""Columns of :attr:`RunData.table`, one row per judged battle (one judge call, or one battle row)."""

@dataclass
class RunData:
    """One loaded source: the raw frames, the files' JSON documents, the battle table and notes.

    Frames are empty (never None) when their file is missing, so pages can test ``.empty``.
    """

    source: str
    kind: SourceKind
    battles: pd.DataFrame
    """Validated battles in FastChat columns (see :func:`arena.rating.validate_frame`)."""
    table: pd.DataFrame
    """One row per judged battle with :data:`TABLE_COLUMNS`: what the battle list filters."""
    judgments: pd.DataFrame
    answers: pd.DataFrame
    """Columns ``key, question_id, model, turns, text, error`` (``text``: all turns joined)."""
    questions: pd.DataFrame
    """Columns ``question_id, category, turns, reference`` indexed by ``question_id``."""
    leaderboard: list[dict[str, Any]] | None = None
    leaderboard_extras: dict[str, Any] = field(default_factory=dict)
    judge_report: dict[str, Any] | None = None
    manifest: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    """Human-readable lines about missing, partial or unreadable files."""

    @functools.cached_property
    def models(self) -> list[str]:
        """Every model that played a battle or answered a question, sorted (computed once)."""
        cols = [self.battles["model_a"], self.battles["model_b"], self.table["model_a"], self.table["model_b"],
                self.answers["model"]]
        names = pd.unique(pd.concat([c.astype(object) for c in cols], ignore_index=True).dropna())
        return sorted(str(n) for n in names)

    @property
    def mode(self) -> str:
        """``single``, ``pairwise-baseline``, ``pairwise-all`` (from the manifest or the judgments) or ``pairwise``."""
        judge = ((self.manifest or {}).get("config") or {}).get("judge") or {}
        if judge.get("mode"):
            return str(judge["mode"])
        imported = (self.manifest or {}).get("imported") or {}
        if imported.get("mode"):  # a run dir written by ``arena import``
            return str(imported["mode"])
        if not self.judgments.empty and "mode" in self.judgments.columns:
            return str(self.judgments["mode"].iloc[0])
        return "pairwise"

    @property
    def baseline(self) -> str | None:
        """The baseline model of a pairwise-baseline run."""
        judge = ((self.manifest or {}).get("config") or {}).get("judge") or (self.manifest or {}).get("imported") or {}
        return judge.get("baseline") if self.mode == "pairwise-baseline" else None


# ----------------------------------------------------------------------------------------------- loading


def source_signature(path: str | Path) -> tuple[tuple[str, int, int], ...]:
    """``(name, mtime_ns, size)`` of every file a source is read from: a cache key that changes as a run grows."""
    root = Path(path)
    files: list[Path] = []
    if root.is_dir():
        files = [root / n for n in RUN_FILES] + [root / "battle.jsonl"]
        answers = root / "answers"
        if answers.is_dir():
            files += sorted(answers.glob("*.jsonl"))
    else:
        files = [root]
    out = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        out.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(out)


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _fast_lines(raw: bytes) -> list[dict[str, Any]] | None:
    """Parse complete JSONL lines with orjson when installed (several times faster); None on any problem."""
    try:
        import orjson
    except ImportError:
        return None
    try:
        rows = [orjson.loads(line) for line in raw.splitlines() if line.strip()]
    except orjson.JSONDecodeError:
        return None
    return rows if all(isinstance(r, dict) for r in rows) else None


def _read_lines(path: Path, notes: list[str]) -> list[dict[str, Any]]:
    """Objects of a JSONL file; a missing file is ``[]``; a broken line becomes a note and stops the read."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        notes.append(f"{path.name}: the last line is incomplete (a write in progress?); it is ignored")
    fast = _fast_lines(raw[: raw.rfind(b"\n") + 1])
    if fast is not None:
        return fast
    rows: list[dict[str, Any]] = []
    try:
        rows.extend(obj for _, obj in read_jsonl(path))
    except UserError as exc:  # read_jsonl names file:line and the fix
        notes.append(f"{exc} (showing the {len(rows)} lines before it)")
    return rows


def _read_json(path: Path, notes: list[str]) -> Any:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        notes.append(f"{path.name}: cannot be read ({exc}); it is being written or broken")
        return None


def read_battles_table(path: Path) -> pd.DataFrame:
    """Read a battles file as ``arena rate`` reads it (:func:`arena.tables.read_table`: raw columns, not validated).

    Raises:
        DataError: an unreadable file, or content that does not match its suffix.
        UserError: an unknown suffix.
    """
    from arena.tables import read_table

    return read_table(path)


def _answers_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = ["key", "question_id", "model", "turns", "text", "error"]
    if not rows:
        return _empty(cols)
    df = pd.DataFrame(rows)
    for c in ("error", "turns"):
        if c not in df.columns:
            df[c] = None
    df["question_id"] = df["question_id"].astype(str)
    df["turns"] = df["turns"].map(lambda t: [str(x) for x in t] if isinstance(t, list) else [])
    df["text"] = df["turns"].map("\n\n".join)
    df = df.drop_duplicates("key", keep="last")
    return df[cols].reset_index(drop=True)


def _questions_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = ["question_id", "category", "turns", "reference"]
    if not rows:
        return _empty(cols).set_index("question_id", drop=False)
    from arena.questions import _normalise

    df = pd.DataFrame([_normalise(r) for r in rows])
    for c in cols:
        if c not in df.columns:
            df[c] = None
    df["question_id"] = df["question_id"].astype(str)
    df = df.drop_duplicates("question_id", keep="last")
    return df[cols].set_index("question_id", drop=False)


def _load_questions(root: Path, manifest: dict[str, Any] | None, notes: list[str]) -> pd.DataFrame:
    """``questions.jsonl`` in the run dir, else the question set the manifest's config names."""
    qfile = root / "questions.jsonl"
    if qfile.exists():
        return _questions_frame(_read_lines(qfile, notes))
    qcfg = ((manifest or {}).get("config") or {}).get("questions")
    if not qcfg:
        return _questions_frame([])
    try:
        from arena.config import QuestionsConfig
        from arena.questions import load_all_questions

        questions = load_all_questions(QuestionsConfig(**qcfg))
    except Exception as exc:  # a moved question file must not stop the browser: show battles without text
        notes.append(f"questions: cannot load the question set named in manifest.json ({exc}); question texts are not shown")
        return _questions_frame([])
    return _questions_frame([q.model_dump() for q in questions])


def load_source(path: str | Path) -> RunData:
    """Load a run dir, a bare battles file or an evalscope ``battle.jsonl``; never raises for bad data.

    Args:
        path: a run dir (or a folder holding an evalscope ``battle.jsonl``) or a battles file.

    Returns:
        The loaded :class:`RunData`; problems are listed in ``notes``.
    """
    root = Path(path)
    if root.is_dir() and not (root / "battles.jsonl").exists() and (root / "battle.jsonl").exists():
        root = root / "battle.jsonl"
    if root.is_file():
        return _load_file(root)
    if not root.exists():
        return _blank(str(root), "missing", [f"{root} does not exist; pass a run dir or a battles file"])
    return _load_run_dir(root)


def _blank(source: str, kind: SourceKind, notes: list[str]) -> RunData:
    return RunData(
        source=source,
        kind=kind,
        battles=_validated(pd.DataFrame(columns=["model_a", "model_b", "winner"])),
        table=_empty(TABLE_COLUMNS),
        judgments=_empty(["key"]),
        answers=_answers_frame([]),
        questions=_questions_frame([]),
        notes=notes,
    )


def _validated(frame: pd.DataFrame, where: str = "battles") -> pd.DataFrame:
    from arena.rating import validate_frame

    return validate_frame(frame, where)


def _load_run_dir(root: Path) -> RunData:
    notes: list[str] = []
    data = _blank(str(root), "run", notes)
    data.manifest = _read_json(root / "manifest.json", notes)
    _, _, problem = settings_from_manifest(data.manifest)
    if problem is not None:
        notes.append(problem)
    lb = _read_json(root / "leaderboard.json", notes)
    if isinstance(lb, dict):  # the full LeaderboardResult document
        data.leaderboard, data.leaderboard_extras = lb.get("rows"), lb.get("extras") or {}
    elif isinstance(lb, list):
        data.leaderboard = lb
    data.judge_report = _read_json(root / "judge_report.json", notes)
    battle_rows = _read_lines(root / "battles.jsonl", notes)
    if battle_rows:
        try:
            data.battles = _validated(pd.DataFrame(battle_rows), f"{root / 'battles.jsonl'}")
        except UserError as exc:
            notes.append(str(exc))
    judgment_rows = _read_lines(root / "judgments.jsonl", notes)
    if judgment_rows:
        data.judgments = pd.DataFrame(judgment_rows).drop_duplicates("key", keep="last").reset_index(drop=True)
    answer_rows: list[dict[str, Any]] = []
    answers_dir = root / "answers"
    if answers_dir.is_dir():
        for f in sorted(answers_dir.glob("*.jsonl")):
            answer_rows.extend(_read_lines(f, notes))
    data.answers = _answers_frame(answer_rows)
    data.questions = _load_questions(root, data.manifest, notes)
    data.table = _run_table(data)
    if data.battles.empty and not data.table.empty:
        data.battles = _provisional_battles(data)
        if not data.battles.empty:
            notes.append(f"battles.jsonl is not written yet (the run may still be judging): showing the "
                         f"{len(data.battles):,} battles judged so far; ratings are provisional")
    if not any((root / n).exists() for n in RUN_FILES) and not answers_dir.is_dir():
        notes.insert(0, f"{root} holds no arena files (battles.jsonl, judgments.jsonl, answers/, ...): "
                        "is it a run dir? A run that has just started writes them as it goes")
    return data


def _is_evalscope(frame: pd.DataFrame) -> bool:
    return "win" in frame.columns and "winner" not in frame.columns


def _load_file(path: Path) -> RunData:
    notes: list[str] = []
    try:
        raw = read_battles_table(path)
        if path.suffix.lower() == ".jsonl":
            tail = path.read_bytes()[-1:]
            if tail and tail != b"\n":
                notes.append(f"{path.name}: the last line is incomplete; it is ignored")
    except UserError as exc:
        return _blank(str(path), "battles", [str(exc)])
    if raw.empty:
        return _blank(str(path), "battles", [f"{path}: no battles in this file yet"])
    try:
        if _is_evalscope(raw):
            return _load_evalscope(path, raw, notes)
        data = _blank(str(path), "battles", notes)
        data.battles = _validated(raw, str(path))
    except UserError as exc:
        return _blank(str(path), "battles", [*notes, str(exc)])
    data.table = _battles_table(data.battles)
    return data


def _load_evalscope(path: Path, raw: pd.DataFrame, notes: list[str]) -> RunData:
    """evalscope/llmuses ``battle.jsonl``: the texts become answers and questions, ``win`` the winner."""
    from arena.errors import DataError

    df = raw.copy()
    win = df["win"].astype(str).str.strip()
    mapped = win.str.lower().map(EVALSCOPE_WIN)
    if mapped.isna().any():
        pos = int(np.flatnonzero(mapped.isna().to_numpy())[0])
        raise DataError(f"{path}: row {pos + 1}: unknown 'win' value {win.iloc[pos]!r}; expected model_a, model_b or tie")
    df["winner"] = mapped
    df["question_id"] = df["question_id"].astype(str) if "question_id" in df.columns else np.arange(len(df)).astype(str)
    for side in ("a", "b"):
        if f"output_{side}" not in df.columns:
            df[f"output_{side}"] = ""
        df[f"output_{side}"] = df[f"output_{side}"].fillna("").astype(str)
        df[f"len_{side}"] = df[f"output_{side}"].str.len().astype(float)
        df[f"answer_{side}"] = df["question_id"] + "|" + df[f"model_{side}"].astype(str)
    if "scores" in df.columns:
        sc = df["scores"].map(lambda s: s if isinstance(s, (list, tuple)) and len(s) == 2 else (None, None))
        df["score_a"] = sc.map(lambda s: s[0])
        df["score_b"] = sc.map(lambda s: s[1])
    if "judge" not in df.columns:
        df["judge"] = "evalscope"
    data = _blank(str(path), "evalscope", notes)
    data.battles = _validated(df.drop(columns=["win"]), str(path))
    answers = pd.concat(
        [
            pd.DataFrame({"key": df[f"answer_{s}"], "question_id": df["question_id"], "model": df[f"model_{s}"],
                          "turns": df[f"output_{s}"].map(lambda t: [t])})
            for s in ("a", "b")
        ]
    )
    data.answers = _answers_frame(answers.to_dict(orient="records"))
    qtext = df["question"].fillna("").astype(str) if "question" in df.columns else pd.Series("", index=df.index)
    cat = df["category"].fillna("general").astype(str) if "category" in df.columns else "general"
    qdf = pd.DataFrame({"question_id": df["question_id"], "category": cat, "turns": qtext.map(lambda t: [t])})
    data.questions = _questions_frame(qdf.drop_duplicates("question_id").to_dict(orient="records"))
    data.table = _battles_table(data.battles)
    return data


# ------------------------------------------------------------------------------------------ battle table


def _winner_model(model_a: pd.Series, model_b: pd.Series, winner: pd.Series) -> pd.Series:
    out = np.where(winner == "model_a", model_a, np.where(winner == "model_b", model_b, winner))
    return pd.Series(out, index=winner.index, dtype=object)


def _mark_flips(table: pd.DataFrame) -> pd.Series:
    """True on both rows of a game judged in both orders whose winners differ (an order flip)."""
    ok = table[table["error"].isna() & table["game_key"].astype(bool)]
    if ok.empty:
        return pd.Series(False, index=table.index)
    g = ok.groupby("game_key").agg(orders=("swapped", "nunique"), winners=("winner_model", "nunique"))
    flipped = g.index[(g["orders"] > 1) & (g["winners"] > 1)]
    return table["game_key"].isin(flipped) & table["error"].isna()


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
    t["winner"] = t["verdict"].map(WINNER_OF_VERDICT).fillna("error")
    t["winner_model"] = _winner_model(t["model_a"], t["model_b"], t["winner"])
    weights = dict(zip(data.battles["key"], data.battles["weight"], strict=False)) if "key" in data.battles.columns else {}
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


# --------------------------------------------------------------------------------------------- filtering


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


# ------------------------------------------------------------------------------------------- one battle


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


# ------------------------------------------------------------------------------------------- leaderboard


def settings_from_manifest(manifest: dict[str, Any] | None) -> tuple[Any, str, str | None]:
    """The rating settings a run was rated with, as the pipeline or ``arena import`` used them.

    A pipeline run keeps them under ``config.rating`` (seed: ``config.seed`` when unset, as the pipeline
    seeds them), an imported run under ``rating``. With neither, they are ``arena rate``'s defaults
    (:class:`~arena.rating.RatingSettings`: Bradley-Terry, 1000 bootstrap rounds, seed 0), so the browser
    gives the same numbers as ``arena rate`` on the same file.

    Returns:
        ``(settings, where, problem)``: the settings, where they came from, and a line saying why the
        manifest's settings could not be used (None when they could).
    """
    from pydantic import ValidationError

    from arena.rating import RatingSettings

    m = manifest or {}
    cfg = m.get("config") or {}
    if isinstance(cfg, dict) and cfg.get("rating") is not None:
        raw, where, seed = cfg.get("rating"), "manifest.json config.rating", cfg.get("seed", m.get("seed"))
    elif m.get("rating") is not None:
        raw, where, seed = m.get("rating"), "manifest.json rating", m.get("seed")
    else:
        return RatingSettings(seed=0), "arena rate's defaults", None
    try:
        settings = RatingSettings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        problem = (f"{where}: {loc or 'rating'}: {err['msg']} (written by another arena version?); the ratings "
                   "computed here use arena rate's defaults instead (bt, 1000 bootstrap rounds, seed 0)")
        return RatingSettings(seed=0), "arena rate's defaults (the manifest's settings do not validate)", problem
    if settings.seed is None:
        try:
            settings = settings.model_copy(update={"seed": int(seed or 0)})
        except (TypeError, ValueError):
            settings = settings.model_copy(update={"seed": 0})
    return settings, where, None


def rating_settings(data: RunData, bootstrap: int | None = None) -> Any:
    """The source's rating settings (see :func:`settings_from_manifest`); ``bootstrap`` overrides the rounds."""
    settings, _, _ = settings_from_manifest(data.manifest)
    if bootstrap is not None:
        settings = settings.model_copy(update={"bootstrap": bootstrap})
    return settings


def describe_settings(settings: Any) -> str:
    """One line naming the settings a leaderboard was computed with."""
    text = f"{settings.method}, {settings.bootstrap} bootstrap rounds, resample {settings.resample}, " \
           f"ties {settings.ties}, seed {settings.seed}"
    if settings.style_control:
        text += ", style control"
    if settings.anchor is not None:
        text += f", anchor {settings.anchor.model}={settings.anchor.rating:g}"
    return text


def _scores_frame(data: RunData) -> pd.DataFrame | None:
    j = data.judgments
    if j.empty or "score" not in j.columns:
        return None
    s = j[j["score"].notna() & j["model_b"].isna()] if "model_b" in j.columns else j[j["score"].notna()]
    if s.empty:
        return None
    out = s[["question_id", "model_a", "turn", "category", "score"]].rename(columns={"model_a": "model"})
    out["question_id"] = out["question_id"].astype(str)
    out["score"] = out["score"].astype(float)
    return out.reset_index(drop=True)


def leaderboard_rows(data: RunData, category: str | None = None, bootstrap: int | None = None) -> tuple[pd.DataFrame, list[str], str]:
    """Leaderboard rows for the whole source or one category.

    ``leaderboard.json`` is used as written when it exists (whole source); otherwise the rows are computed from
    the battles with :func:`arena.rating.compute_leaderboard` and the source's settings
    (:func:`rating_settings`: the run's own, else ``arena rate``'s defaults), so they equal what the pipeline
    or ``arena rate`` writes for the same battles. ``bootstrap`` overrides the number of rounds.

    Returns:
        ``(rows, warnings, how)``: rows best first, the rater's warnings, and a line saying where they came from.
    """
    from arena.rating import compute_leaderboard

    if category is None and data.leaderboard:
        return pd.DataFrame(data.leaderboard), [], "leaderboard.json as written by the run"
    if category is not None and data.leaderboard_extras.get("categories", {}).get(category):
        return pd.DataFrame(data.leaderboard_extras["categories"][category]), [], "leaderboard.json (per category)"
    battles = data.battles
    scores = _scores_frame(data)
    if category is not None:
        battles = battles[battles["category"] == category]
        if scores is not None:
            scores = scores[scores["category"] == category]
            scores = None if scores.empty else scores
    if battles.empty and scores is None:
        return pd.DataFrame(), [], "no battles"
    settings = rating_settings(data, bootstrap)
    baseline = data.baseline
    if baseline is not None and not battles.empty and baseline not in set(battles["model_a"]) | set(battles["model_b"]):
        baseline = None
    result = compute_leaderboard(battles, settings, baseline=baseline, scores=scores)
    _, where, _ = settings_from_manifest(data.manifest)
    what = f"{len(battles):,} battles" + (f" and {len(scores):,} single-answer scores" if scores is not None else "")
    how = f"computed here from {what} ({describe_settings(settings)}; settings: {where})"
    return pd.DataFrame(result.rows), list(result.warnings), how


def leaderboard_view(rows: pd.DataFrame) -> pd.DataFrame:
    """Display columns: rank bounds, rating with interval, battles, W/L/T and win rate or score when present."""
    if rows.empty:
        return rows
    out = pd.DataFrame({"rank": rows["rank"], "model": rows["model"]})
    if "rank_high" in rows.columns:
        out["rank range"] = rows["rank"].astype(str) + "-" + rows["rank_high"].astype(str)
    out["rating"] = rows["rating"].round(1)
    out["95% CI"] = "[" + rows["ci_low"].round(0).astype(int).astype(str) + ", " + rows["ci_high"].round(0).astype(int).astype(str) + "]" \
        if rows["ci_low"].notna().all() else ""
    for c in ("battles", "wins", "losses", "ties"):
        if c in rows.columns:
            out[c] = rows[c]
    if "win_rate" in rows.columns and rows["win_rate"].notna().any():
        out["win rate vs baseline"] = (100 * rows["win_rate"]).round(1)
    elif "battles" in rows.columns:
        with np.errstate(divide="ignore", invalid="ignore"):
            out["win rate"] = (100 * (rows["wins"] + 0.5 * rows["ties"]) / rows["battles"].replace(0, np.nan)).round(1)
    if "score" in rows.columns and rows["score"].notna().any():
        out["mean score"] = rows["score"].round(2)
    return out.reset_index(drop=True)


def categories(data: RunData) -> list[str]:
    """Categories that have battles (or scores), sorted."""
    cats = set(pd.unique(data.battles["category"])) if not data.battles.empty else set()
    j = data.judgments
    if "score" in j.columns and "category" in j.columns:
        cats |= set(pd.unique(j.loc[j["score"].notna(), "category"].astype(str)))
    return sorted(str(c) for c in cats)


def run_facts(data: RunData) -> dict[str, str]:
    """Judge, prompt set, question set, mode, seeds, dates, cost, counts: the run's key facts as text."""
    m = data.manifest or {}
    cfg = m.get("config") or {}
    judge = cfg.get("judge") or {}
    facts: dict[str, str] = {"source": data.source, "kind": data.kind}
    if m:
        facts["name"] = str(m.get("name", ""))
        facts["judge"] = f"{judge.get('provider', '?')}:{judge.get('model') or '(default)'}"
        facts["mode"] = str(judge.get("mode", ""))
        if judge.get("baseline"):
            facts["baseline"] = str(judge["baseline"])
        facts["prompt set"] = str((m.get("prompts") or {}).get("set") or judge.get("prompts", ""))
        q = cfg.get("questions") or {}
        facts["questions"] = str(q.get("set") or q.get("file") or "") + (f" (limit {q['limit']})" if q.get("limit") else "")
        facts["seeds"] = ", ".join(f"{k} {v}" for k, v in (m.get("seeds") or {"config": m.get("seed")}).items())
        facts["started"] = str(m.get("started", ""))
        facts["finished"] = str(m.get("finished", ""))
        cost = m.get("cost_usd")
        facts["judge cost"] = "n/a" if cost is None else f"${cost:,.4f}"
        if m.get("dry_run"):
            facts["dry run"] = "yes (seeded fake judge)"
        versions = m.get("versions") or {}
        if versions.get("arena"):
            facts["arena version"] = str(versions["arena"])
    facts["battles"] = f"{len(data.battles):,}"
    if not data.judgments.empty:
        facts["judge calls"] = f"{len(data.judgments):,}"
    facts["models"] = ", ".join(data.models)
    return facts


def ratings_chart_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """``model, rating, ci_low, ci_high`` best first, for the ratings-with-intervals chart."""
    if rows.empty:
        return pd.DataFrame(columns=["model", "rating", "ci_low", "ci_high"])
    return rows[["model", "rating", "ci_low", "ci_high"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------- matchups


def matchup_frames(data: RunData, ratings: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Battle counts, observed and predicted win rates as long frames ``model, opponent, value``.

    Counts and observed win rates (a tie is half a win) are the rater's own matrices
    (:func:`arena.rating.compute_leaderboard` extras, without a bootstrap), so they count battles exactly as
    the leaderboard's ``battles`` column does; predicted ones are Bradley-Terry probabilities from the
    leaderboard ratings (``ratings``: rows with ``model, rating``; default: :func:`leaderboard_rows`).
    """
    from arena.rating import compute_leaderboard, predicted_win_rate

    if data.battles.empty:
        return {}
    settings = rating_settings(data, bootstrap=0)
    extras = compute_leaderboard(data.battles, settings.model_copy(update={"style_control": False})).extras
    models = [str(m) for m in extras["models"]]
    if ratings is None:
        ratings, _, _ = leaderboard_rows(data)
    by_model = dict(zip(ratings["model"], ratings["rating"], strict=False)) if not ratings.empty else {}
    r = np.array([by_model.get(m, np.nan) for m in models], dtype=float)
    scale = settings.elo.scale if settings.method == "elo" else settings.scale
    mats = {
        "battles": extras["battle_counts"],
        "observed win rate": extras["observed_win_rate"],
        "predicted win rate": predicted_win_rate(r, scale=scale, base=settings.elo.base),
    }
    order = [m for m in ratings["model"] if m in models] if not ratings.empty else list(models)
    order += [m for m in models if m not in order]
    out = {}
    for name, mat in mats.items():
        mat = np.array(mat, dtype=float)
        if name != "battles":
            np.fill_diagonal(mat, np.nan)
        wide = pd.DataFrame(mat, index=models, columns=models).loc[order, order]
        long = wide.rename_axis(index="model", columns="opponent").stack(future_stack=True).rename("value").reset_index()
        out[name] = long
    return out


# ----------------------------------------------------------------------------------------- judge report


def judge_summary(data: RunData) -> tuple[dict[str, Any], str]:
    """The judge report: ``judge_report.json``, else recomputed from judgments, else estimated from battles.

    Returns:
        ``(report, how)`` in the keys of :func:`arena.judging.bias.judge_report`.
    """
    if data.judge_report:
        return data.judge_report, "judge_report.json as written by the run"
    if not data.judgments.empty:
        from arena.judging.bias import judge_report
        from arena.records import Answer, Judgment

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")

        try:
            judgments = [Judgment.model_validate(r) for r in records(data.judgments)]
            answers = {r["key"]: Answer.model_validate({k: v for k, v in r.items() if k != "text"})
                       for r in records(data.answers)}
        except ValueError as exc:  # pydantic's ValidationError: judgments of another version
            return battles_bias(data.table), f"estimated from the battles (judgments.jsonl unreadable: {exc})"
        return judge_report(judgments, answers), "recomputed here from judgments.jsonl (judge_report.json is missing)"
    return battles_bias(data.table), "estimated from the battles (no judgments in this source)"


def battles_bias(table: pd.DataFrame) -> dict[str, Any]:
    """Position bias, order flips, ties and length bias from a battle table alone."""
    t = table[table["error"].isna()] if not table.empty else table
    if t.empty:
        return {"judgments": 0, "parse_failures": 0, "calls": 0}
    decisive = t[t["winner"].isin(["model_a", "model_b"])]
    pairs = t[t["game_key"].astype(bool)].groupby("game_key")["swapped"].nunique()
    both = set(pairs.index[pairs > 1])
    flips = t.loc[t["flip"], "game_key"].nunique()
    longer = decisive.dropna(subset=["len_a", "len_b"])
    longer = longer[longer["len_a"] != longer["len_b"]]
    longer_wins = ((longer["winner"] == "model_a") == (longer["len_a"] > longer["len_b"])).sum()

    def share(a: float, b: float) -> float | None:
        return round(float(a) / float(b), 4) if b else None

    return {
        "judgments": len(table),
        "parse_failures": int(table["error"].notna().sum()),
        "calls": len(table),
        "mode": "pairwise",
        "verdicts": {str(k): int(v) for k, v in t["verdict"].value_counts().items()},
        "tie_rate": share(len(t) - len(decisive), len(t)),
        "first_position_win_rate": share((decisive["winner"] == "model_a").sum(), len(decisive)),
        "pairs_both_orders": len(both),
        "order_flips": int(flips),
        "flip_rate": share(flips, len(both)),
        "consistent_rate": share(len(both) - flips, len(both)),
        "decisive_with_length_difference": len(longer),
        "longer_answer_win_rate": share(longer_wins, len(longer)),
    }


def position_bias_by_model(table: pd.DataFrame) -> pd.DataFrame:
    """Per model: decisive battles in first and second position and the share won in each."""
    t = table[table["winner"].isin(["model_a", "model_b"])]
    if t.empty:
        return pd.DataFrame(columns=["model", "position", "battles", "win_rate"])
    first = t.groupby("model_a")["winner"].agg(battles="size", win_rate=lambda w: (w == "model_a").mean())
    second = t.groupby("model_b")["winner"].agg(battles="size", win_rate=lambda w: (w == "model_b").mean())
    first = first.rename_axis("model").reset_index().assign(position="shown first")
    second = second.rename_axis("model").reset_index().assign(position="shown second")
    return pd.concat([first, second], ignore_index=True)[["model", "position", "battles", "win_rate"]]


# ----------------------------------------------------------------------------------------------- single


def single_scores(data: RunData) -> pd.DataFrame:
    """Mean single-answer score per model and category: long frame ``model, category, score, n``."""
    s = _scores_frame(data)
    if s is None:
        return pd.DataFrame(columns=["model", "category", "score", "n"])
    g = s.groupby(["model", "category"])["score"].agg(score="mean", n="size").reset_index()
    return g


def single_scores_table(data: RunData) -> pd.DataFrame:
    """Models x categories of mean scores, with an ``overall`` column, best overall first."""
    s = _scores_frame(data)
    if s is None:
        return pd.DataFrame()
    wide = s.pivot_table(index="model", columns="category", values="score", aggfunc="mean")
    wide["overall"] = s.groupby("model")["score"].mean()
    return wide.sort_values("overall", ascending=False).round(2)


def single_reasons(data: RunData, model: str, question_id: str | None = None) -> pd.DataFrame:
    """The judge's replies for one model's answers: ``question_id, turn, category, score, output, error, answer``."""
    j = data.judgments
    cols = ["question_id", "turn", "category", "score", "output", "error", "answer_a"]
    if j.empty or "score" not in j.columns:
        return pd.DataFrame(columns=cols)
    s = j[(j["model_a"] == model) & (j["model_b"].isna() if "model_b" in j.columns else True)]
    if question_id is not None:
        s = s[s["question_id"].astype(str) == str(question_id)]
    s = s.reindex(columns=cols)
    return s.sort_values(["question_id", "turn"], kind="stable").reset_index(drop=True)


def answer_turns(data: RunData, key: str) -> list[str]:
    """The turns of one answer by key (``[]`` when unknown)."""
    a = _answer(data, key)
    return a["turns"] if a else []


def winner_labels() -> tuple[str, ...]:
    """FastChat winner labels plus ``error`` (a judgment with no parsable verdict)."""
    return (*WINNERS, "error")
