"""``arena`` command line: a thin click layer over the same functions as the Python API.

User errors (:class:`~arena.errors.UserError`) print one line and exit 2; other failures print one line
and exit 1 (``ARENA_DEBUG=1`` shows the traceback). ``arena --help`` imports neither torch nor the
rating stack: each command module imports what it needs when it runs.
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
