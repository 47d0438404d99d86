"""``arena diff | repeat | reproduce``: why two runs differ, and how much a run varies by itself."""

from __future__ import annotations

from pathlib import Path

import click

_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table",
                       show_default=True, help="Output format.")


@click.command("diff")
@click.argument("run_a", type=click.Path(path_type=Path, file_okay=False))
@click.argument("run_b", type=click.Path(path_type=Path, file_okay=False))
@_FORMAT
def diff_command(run_a: Path, run_b: Path, fmt: str) -> None:
    """What differs between runs A and B, and whether their numbers differ by more than noise.

    Settings (from the manifests and records) grouped by what they affect: questions, candidates (model,
    system prompt, chat template hash, generation settings, seed, batch size, dtype, device, engine and
    library versions), judge, rating, arena version. Then per model: rating and win-rate deltas (B - A)
    with 95% intervals, rank changes, and whether each delta exceeds what the intervals (and the noise
    floor of `arena repeat`, when either run has repeats/noise.json) explain.
    """
    from arena.diff.diff import diff_runs
    from arena.diff.format import render

    click.echo(render(diff_runs(run_a, run_b), fmt), nl=False)  # type: ignore[arg-type]


@click.command("repeat")
@click.option("-c", "--config", "config_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Arena YAML config (see configs/).")
@click.argument("n", type=click.IntRange(min=2))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def repeat_command(config_path: Path, n: int, fmt: str) -> None:
    """Run CONFIG N times with re-drawn seeds to measure its noise floor.

    Repeat i goes to WORK_DIR/repeats/<i>/ with seeds derived from the config seed for what samples (candidates
    and judge at temperature > 0, the bootstrap); greedy candidates keep theirs, and their answers that still
    vary are flagged with the first differing word. Writes WORK_DIR/repeats/noise.json (read by arena diff).
    """
    from arena.config import load_config
    from arena.diff.noise import NOISE_FILE
    from arena.diff.repeat import render_noise, run_repeats
    from arena.pipeline.checks import check_config

    cfg = load_config(config_path)
    check_config(cfg)
    floor = run_repeats(cfg, n, config_path=str(config_path))
    click.echo(floor.model_dump_json(indent=2) + "\n" if fmt == "json" else render_noise(floor), nl=False)
    click.echo(f"wrote {cfg.work_dir / NOISE_FILE}", err=True)


@click.command("reproduce")
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--into", "into", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where the reproduction writes (default: RUN_DIR-reproduce).")
@click.option("--allow-versions", is_flag=True, help="Run even when library versions differ from the run's.")
@_FORMAT
def reproduce_command(run_dir: Path, into: Path | None, allow_versions: bool, fmt: str) -> None:
    """Re-run RUN_DIR from its manifest, then `arena diff` the original against the reproduction.

    Refuses, listing each, when something the run needs is not available here: a file or model path, an
    endpoint (API key or connection), a library version.
    """
    from arena.diff.format import render
    from arena.diff.reproduce import reproduce

    plan, result = reproduce(run_dir, into, allow_versions=allow_versions)
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"reproduced into {plan.run_dir}", err=True)
    click.echo(render(result, fmt), nl=False)  # type: ignore[arg-type]


commands: dict[str, click.Command] = {"diff": diff_command, "repeat": repeat_command, "reproduce": reproduce_command}
