"""``arena`` command line: a thin click layer over the same functions as the Python API.

User errors (:class:`~arena.errors.UserError`) print one line and exit 2; other failures print one line
and exit 1 (``ARENA_DEBUG=1`` shows the traceback). ``arena --help`` imports no command module (it lists
the one-line summaries of :data:`SUMMARIES`), so neither torch, numpy, pandas nor scipy: each command
module is imported only when its command (or its ``--help``) runs.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

from arena import __version__
from arena.errors import UserError

# numpy's BLAS on one thread unless the user says otherwise (set before any command imports numpy). arena's dense
# algebra is small (models x models) and its bootstrap runs its own threads; OpenBLAS's default threads only
# oversubscribe the cores: `arena rate --bootstrap 0` on 13,600 count rows spent 0.3-0.4 s in 22 solves of
# 130 x 130 on a busy 2-core machine, against 0.01 s on one thread.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Command name -> module defining ``command`` (a click.Command).
_COMMANDS = {
    "run": "arena.cli.run",
    "validate": "arena.cli.run",
    "generate": "arena.cli.run",
    "judge": "arena.cli.run",
    "rate": "arena.cli.rate",
    "viz": "arena.cli.viz",
    "import": "arena.cli.interop",
    "export": "arena.cli.interop",
    "meta-eval": "arena.cli.meta_eval",
    "compare": "arena.cli.compare",
    "diff": "arena.cli.diff",
    "repeat": "arena.cli.diff",
    "reproduce": "arena.cli.diff",
}


SUMMARIES: dict[str, str] = {
    "run": "Run the whole arena: generate answers, judge, rate, write the run dir.",
    "validate": "Check a config (keys, types, files, presets, API keys, prompt set) without running anything.",
    "generate": "Stage 1 alone: answer the questions with every enabled model.",
    "judge": "Stages 2-3 alone: judge the answers on disk, write battles, rate.",
    "rate": "Rate the battles in BATTLES_FILE (JSONL, JSON, CSV, TSV or parquet with FastChat columns).",
    "viz": "Browse a run: leaderboard, matchups, every battle, judge report, single-mode scores.",
    "import": "Import another tool's answers and verdicts (SRC: a file or the folder it writes) as a run dir.",
    "export": "Write a run dir's questions, answers and judgments in FastChat's or arena-hard's layout.",
    "meta-eval": "Score a judge on a labelled pair set: LLMBar's (input, output_1, output_2, label 1/2) or "
    'Auto-J\'s (prompt, "response 1", "response 2", label 0/1/2 = first/second/tie).',
    "compare": "Compare leaderboard A with B: correlations of ratings and ranks, agreement, separability.",
    "diff": "What differs between runs A and B, and whether their numbers differ by more than noise.",
    "repeat": "Run CONFIG N times with re-drawn seeds to measure its noise floor.",
    "reproduce": "Re-run RUN_DIR from its manifest, then `arena diff` the original against the reproduction.",
}
"""Each command's short help as ``arena --help`` lists it (its docstring's first sentence; a test holds them
equal), so listing the commands imports none of their modules."""


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = _COMMANDS.get(name)
        if module is None:
            return None
        mod = importlib.import_module(module)
        cmd: click.Command = getattr(mod, "commands", {}).get(name) or mod.command
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists commands, from :data:`SUMMARIES` instead of importing every command module."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="arena")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """LLM-as-judge arena: candidates answer, a judge reviews, Bradley-Terry/Elo rate, a browser shows it.

    \b
    Typical use:
      arena run -c configs/quickstart.yaml            # the whole pipeline
      arena run -c configs/arena.yaml --dry-run       # answers + fake judge: counts calls and tokens
      arena rate outputs/quickstart/battles.jsonl     # re-rate any battles file
      arena viz outputs/quickstart                    # browse the battles
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: maps errors to exit codes 2 (bad input) and 1 (other failure)."""
    try:
        return cli.main(args=argv, prog_name="arena", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("arena: interrupted; finished work is on disk, run the same command again to resume", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("arena: interrupted; finished work is on disk, run the same command again to resume", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"arena: {exc.format_message()}", err=True)
        sys.exit(2)
    except UserError as exc:
        click.echo(f"arena: error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("ARENA_DEBUG"):
            raise
        from arena.errors import scrub

        click.echo(f"arena: failed: {type(exc).__name__}: {scrub(str(exc)).splitlines()[0] if str(exc) else ''} "
                   "(set ARENA_DEBUG=1 for the traceback)", err=True)
        sys.exit(1)
