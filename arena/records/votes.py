"""A blind human vote cast in the browser: one line of ``human_votes.jsonl``.

Each line carries FastChat's battle columns (``question_id, model_a, model_b, winner, judge``), so
``arena rate RUN_DIR/human_votes.jsonl`` rates the votes like any battles file (skips excluded), and the
browser's fields (``label`` as the person saw it, ``shown_left``, ``annotator``) on top.

The file keeps every vote cast; :func:`latest_votes` says which of them count: one annotator's vote on a game
counts once (their latest), whoever reads the votes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from arena.keys import content_key
from arena.records.core import Battle

VoteLabel = Literal["A", "B", "tie", "bothbad", "skip"]
"""What the person clicked: the left answer (A), the right one (B), a tie, both bad, or skip."""
VOTE_LABELS: tuple[str, ...] = ("A", "B", "tie", "bothbad", "skip")
VoteWinner = Literal["model_a", "model_b", "tie", "tie (bothbad)"]


def now_precise() -> str:
    """UTC timestamp in ISO 8601 with microseconds: two votes of one person on one game stay distinct."""
    return datetime.now(timezone.utc).isoformat()


def vote_winner(label: str, model_a: str, shown_left: str) -> VoteWinner | None:
    """The FastChat winner of a vote: ``label`` is in screen positions, the winner in ``model_a/model_b`` terms."""
    if label == "skip":
        return None
    if label == "tie":
        return "tie"
    if label == "bothbad":
        return "tie (bothbad)"
    left_is_a = shown_left == model_a
    if label == "A":
        return "model_a" if left_is_a else "model_b"
    return "model_b" if left_is_a else "model_a"


class HumanVote(BaseModel):
    """One blind pairwise vote on a judged game.

    ``model_a``/``model_b`` are the game's canonical pair (as in its judgments); ``shown_left`` is the model
    whose answer was on the left ("A"). ``winner`` must equal :func:`vote_winner` of the label, so a line
    edited by hand into an inconsistent state is refused on read.
    """

    model_config = ConfigDict(extra="ignore", defer_build=True)

    vote_id: str = ""
    """Content key of ``annotator``, ``game_key`` and ``created`` (filled in when empty)."""
    game_key: str = Field(min_length=1)
    question_id: str
    turn: int = 1
    category: str = "general"
    model_a: str
    model_b: str
    shown_left: str
    label: VoteLabel
    winner: VoteWinner | None = None
    annotator: str = Field(min_length=1)
    created: str = Field(default_factory=now_precise)
    judge: str = "human"

    @model_validator(mode="after")
    def _consistent(self) -> HumanVote:
        if self.model_a == self.model_b:
            raise ValueError(f"model_a and model_b are both {self.model_a!r}; a vote compares two models")
        if self.shown_left not in (self.model_a, self.model_b):
            raise ValueError(f"shown_left {self.shown_left!r} is neither model_a nor model_b")
        expected = vote_winner(self.label, self.model_a, self.shown_left)
        if self.winner is None and expected is not None and "winner" not in self.model_fields_set:
            self.winner = expected
        if self.winner != expected:
            raise ValueError(f"winner {self.winner!r} does not match label {self.label!r} with "
                             f"{self.shown_left!r} shown left (expected {expected!r})")
        if not self.vote_id:
            self.vote_id = content_key([self.annotator, self.game_key, self.created])
        return self


UNKNOWN_ANNOTATOR = "imported"
"""The annotator of an imported vote whose table names none (:mod:`arena.interop.votes`): unknown people, so
their votes on a game are never taken for one person's repeats."""


def _counts_once(v: HumanVote) -> bool:
    """A vote that a later vote of the same annotator on the same game replaces: a decision (not a skip) by a
    named annotator."""
    return v.winner is not None and v.annotator != UNKNOWN_ANNOTATOR


def latest_votes(votes: Sequence[HumanVote]) -> list[HumanVote]:
    """The votes that count: each annotator's latest decision on a game, in file order.

    One annotator's vote on a game counts once: a decision (A, B, tie, both bad) is dropped when the same
    annotator casts a later decision on the same game (``game_key``), whether from a double submit, a reload
    or a change of mind. A later skip replaces nothing. Different annotators on one game count separately;
    skips are kept (they count for nothing, and say who saw a game); votes of :data:`UNKNOWN_ANNOTATOR` are
    all kept. "Later" is the order of ``votes``: ``human_votes.jsonl`` is appended as votes are cast.

    Args:
        votes: votes as read, oldest first.

    Returns:
        The votes kept, in their order.
    """
    last: dict[tuple[str, str], int] = {}
    for i, v in enumerate(votes):
        if _counts_once(v):
            last[(v.annotator, v.game_key)] = i
    return [v for i, v in enumerate(votes) if not _counts_once(v) or last[(v.annotator, v.game_key)] == i]


def repeat_notes(votes: Sequence[HumanVote], where: str = "human_votes.jsonl") -> list[str]:
    """One line saying how many of ``votes`` :func:`latest_votes` drops (repeated decisions replaced by the
    same annotator's later one on the same game); ``[]`` when none is."""
    replaced = len(votes) - len(latest_votes(votes))
    if not replaced:
        return []
    return [f"{where}: {replaced} repeated vote{'' if replaced == 1 else 's'} replaced by the same annotator's "
            "later vote on the same game (each annotator's vote on a game counts once: the latest)"]


_FLIP = {"model_a": "model_b", "model_b": "model_a"}


def votes_to_battles(votes: Sequence[HumanVote]) -> list[Battle]:
    """Battle rows of the votes that count (:func:`latest_votes`: an annotator's repeated vote on a game gives one
    battle, of their latest decision), in the positions the person saw (``model_a`` was shown left).

    Skipped votes are dropped; each battle has ``judge`` (``"human"``), weight 1, the vote's id as its
    key and the game's key, and ``swapped`` when the pair was shown in the reverse of its canonical order.
    """
    out = []
    for v in latest_votes(votes):
        if v.winner is None:
            continue
        left_is_a = v.shown_left == v.model_a
        model_a, model_b = (v.model_a, v.model_b) if left_is_a else (v.model_b, v.model_a)
        winner = v.winner if left_is_a else _FLIP.get(v.winner, v.winner)
        out.append(Battle(question_id=v.question_id, model_a=model_a, model_b=model_b, winner=winner,
                          judge=v.judge, turn=v.turn, category=v.category, weight=1.0, key=v.vote_id,
                          game_key=v.game_key, swapped=not left_is_a))
    return out
