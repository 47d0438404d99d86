"""Everything the battle browser shows, computed here: loaders and pure functions returning frames/dicts.

The Streamlit app in ``viz/`` only renders. It reads one *source*, which is any of:

- a run dir written by the pipeline (``battles.jsonl``, ``judgments.jsonl``, ``answers/``, ``leaderboard.json``,
  ``judge_report.json``, ``manifest.json``, ``questions.jsonl``), complete, partial or still being written;
- a bare battles file in FastChat columns (JSONL, JSON, CSV or parquet), as ``arena rate`` reads;
- the llmuses/evalscope ``battle.jsonl`` (``model_a, model_b, scores, win, question, output_a, output_b, ...``).

:func:`load_source` never raises for a missing, empty or half-written source: what it could not read becomes a
line in :attr:`RunData.notes`, and the pages say so. Every computation is vectorised over pandas frames, so a
source with 100,000 battles stays interactive once loaded.

Modules: ``data`` (:class:`RunData`), ``load``, ``table`` (the battle table), ``battles`` (filters, detail),
``leaderboard``, ``matchups``, ``judge``. They reuse :func:`arena.rundir.load_run` (a run dir is read by it;
a battles file by :func:`arena.tables.read_table`), :mod:`arena.judging` (verdict to winner, the judge
report) and :mod:`arena.rating` (the rater, rating settings) rather than copying them.
"""

from arena.browse.battles import (
    BattleFilter,
    battle_detail,
    battle_list_view,
    filter_battles,
    page_of,
    search_mask,
)
from arena.browse.data import (
    BATTLE_SUFFIXES,
    EVALSCOPE_WIN,
    RUN_FILES,
    TABLE_COLUMNS,
    RunData,
    SourceKind,
    source_signature,
)
from arena.browse.judge import (
    answer_turns,
    battles_bias,
    judge_summary,
    position_bias_by_model,
    single_reasons,
    single_scores,
    single_scores_table,
    winner_labels,
)
from arena.browse.leaderboard import (
    categories,
    describe_settings,
    leaderboard_rows,
    leaderboard_view,
    rating_settings,
    ratings_chart_frame,
    run_facts,
    settings_from_manifest,
)
from arena.browse.load import load_source, read_battles_table
from arena.browse.matchups import matchup_frames

__all__ = [
    "BATTLE_SUFFIXES",
    "BattleFilter",
    "EVALSCOPE_WIN",
    "RUN_FILES",
    "RunData",
    "SourceKind",
    "TABLE_COLUMNS",
    "answer_turns",
    "battle_detail",
    "battle_list_view",
    "battles_bias",
    "categories",
    "describe_settings",
    "filter_battles",
    "judge_summary",
    "leaderboard_rows",
    "leaderboard_view",
    "load_source",
    "matchup_frames",
    "page_of",
    "position_bias_by_model",
    "rating_settings",
    "ratings_chart_frame",
    "read_battles_table",
    "run_facts",
    "search_mask",
    "settings_from_manifest",
    "single_reasons",
    "single_scores",
    "single_scores_table",
    "source_signature",
    "winner_labels",
]
