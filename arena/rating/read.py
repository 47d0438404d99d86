"""Battles from a file, ready for every rater: :func:`arena.tables.read_table`, the column and label mapping,
then :func:`~arena.rating.frame.validate_frame`. A file of human votes (``human_votes.jsonl``:
:class:`~arena.records.HumanVote` lines) reads as the battles of its votes, skips dropped with a counted note.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from arena.rating.frame import NOTES_ATTR, battles_frame, validate_frame
from arena.records.votes import repeat_notes, votes_to_battles
from arena.tables import apply_mapping, is_vote_table, read_table, read_votes_frame


def read_battles(
    path: Path,
    *,
    columns: Mapping[str, str] | None = None,
    winner_labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read a battles table: :func:`read_table`, then :func:`apply_mapping`, then validation.

    The result has FastChat columns (``question_id, model_a, model_b, winner, judge, turn, category,
    weight, count``) as :func:`arena.rating.validate_frame` returns them: ``count`` is a number of
    identical battles, ``weight`` a frequency weight; self-pairs are dropped with a note in
    ``frame.attrs["notes"]``.

    Args:
        path: JSONL, JSON array, CSV, TSV or parquet file.
        columns: OUR column -> THEIR column, see :func:`apply_mapping`.
        winner_labels: THEIR winner label -> OURS.
    """
    where = str(path)
    frame = apply_mapping(read_table(Path(path), columns), columns or {}, winner_labels or {}, where)
    if is_vote_table(frame):
        return votes_battle_frame(frame, where)
    return validate_frame(frame, where=where)


def votes_battle_frame(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The validated battles frame of a vote table: one battle per vote that counts (each annotator's latest
    decision on a game, :func:`arena.records.votes.latest_votes`, as the browser counts them; skips are no
    battle, see :func:`arena.records.votes.votes_to_battles`), with notes counting the repeats and the skips."""
    votes = read_votes_frame(frame, where)
    battles = battles_frame(votes_to_battles(votes))
    skipped = sum(1 for v in votes if v.winner is None)
    notes = repeat_notes(votes, where)
    if skipped:
        notes.append(f"{where}: {skipped} skipped votes dropped ({len(battles)} rated)")
    battles.attrs[NOTES_ATTR] = [*battles.attrs.get(NOTES_ATTR, []), *notes]
    return battles
