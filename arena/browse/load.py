"""Loading a source for the browser: a run dir, a bare battles file or an evalscope ``battle.jsonl``; never raises for bad data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arena.browse.data import EVALSCOPE_WIN, TABLE_COLUMNS, RunData, SourceKind, _empty, _validated
from arena.browse.leaderboard import settings_from_manifest
from arena.browse.table import _battles_table, _provisional_battles, _run_table
from arena.errors import UserError
from arena.records import Manifest, Question

log = logging.getLogger(__name__)


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


def _questions_frame(questions: list[Question]) -> pd.DataFrame:
    cols = ["question_id", "category", "turns", "reference"]
    if not questions:
        return _empty(cols).set_index("question_id", drop=False)
    df = pd.DataFrame([(q.question_id, q.category, q.turns, q.reference) for q in questions], columns=cols)
    df = df.drop_duplicates("question_id", keep="last")
    return df.set_index("question_id", drop=False)


def _manifest_questions(manifest: Manifest | None, notes: list[str]) -> list[Question]:
    """The question set the manifest's config names (a run dir without ``questions.jsonl``)."""
    qcfg = ((manifest.config if manifest is not None else None) or {}).get("questions")
    if not qcfg:
        return []
    try:
        from arena.config import QuestionsConfig
        from arena.questions import load_all_questions

        return load_all_questions(QuestionsConfig(**qcfg))
    except Exception as exc:  # a moved question file must not stop the browser: show battles without text
        notes.append(f"questions: cannot load the question set named in manifest.json ({exc}); question texts are not shown")
        return []


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


def _load_run_dir(root: Path) -> RunData:
    from arena.rundir.load import bulk_read

    with bulk_read():
        return _run_data(root)


def _run_data(root: Path) -> RunData:
    from arena.rundir.load import load_run

    run = load_run(root)
    notes = run.notes  # one list: notes added later (judgments validated on first use) show too
    data = _blank(str(root), "run", notes)
    data.run, data.manifest, data.judge_report = run, run.manifest, run.report
    _, _, problem = settings_from_manifest(data.manifest)
    if problem is not None:
        notes.append(problem)
    if run.leaderboard:
        data.leaderboard, data.leaderboard_extras = run.leaderboard, run.leaderboard_extras
        data.leaderboard_notes = run.leaderboard_notes
    if run.battles is not None:
        data.battles = run.battles
    frame = run.judgment_frame()
    if frame is not None:
        data.judgments = frame.drop_duplicates("key", keep="last").reset_index(drop=True)
    data.answers = _answers_frame([{"key": a.key, "question_id": a.question_id, "model": a.model, "turns": a.turns,
                                    "error": a.error} for a in run.answers.values()])
    questions = list(run.questions.values()) if (root / "questions.jsonl").exists() else \
        _manifest_questions(run.manifest, notes)
    data.questions = _questions_frame(questions)
    data.table = _run_table(data)
    if data.battles.empty and not data.table.empty:
        data.battles = _provisional_battles(data)
        if not data.battles.empty:
            notes.append(f"battles.jsonl is not written yet (the run may still be judging): showing the "
                         f"{len(data.battles):,} battles judged so far; ratings are provisional")
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
    from arena.rating.frame import question_ids

    df = raw.copy()
    win = df["win"].astype(str).str.strip()
    mapped = win.str.lower().map(EVALSCOPE_WIN)
    if mapped.isna().any():
        pos = int(np.flatnonzero(mapped.isna().to_numpy())[0])
        raise DataError(f"{path}: row {pos + 1}: unknown 'win' value {win.iloc[pos]!r}; expected model_a, model_b or tie")
    df["winner"] = mapped
    df["question_id"] = question_ids(df["question_id"]) if "question_id" in df.columns else np.arange(len(df)).astype(str)
    absent = [c for c in ("model_a", "model_b") if c not in df.columns]
    if absent:
        raise DataError(f"{path}: missing column(s) {', '.join(absent)}; evalscope battles name model_a and model_b")
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
    data.questions = _questions_frame([Question.model_validate(r) for r in
                                       qdf.drop_duplicates("question_id").to_dict(orient="records")])
    data.table = _battles_table(data.battles)
    return data
