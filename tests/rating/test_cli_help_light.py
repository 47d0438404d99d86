"""``arena --help`` stays light: it imports no command module, so neither numpy, pandas nor scipy."""

from __future__ import annotations

import re
import subprocess
import sys

import click

from arena.cli import SUMMARIES, cli


def test_help_imports_no_numerics() -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "arena", "--help"], capture_output=True, text=True, check=True
    )
    assert "Commands:" in out.stdout and "rate" in out.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "arena.cli" in imported  # the trace is real
    heavy = sorted(m for m in imported if re.match(r"(numpy|pandas|scipy|torch)(\.|$)", m))
    assert heavy == []


def test_summaries_are_the_commands_short_help() -> None:
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        assert SUMMARIES[name] == cmd.get_short_help_str(limit=1000), name


def test_cli_runs_blas_on_one_thread_unless_the_user_says_otherwise() -> None:
    """The CLI sets OPENBLAS_NUM_THREADS=1 before any command imports numpy; a value the user set is kept."""
    import os

    probe = "import arena.cli, os, sys; assert 'numpy' not in sys.modules; print(os.environ['OPENBLAS_NUM_THREADS'])"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "1"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**env, "OPENBLAS_NUM_THREADS": "3"})
    assert out.stdout.strip() == "3"
