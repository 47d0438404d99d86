"""Human votes collected elsewhere (CSV or JSONL, any column names through ``--map``/``--winner-labels``).

A table of arena's own vote lines (``human_votes.jsonl`` of another run) is read as it is. Any other table
needs ``model_a, model_b, winner`` (FastChat labels after the mapping; an empty winner or ``skip`` is a
skipped vote) and may carry ``question_id, turn, category, annotator, game_key, shown_left, created``.
Without ``shown_left`` the model in ``model_a`` is taken as the one shown left (the order the file
records); without ``annotator`` every vote is ``imported`` (unknown people: never taken for one person's
repeats). Without ``question_id`` each vote is its own game. The imported run holds ``human_votes.jsonl`` (every
vote, skips and repeats too) and the battles and leaderboard of the votes that count: each annotator's latest
decision on a game (:func:`arena.records.votes.latest_votes`, as the browser counts them), with a note saying how
many repeats were replaced.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from arena.errors import DataError
from arena.interop.common import ImportedRun, exists_or_fail
from arena.keys import content_key
from arena.rating.frame import MAX_TURN
from arena.records import WINNERS, HumanVote
from arena.records.votes import UNKNOWN_ANNOTATOR

FORMAT = "votes"
_REQUIRED = ("model_a", "model_b", "winner")
_LABEL_OF_WINNER = {"model_a": "A", "model_b": "B", "tie": "tie", "tie (bothbad)": "bothbad"}


def _present(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return not (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()


def _turn(value: Any, where: str) -> int:
    try:
        turn = float(value)
    except (TypeError, ValueError):
        turn = math.nan
    if not (math.isfinite(turn) and 0 <= turn <= MAX_TURN and turn.is_integer()):
        raise DataError(f"{where}: turn {value!r} is not a whole number from 0 to {MAX_TURN:,}")
    return int(turn)


def vote_from_row(row: Mapping[str, Any], where: str) -> HumanVote:
    """A vote from one mapped table row (FastChat winner labels in ``model_a``/``model_b`` terms)."""
    for col in ("model_a", "model_b"):
        if not _present(row.get(col)):
            raise DataError(f"{where}: empty {col}")
    for col in ("model_a", "model_b", "winner", "question_id", "shown_left"):
        if isinstance(row.get(col), (list, tuple, dict, set)):
            raise DataError(f"{where}: {col} is a {type(row[col]).__name__} ({row[col]!r:.60}), not a name; "
                            "give one text value")
    a, b = _text(row["model_a"]), _text(row["model_b"])
    winner = _text(row["winner"]) if _present(row.get("winner")) else "skip"
    if winner not in (*WINNERS, "skip"):
        raise DataError(f"{where}: unknown winner {winner!r}; allowed: {', '.join(WINNERS)}, skip or empty "
                        "(map other labels with --winner-labels THEIRS=OURS,...)")
    left = _text(row["shown_left"]) if _present(row.get("shown_left")) else a
    if left not in (a, b):
        raise DataError(f"{where}: shown_left {left!r} is neither model_a {a!r} nor model_b {b!r}")
    label = "skip" if winner == "skip" else _LABEL_OF_WINNER[winner]
    if left != a and label in ("A", "B"):
        label = "B" if label == "A" else "A"  # labels are screen positions
    turn = _turn(row["turn"], where) if _present(row.get("turn")) else 1
    qid = _text(row["question_id"]) if _present(row.get("question_id")) else content_key([a, b, where])[:12]
    fields: dict[str, Any] = {
        "question_id": qid, "turn": turn, "model_a": a, "model_b": b, "shown_left": left, "label": label,
        "game_key": _text(row["game_key"]) if _present(row.get("game_key")) else content_key([qid, turn, sorted([a, b])]),
        "category": _text(row["category"]) if _present(row.get("category")) else "general",
        "annotator": _text(row["annotator"]) if _present(row.get("annotator")) else UNKNOWN_ANNOTATOR,
    }
    if _present(row.get("created")):
        fields["created"] = _text(row["created"])
    try:
        return HumanVote.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DataError(f"{where}: {err['msg'].removeprefix('Value error, ')}") from None


def import_votes(src: Path, *, columns: Mapping[str, str] | None = None,
                 winner_labels: Mapping[str, str] | None = None) -> ImportedRun:
    """Read a vote table (CSV, TSV, JSONL, JSON array or parquet) into an imported run.

    Args:
        src: the file.
        columns: OUR column -> THEIR column (``--map``), see :func:`arena.tables.apply_mapping`.
        winner_labels: THEIR winner label -> OURS (``--winner-labels``).

    Raises:
        DataError: a missing column (naming ``--map``), an unknown winner, or a row that is not a vote.
    """
    from arena.records.votes import repeat_notes, votes_to_battles
    from arena.tables import apply_mapping, is_vote_table, read_table, read_votes_frame

    src = exists_or_fail(src, "votes")
    if src.is_dir():
        raise DataError(f"{src}: is a folder; give the vote file (CSV or JSONL)")
    frame = apply_mapping(read_table(src, columns), columns or {}, winner_labels or {}, str(src))
    run = ImportedRun(fmt=FORMAT, source=src, mode="pairwise-all", files=[str(src)])
    if is_vote_table(frame):
        run.votes = read_votes_frame(frame, str(src))
    else:
        missing = [c for c in _REQUIRED if c not in frame.columns]
        if missing:
            have = ", ".join(str(c) for c in frame.columns) or "(none)"
            raise DataError(f"{src}: missing column(s) {', '.join(missing)} (the file has: {have}); "
                            "name them with --map model_a=COL,model_b=COL,winner=COL")
        run.votes = [vote_from_row(row, f"{src}: row {i + 1}") for i, row in enumerate(frame.to_dict(orient="records"))]
    run.battles = votes_to_battles(run.votes)
    skipped = sum(1 for v in run.votes if v.winner is None)
    run.notes.append(f"{len(run.votes)} votes, {skipped} skipped (kept in human_votes.jsonl, not rated)")
    run.notes += repeat_notes(run.votes, str(src))
    if columns or winner_labels:
        run.notes.append("mapped " + ", ".join([f"{k}<-{v}" for k, v in (columns or {}).items()]
                                               + [f"winner {k}->{v}" for k, v in (winner_labels or {}).items()]))
    return run
