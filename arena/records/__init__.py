"""Typed records at every file boundary of a run.

:mod:`arena.records.core`: what flows between stages (questions, answers, judgments, battles);
:mod:`arena.records.outputs`: what a run writes at the end (leaderboard rows, judge report, manifest).
"""

from arena.records.core import (
    VERDICTS,
    WINNERS,
    Answer,
    Battle,
    Judgment,
    Mode,
    Question,
    Verdict,
    Winner,
    now_iso,
)
from arena.records.outputs import ImportedSource, JudgeReport, LeaderboardRow, Manifest, leaderboard_rows
from arena.records.votes import HumanVote

__all__ = [
    "VERDICTS", "WINNERS", "Answer", "Battle", "HumanVote", "ImportedSource", "JudgeReport", "Judgment", "LeaderboardRow",
    "Manifest", "Mode", "Question", "Verdict", "Winner", "leaderboard_rows", "now_iso",
]
