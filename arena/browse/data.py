"""The browser's loaded source (:class:`RunData`) and its constants."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from arena.records import JudgeReport, LeaderboardRow, Manifest
from arena.rundir.load import RUN_FILES, Run

log = logging.getLogger(__name__)

SourceKind = Literal["run", "battles", "evalscope", "missing"]

BATTLE_SUFFIXES: tuple[str, ...] = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet", ".pq")

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
    """One loaded source: frames for the pages, the run's typed records, the battle table and notes.

    Frames are empty (never None) when their file is missing, so pages can test ``.empty``. A run dir
    is read by :func:`arena.rundir.load_run` (kept as :attr:`run`); its manifest, judge report and
    leaderboard rows are that loader's records.
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
    leaderboard: list[LeaderboardRow] | None = None
    """``leaderboard.json`` rows as written by the run (None: no usable file)."""
    leaderboard_extras: dict[str, Any] = field(default_factory=dict)
    leaderboard_notes: list[str] = field(default_factory=list)
    """The warnings the run wrote under its leaderboard (``leaderboard.md``'s notes, as ``arena run`` printed
    them), shown with :attr:`leaderboard`'s rows."""
    judge_report: JudgeReport | None = None
    manifest: Manifest | None = None
    run: Run | None = None
    """The run dir as :func:`arena.rundir.load_run` read it (None for a battles file)."""
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
        if self.manifest is not None and self.manifest.mode:  # a native run's config, or an imported run's
            return str(self.manifest.mode)
        if not self.judgments.empty and "mode" in self.judgments.columns:
            return str(self.judgments["mode"].iloc[0])
        return "pairwise"

    @property
    def baseline(self) -> str | None:
        """The baseline model of a pairwise-baseline run."""
        if self.manifest is None or self.mode != "pairwise-baseline":
            return None
        return self.manifest.baseline


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


def _validated(frame: pd.DataFrame, where: str = "battles") -> pd.DataFrame:
    from arena.rating import validate_frame

    return validate_frame(frame, where)
