"""arena: an LLM-as-judge arena with Bradley-Terry / Elo ratings and a battle browser.

The supported Python API is listed in ``__all__``; every name is imported on first use (PEP 562), so
``import arena`` stays light (no pandas, scipy or torch until a stage needs them). The command line calls
the same functions.

Example:
    >>> import arena                                                     # doctest: +SKIP
    >>> cfg = arena.load_config("configs/fake.yaml")                     # doctest: +SKIP
    >>> result = arena.run(cfg)                                          # doctest: +SKIP
    >>> board = arena.compute_leaderboard(arena.read_battles(result.run_dir / "battles.jsonl"),
    ...                                   arena.RatingSettings(bootstrap=200))  # doctest: +SKIP
    >>> arena.load_run(result.run_dir).leaderboard[0].model             # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> module that defines it.
_API: dict[str, str] = {
    # config: schema, loading, checks before spending
    "ArenaConfig": "arena.config",
    "load_config": "arena.config",
    "check_config": "arena.pipeline.checks",
    # records at every file boundary
    "Question": "arena.records",
    "Answer": "arena.records",
    "Judgment": "arena.records",
    "Battle": "arena.records",
    "LeaderboardRow": "arena.records",
    "JudgeReport": "arena.records",
    "Manifest": "arena.records",
    # stages
    "run": "arena.pipeline",
    "run_generate": "arena.pipeline",
    "run_judge": "arena.pipeline",
    "RunResult": "arena.pipeline",
    "load_questions": "arena.questions",
    "generate_answers": "arena.generate",
    "register_provider": "arena.providers.specs",
    "build_judge": "arena.judging.factory",
    "build_judge_provider": "arena.judging.factory",
    "plan_games": "arena.judging.plan",
    "review": "arena.judging.reviewer",
    "judge_report": "arena.judging.report",
    # rating
    "RatingSettings": "arena.rating",
    "LeaderboardResult": "arena.rating",
    "battles_frame": "arena.rating",
    "compute_leaderboard": "arena.rating",
    "read_battles": "arena.rating.read",
    "read_table": "arena.tables",
    "load_side": "arena.rating.compare",
    "compare": "arena.rating.compare",
    # run dirs and other tools' files
    "Run": "arena.rundir.load",
    "load_run": "arena.rundir.load",
    "write_outputs": "arena.rundir.outputs",
    "import_run": "arena.interop",
    "export_run": "arena.interop",
    "read_source": "arena.interop",
}

__all__ = [
    "__version__",
    "Answer",
    "ArenaConfig",
    "Battle",
    "JudgeReport",
    "Judgment",
    "LeaderboardResult",
    "LeaderboardRow",
    "Manifest",
    "Question",
    "RatingSettings",
    "Run",
    "RunResult",
    "battles_frame",
    "build_judge",
    "build_judge_provider",
    "check_config",
    "compare",
    "compute_leaderboard",
    "export_run",
    "generate_answers",
    "import_run",
    "judge_report",
    "load_config",
    "load_questions",
    "load_run",
    "load_side",
    "plan_games",
    "read_battles",
    "read_source",
    "read_table",
    "register_provider",
    "review",
    "run",
    "run_generate",
    "run_judge",
    "write_outputs",
]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'arena' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # resolve once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


if TYPE_CHECKING:  # for type checkers and IDEs; at run time names resolve lazily above
    from arena.config import ArenaConfig, load_config
    from arena.generate import generate_answers
    from arena.interop import export_run, import_run, read_source
    from arena.judging.factory import build_judge, build_judge_provider
    from arena.judging.plan import plan_games
    from arena.judging.report import judge_report
    from arena.judging.reviewer import review
    from arena.pipeline import RunResult, run, run_generate, run_judge
    from arena.pipeline.checks import check_config
    from arena.providers.specs import register_provider
    from arena.questions import load_questions
    from arena.rating import LeaderboardResult, RatingSettings, battles_frame, compute_leaderboard
    from arena.rating.compare import compare, load_side
    from arena.rating.read import read_battles
    from arena.records import Answer, Battle, JudgeReport, Judgment, LeaderboardRow, Manifest, Question
    from arena.rundir.load import Run, load_run
    from arena.rundir.outputs import write_outputs
    from arena.tables import read_table
