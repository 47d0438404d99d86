"""Bring your own data: import other tools' answers and verdicts as arena run dirs, export ours to theirs.

Formats (one module each, imported only when used):

- ``fastchat``: MT-Bench ``llm_judge`` data folders and the 2023 Vicuna eval tables (:mod:`.fastchat`)
- ``arena-hard``: arena-hard-auto ``question.jsonl``, ``model_answer/``, ``model_judgment/<judge>/`` (:mod:`.arena_hard`)
- ``alpaca-eval``: ``model_outputs.json`` + ``annotations.json`` (:mod:`.alpaca_eval`)
- ``llmuses``: modelscope llmuses / evalscope arena answers, reviews and ``battle.jsonl`` (:mod:`.llmuses`)
- ``chatbot-arena``: Chatbot Arena battle logs and aggregated pair counts (:mod:`.chatbot_arena`)
- ``votes``: human votes collected elsewhere, CSV or JSONL (:mod:`.votes`)

Example:
    >>> from arena.interop import import_run, export_run             # doctest: +SKIP
    >>> result = import_run("fastchat", "data/mt_bench", "runs/mt")  # doctest: +SKIP
    >>> export_run("arena-hard", "runs/mt", "out/arena-hard")        # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from arena.errors import UserError, unknown_name
from arena.interop.common import ImportedRun, ImportResult, write_run

# Format name -> "module:function" (imported lazily).
IMPORTERS: dict[str, str] = {
    "fastchat": "arena.interop.fastchat:import_fastchat",
    "arena-hard": "arena.interop.arena_hard:import_arena_hard",
    "alpaca-eval": "arena.interop.alpaca_eval:import_alpaca_eval",
    "llmuses": "arena.interop.llmuses:import_llmuses",
    "chatbot-arena": "arena.interop.chatbot_arena:import_chatbot_arena",
    "votes": "arena.interop.votes:import_votes",
}
EXPORTERS: dict[str, str] = {
    "fastchat": "arena.interop.fastchat:export_fastchat",
    "arena-hard": "arena.interop.arena_hard:export_arena_hard",
}
ALIASES = {"evalscope": "llmuses", "mt-bench": "fastchat", "arena_hard": "arena-hard", "alpaca_eval": "alpaca-eval",
           "chatbot_arena": "chatbot-arena", "lmsys": "chatbot-arena"}


def _load(table: dict[str, str], fmt: str, kind: str) -> Any:
    name = ALIASES.get(fmt, fmt)
    if name not in table:
        raise UserError(unknown_name(f"{kind} format", fmt, table))
    module, attr = table[name].split(":")
    return getattr(importlib.import_module(module), attr)


def read_source(fmt: str, src: str | Path, **options: Any) -> ImportedRun:
    """Read another tool's files into an :class:`ImportedRun` without writing anything.

    ``options`` go to the format's importer (e.g. ``baseline=`` for ``arena-hard`` and ``alpaca-eval``).
    """
    reader = _load(IMPORTERS, fmt, "import")
    try:
        run: ImportedRun = reader(Path(src), **options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise UserError(f"import {fmt}: {exc}") from None
        raise
    return run


def import_run(fmt: str, src: str | Path, dest: str | Path, *, bootstrap: int = 1000, seed: int = 0,
               **options: Any) -> ImportResult:
    """Import ``src`` (a file or the folder the other tool writes) as a run dir at ``dest``.

    Writes ``questions.jsonl``, ``answers/<model>.jsonl``, ``judgments.jsonl`` (when the source has
    verdicts), ``battles.jsonl``, ``leaderboard.{json,csv,md}``, ``judge_report.json`` (with judgments) and
    ``manifest.json`` (format, source files, counts, notes).

    Args:
        fmt: one of :data:`IMPORTERS` (aliases: ``evalscope``, ``mt-bench``, ``lmsys``).
        src: the file or folder to read.
        dest: the run dir to create (must not already hold a run).
        bootstrap: bootstrap rounds of the leaderboard's intervals.
        seed: bootstrap seed.
        **options: format options (see each importer).

    Raises:
        UserError: unknown format, missing file, or a bad record (``DataError`` naming ``file:line``).
    """
    run = read_source(fmt, src, **options)
    return write_run(run, Path(dest), bootstrap=bootstrap, seed=seed)


def export_run(fmt: str, run_dir: str | Path, dest: str | Path, **options: Any) -> list[Path]:
    """Write a run dir's answers and judgments in another tool's layout; returns the files written."""
    writer = _load(EXPORTERS, fmt, "export")
    paths: list[Path] = writer(Path(run_dir), Path(dest), **options)
    return paths


__all__ = ["EXPORTERS", "IMPORTERS", "ImportResult", "ImportedRun", "export_run", "import_run", "read_source",
           "write_run"]
