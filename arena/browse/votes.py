"""Blind human votes in the browser: the games to vote on, their order, validation, writing and access.

The Vote page renders; everything it decides is here, as small functions:

- :func:`vote_games`: one row per judged pairwise game (canonical pair, answer keys, order flip, the judge's
  share for ``model_a``);
- :func:`order_games`: most informative games first (judge flipped, close pair, few votes so far), seeded;
- :func:`left_model`: which answer is shown on the left, seeded per game and annotator;
- :func:`make_vote` / :func:`cast_vote`: a vote is validated (known game, known label, annotator name) before
  one line is appended to ``RUN_DIR/human_votes.jsonl`` through :class:`arena.store.JsonlStore` (flocked,
  torn-line safe); no other path can be written from the page;
- :func:`vote_secret` / :func:`access_ok`: the token or password that casting a vote needs when the browser is
  served beyond loopback (``arena viz --host``).
"""

from __future__ import annotations

import hmac
import os
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from arena.browse.data import RunData
from arena.errors import UserError
from arena.keys import seed_from
from arena.records import HumanVote
from arena.records.votes import UNKNOWN_ANNOTATOR, VOTE_LABELS, latest_votes
from arena.store import JsonlStore, parse_record, read_jsonl

VOTES_FILE = "human_votes.jsonl"
TOKEN_ENV = "ARENA_VIZ_TOKEN"
"""Set by ``arena viz`` when it serves beyond loopback: the token printed at start."""
PASSWORD_ENV = "ARENA_VIZ_PASSWORD"
"""A configured password (``arena viz --password`` or the environment); replaces the printed token."""
MAX_ANNOTATOR = 64
GAME_COLUMNS = ["game_key", "question_id", "turn", "category", "model_a", "model_b", "answer_a", "answer_b",
                "flip", "judge_share_a"]


def votes_path(data: RunData) -> Path | None:
    """``RUN_DIR/human_votes.jsonl`` of a run dir source; None for a battles file (nothing to vote on)."""
    if data.kind != "run":
        return None
    return Path(data.source).resolve() / VOTES_FILE


def vote_games(data: RunData) -> pd.DataFrame:
    """One row per judged pairwise game with both answers on disk: :data:`GAME_COLUMNS`.

    ``model_a``/``model_b`` are the game's canonical pair (the unswapped judgment's order); ``judge_share_a``
    is the share of the judge's valid verdicts won by ``model_a`` (a tie counts half; NaN with none).
    """
    t = data.table
    if t.empty or not t["game_key"].astype(bool).any() or data.answers.empty:
        return pd.DataFrame(columns=GAME_COLUMNS)
    t = t[t["game_key"].astype(bool)].copy()
    swap = t["swapped"].to_numpy(dtype=bool)
    for a, b in (("model_a", "model_b"), ("answer_a", "answer_b")):
        ca = np.where(swap, t[b], t[a])
        cb = np.where(swap, t[a], t[b])
        t[a], t[b] = ca, cb
    points = t["winner_model"].eq(t["model_a"]).astype(float) + 0.5 * t["winner"].isin(["tie", "tie (bothbad)"])
    t["point_a"] = points.where(t["error"].isna())
    ok_answers = set(data.answers.loc[data.answers["error"].isna(), "key"].astype(str)) \
        if "error" in data.answers.columns else set(data.answers["key"].astype(str))
    g = t.groupby("game_key", sort=True).agg(
        question_id=("question_id", "first"), turn=("turn", "first"), category=("category", "first"),
        model_a=("model_a", "first"), model_b=("model_b", "first"), answer_a=("answer_a", "first"),
        answer_b=("answer_b", "first"), flip=("flip", "any"), judge_share_a=("point_a", "mean"),
    ).reset_index()
    g = g[g["answer_a"].isin(ok_answers) & g["answer_b"].isin(ok_answers) & (g["model_a"] != g["model_b"])]
    g["turn"] = g["turn"].astype(int)
    return g[GAME_COLUMNS].reset_index(drop=True)


def order_games(games: pd.DataFrame, votes: Sequence[HumanVote], seed: int, annotator: str = "",
                predicted_a: Mapping[str, float] | None = None) -> list[str]:
    """Game keys, most informative first, leaving out games ``annotator`` already voted on (or skipped).

    The score of a game is ``(flip + closeness) / (1 + votes)``: ``flip`` is 1 when the judge's two orders
    disagreed, ``closeness`` is ``1 - |2p - 1|`` for the probability ``p`` that ``model_a`` wins
    (``predicted_a[game_key]`` from the ratings when given, else the judge's share), and ``votes`` counts the
    non-skip votes on the game that count (:func:`~arena.records.votes.latest_votes`: one per annotator). Equal scores are ordered by a hash of ``seed`` and the
    game key, so the order is random across games but the same on every reload.
    """
    if games.empty:
        return []
    done = {v.game_key for v in votes if v.annotator == annotator}
    counts: dict[str, int] = {}
    for v in latest_votes(votes):
        if v.label != "skip":
            counts[v.game_key] = counts.get(v.game_key, 0) + 1
    keys = games["game_key"].astype(str)
    p = games["judge_share_a"].astype(float)
    if predicted_a:
        p = keys.map(predicted_a).astype(float).fillna(p)
    closeness = (1.0 - (2.0 * p - 1.0).abs()).fillna(1.0)  # no verdict yet: as uncertain as it gets
    score = (games["flip"].astype(float) + closeness) / (1.0 + keys.map(counts).fillna(0.0))
    tiebreak = keys.map(lambda k: seed_from(seed, "vote-order", k))
    frame = pd.DataFrame({"key": keys, "score": score.round(12), "tie": tiebreak})
    frame = frame[~frame["key"].isin(done)]
    return list(frame.sort_values(["score", "tie"], ascending=[False, True], kind="stable")["key"])


def predicted_share(games: pd.DataFrame, ratings: pd.DataFrame, scale: float = 400.0, base: float = 10.0) -> dict[str, float]:
    """Bradley-Terry probability that ``model_a`` wins each game, from leaderboard ``ratings`` (model, rating)."""
    if games.empty or ratings.empty:
        return {}
    r = dict(zip(ratings["model"], ratings["rating"], strict=False))
    ra = games["model_a"].map(r).astype(float)
    rb = games["model_b"].map(r).astype(float)
    p = 1.0 / (1.0 + np.power(base, (rb - ra) / scale))
    return {k: float(v) for k, v in zip(games["game_key"], p, strict=True) if v == v}


def left_model(game: Mapping[str, object], annotator: str, seed: int) -> str:
    """The model whose answer is shown on the left: a seeded coin per game and annotator."""
    flip = seed_from(seed, "vote-side", str(game["game_key"]), annotator) % 2 == 1
    return str(game["model_b"] if flip else game["model_a"])


def clean_annotator(name: str) -> str:
    """An annotator name as stored: trimmed, 1 to 64 printable characters; else a :class:`UserError`."""
    name = (name or "").strip()
    if not name:
        raise UserError("annotator: enter your name (or a pseudonym) before voting")
    if len(name) > MAX_ANNOTATOR or any(unicodedata.category(c).startswith("C") for c in name):
        raise UserError(f"annotator: use at most {MAX_ANNOTATOR} printable characters")
    if name == UNKNOWN_ANNOTATOR:
        raise UserError(f"annotator: {name!r} marks imported votes of unknown people; choose another name")
    return name


def make_vote(games: pd.DataFrame, game_key: str, label: str, annotator: str, shown_left: str) -> HumanVote:
    """A validated vote: the game must be one of ``games``, the label one of A/B/tie/bothbad/skip, and
    ``shown_left`` one of the game's two models; anything else is a :class:`UserError` and nothing is written."""
    if label not in VOTE_LABELS:
        raise UserError(f"vote label {label!r} unknown; use one of {', '.join(VOTE_LABELS)}")
    hit = games[games["game_key"] == game_key]
    if hit.empty:
        raise UserError(f"game {game_key!r} is not a judged game of this run; reload the page")
    g = hit.iloc[0]
    if shown_left not in (g["model_a"], g["model_b"]):
        raise UserError(f"shown_left {shown_left!r} is not a model of game {game_key!r}")
    return HumanVote(game_key=str(game_key), question_id=str(g["question_id"]), turn=int(g["turn"]),
                     category=str(g["category"]), model_a=str(g["model_a"]), model_b=str(g["model_b"]),
                     shown_left=shown_left, label=label,  # checked above
                     annotator=clean_annotator(annotator))


def cast_vote(data: RunData, games: pd.DataFrame, game_key: str, label: str, annotator: str,
              shown_left: str) -> HumanVote:
    """Validate a vote and append it as one line to the source's ``human_votes.jsonl`` (the only file written).

    A second vote of the same annotator on the same game (two tabs showing the same game, a change of mind) is
    appended too: the file keeps every vote, and every reader counts the annotator's latest decision only
    (:func:`~arena.records.votes.latest_votes`; :func:`earlier_vote` finds the one it replaces)."""
    path = votes_path(data)
    if path is None:
        raise UserError(f"{data.source}: votes are cast on a run dir; this source is a {data.kind} file")
    vote = make_vote(games, game_key, label, annotator, shown_left)
    JsonlStore(path, HumanVote, key_field="vote_id").append(vote)
    return vote


def earlier_vote(votes: Sequence[HumanVote], annotator: str, game_key: str) -> HumanVote | None:
    """The annotator's decision on the game that counts now (the latest that is not a skip), which a new
    decision of theirs replaces; None when they have none."""
    mine = [v for v in votes if v.annotator == annotator and v.game_key == game_key and v.winner is not None]
    return mine[-1] if mine else None


def load_votes(data: RunData) -> list[HumanVote]:
    """The votes on disk for a run dir source, in file order (a torn last line is skipped; [] when none)."""
    path = votes_path(data)
    if path is None or not path.exists():
        return []
    return [parse_record(HumanVote, obj, f"{path}:{line}") for line, obj in read_jsonl(path)]


def vote_secret(env: Mapping[str, str] | None = None) -> str | None:
    """What casting a vote needs: the configured password, else the token ``arena viz`` printed, else nothing."""
    env = os.environ if env is None else env
    return env.get(PASSWORD_ENV) or env.get(TOKEN_ENV) or None


def access_ok(given: str | None, secret: str | None) -> bool:
    """True when no secret is required, or ``given`` equals it (compared in constant time)."""
    if secret is None:
        return True
    return bool(given) and hmac.compare_digest(str(given).encode(), secret.encode())
