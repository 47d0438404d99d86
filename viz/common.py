"""Shared by the pages: which source to show, cached loaders, query-param state and small renderers.

Every number comes from :mod:`arena.browse`; this module only caches and renders. Loaders are keyed on
the source path *and* the files' ``(mtime, size)`` signature, so a run that is still writing is re-read
when its files change and served from the cache otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from arena import browse as vd
from arena.records import HumanVote, JudgeReport
from arena.text import md_escape
from viz import RUN_ENV

Signature = tuple[tuple[str, int, int], ...]


def source_path() -> str | None:
    """The run dir or battles file to show: ``$ARENA_VIZ_RUN``, else ``streamlit run viz/app.py -- PATH``."""
    env = os.environ.get(RUN_ENV)
    if env:
        return env
    if Path(sys.argv[0]).name == "app.py" and len(sys.argv) > 1:
        return sys.argv[1]
    return None


# cache_resource, not cache_data: cache_data would unpickle a copy of every frame on each rerun (about a
# second for 100,000 battles); the pages never modify RunData, so one shared object is safe.
@st.cache_resource(show_spinner="Reading the run ...", max_entries=4)
def _load(path: str, signature: Signature) -> vd.RunData:
    return vd.load_source(path)


@st.cache_data(show_spinner="Rating ...", max_entries=64)
def _leaderboard(path: str, signature: Signature, category: str | None) -> tuple[pd.DataFrame, list[str], str]:
    return vd.leaderboard_rows(_load(path, signature), category)


@st.cache_data(show_spinner="Building the matrices ...", max_entries=8)
def _matchups(path: str, signature: Signature) -> dict[str, pd.DataFrame]:
    data = _load(path, signature)
    rows, _, _ = _leaderboard(path, signature, None)
    return vd.matchup_frames(data, rows)


@st.cache_data(show_spinner="Reading the judge report ...", max_entries=8)
def _judge(path: str, signature: Signature) -> tuple[JudgeReport, str]:
    return vd.judge_summary(_load(path, signature))


@st.cache_data(show_spinner="Listing the games ...", max_entries=8)
def _vote_games(path: str, signature: Signature) -> pd.DataFrame:
    from arena.browse.votes import vote_games

    return vote_games(_load(path, signature))


def _votes_signature(path: str) -> tuple[int, int]:
    """``(mtime_ns, size)`` of the run's ``human_votes.jsonl`` ((0, 0) when absent): a cache key for votes."""
    try:
        st_ = (Path(path) / "human_votes.jsonl").stat()
    except OSError:
        return (0, 0)
    return (st_.st_mtime_ns, st_.st_size)


@st.cache_data(show_spinner="Reading the votes ...", max_entries=8)
def _votes(path: str, signature: Signature, votes_sig: tuple[int, int]) -> list[HumanVote]:
    from arena.browse.votes import load_votes

    return load_votes(_load(path, signature))


@st.cache_data(show_spinner="Rating ...", max_entries=32)
def _leaderboard_for(path: str, signature: Signature, votes_sig: tuple[int, int], who: str,
                     category: str | None) -> tuple[pd.DataFrame, list[str], str]:
    from arena.browse.people import leaderboard_for

    return leaderboard_for(_load(path, signature), who, _votes(path, signature, votes_sig), category)


@st.cache_data(show_spinner="Comparing the judge with people ...", max_entries=8)
def _people(path: str, signature: Signature, votes_sig: tuple[int, int]) -> dict[str, Any] | None:
    from arena.browse.people import people_report

    return people_report(_load(path, signature), _votes(path, signature, votes_sig))


def _key() -> tuple[str, Signature] | None:
    path = source_path()
    if path is None:
        return None
    return path, vd.source_signature(path)


def load() -> vd.RunData:
    """The current source, loaded once per change of its files; stops the page with a message when none."""
    key = _key()
    if key is None:
        st.error(f"No run to show. Start the browser with `arena viz RUN_DIR` (or set ${RUN_ENV}).")
        st.stop()
    data = _load(*key)
    st.caption(f"Source: `{data.source}` ({data.kind})")
    for note in data.notes:
        st.warning(md_escape(note), icon=":material/warning:")
    return data


def leaderboard(category: str | None = None) -> tuple[pd.DataFrame, list[str], str]:
    """Cached :func:`arena.browse.leaderboard_rows` for the current source."""
    key = _key()
    assert key is not None  # load() ran first and stopped otherwise
    return _leaderboard(key[0], key[1], category)


def matchups() -> dict[str, pd.DataFrame]:
    """Cached :func:`arena.browse.matchup_frames` for the current source."""
    key = _key()
    assert key is not None
    return _matchups(*key)


def judge() -> tuple[JudgeReport, str]:
    """Cached :func:`arena.browse.judge_summary` for the current source."""
    key = _key()
    assert key is not None
    return _judge(*key)


def vote_games() -> pd.DataFrame:
    """Cached :func:`arena.browse.votes.vote_games` for the current source."""
    key = _key()
    assert key is not None
    return _vote_games(*key)


def votes() -> list[HumanVote]:
    """The run's human votes, re-read when ``human_votes.jsonl`` changes."""
    key = _key()
    assert key is not None
    return _votes(key[0], key[1], _votes_signature(key[0]))


def leaderboard_for(who: str, category: str | None = None) -> tuple[pd.DataFrame, list[str], str]:
    """Cached :func:`arena.browse.people.leaderboard_for` (judge, humans or both) for the current source."""
    key = _key()
    assert key is not None
    return _leaderboard_for(key[0], key[1], _votes_signature(key[0]), who, category)


def people() -> dict[str, Any] | None:
    """Cached :func:`arena.browse.people.people_report` for the current source and its votes."""
    key = _key()
    assert key is not None
    return _people(key[0], key[1], _votes_signature(key[0]))


def no_battles(data: vd.RunData) -> None:
    """Say why there is nothing to show yet, and stop the page."""
    if data.kind == "missing":
        st.error("Nothing to show: the source does not exist.")
    elif not data.judgments.empty:
        st.info(f"No battles yet: {len(data.judgments):,} judge calls are on disk. The run may still be judging; "
                "reload the page when it has written battles.jsonl.")
    elif not data.answers.empty:
        st.info(f"No battles yet: {len(data.answers):,} answers are on disk and nothing is judged. "
                "The run may still be generating or judging; reload later.")
    else:
        st.info("No battles yet. Run `arena run -c CONFIG` (or `arena judge`) to fill this run dir.")
    st.stop()


# ------------------------------------------------------------------------------------------ URL state


def init_state(key: str, default: Any, kind: type = str) -> None:
    """Seed widget ``key`` from ``st.query_params`` the first time this session sees it."""
    if key in st.session_state:
        return
    if key in st.query_params:
        if kind is list:
            st.session_state[key] = st.query_params.get_all(key)
            return
        raw = st.query_params[key]
        try:
            st.session_state[key] = (raw in ("1", "true", "True")) if kind is bool else kind(raw)
        except (TypeError, ValueError):
            st.session_state[key] = default
        return
    st.session_state[key] = default


def sync_params(keys: Sequence[str], defaults: dict[str, Any]) -> None:
    """Write widget values that differ from their defaults into the URL (shareable state)."""
    for key in keys:
        value = st.session_state.get(key)
        if value is None or value == defaults.get(key):
            if key in st.query_params:
                del st.query_params[key]
            continue
        if isinstance(value, bool):
            st.query_params[key] = "1" if value else "0"
        elif isinstance(value, list):
            st.query_params[key] = [str(v) for v in value]
        else:
            st.query_params[key] = str(value)


def clamp_choice(key: str, options: Sequence[Any]) -> None:
    """Drop a URL/state value that is not among ``options`` (a stale or edited link)."""
    value = st.session_state.get(key)
    if isinstance(value, list):
        st.session_state[key] = [v for v in value if v in options]
    elif value is not None and value not in options:
        st.session_state[key] = options[0] if options else None


# ------------------------------------------------------------------------------------------ rendering


def model_text(text: str, raw: bool = False) -> None:
    """Render model or judge text: Markdown with raw HTML left unrendered, or plain text.

    Never uses ``unsafe_allow_html``: Streamlit's Markdown shows HTML tags as text, so an answer with
    ``<script>`` cannot run in the browser.
    """
    if not text:
        st.caption("(empty)")
    elif raw:
        st.text(text)
    else:
        st.markdown(text)
