"""``arena run | validate | generate | judge``: the pipeline commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from arena.config import ArenaConfig, load_config
from arena.pipeline.checks import check_config, config_key
from arena.store import RunLock

if TYPE_CHECKING:
    from arena.judging.adaptive import AdaptiveOutcome
    from arena.pipeline import RunResult

_config_option = click.option(
    "-c", "--config", "config_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
    help="Arena YAML config (see configs/).",
)
_quiet = click.option("-q", "--quiet", is_flag=True, help="No progress bars.")


def _console() -> Console:
    return Console(stderr=False, highlight=False, soft_wrap=True)


def _print_summary(result: RunResult, console: Console, cfg: ArenaConfig, dry_run: bool) -> None:
    from arena.judging.estimate import format_estimate
    from arena.judging.jury_report import format_jury
    from arena.judging.report import format_report
    from arena.judging.votes import format_people

    for g in result.generation:
        line = f"generate {g.model}: {g.generated} new answers, {g.done_before} already on disk"
        if g.errors:
            line += f", {g.errors} failed"
        if g.missing:
            line += f", {len(g.missing)} missing in the answer file"
        console.print(line)
    r = result.review
    if r is not None:
        console.print(f"judge: {r.judged} calls made, {r.done_before} judgments already on disk, {r.errors} failed"
                      f" ({result.games} games planned, {len(result.skipped_games)} skipped)")
        if r.errors:
            console.print("  failed: " + ", ".join(f"{k} x{v}" for k, v in sorted(r.error_kinds.items()))
                          + "; run `arena judge -c CONFIG --retry-errors` to ask again for those only")
    if result.adaptive is not None:
        console.print(_adaptive_line(result.adaptive))
    if dry_run and result.estimates:
        for estimate, jc in zip(result.estimates, cfg.judges, strict=True):
            who = f" judge {jc.name}" if cfg.jurors else ""
            console.print(f"[bold]dry run[/bold]{who}: {format_estimate(estimate, jc)}")
        if len(result.estimates) > 1 and result.estimate is not None:
            cost = "n/a (a judge has no prices)" if result.estimate.cost_usd is None else f"${result.estimate.cost_usd:,.4f}"
            console.print(f"[bold]dry run[/bold] jury total: {result.estimate.judge_calls} judge calls, about "
                          f"{result.estimate.prompt_tokens:,} prompt and {result.estimate.output_tokens:,} output "
                          f"tokens, cost {cost}")
    if result.report:
        report = format_report(result.report)
        console.print(f"rehearsal with the fake judge: {report}" if dry_run else report)
        extras = result.report.model_extra or {}
        if extras.get("jury"):
            console.print(format_jury(extras["jury"]))
        if extras.get("people"):
            console.print(format_people(extras["people"]))
    if result.leaderboard is not None:
        from arena.rating.report import print_leaderboard

        print_leaderboard(result.leaderboard, console)
        for w in result.leaderboard.warnings:
            console.print(f"[yellow]warning[/yellow]: {w}")
    console.print(f"run dir: {result.run_dir}")


def _adaptive_line(a: AdaptiveOutcome) -> str:
    """One line: why adaptive judging stopped, after how many rounds and calls, and the widest interval."""
    why = {"budget": f"the budget of {a.budget} calls is spent",
           "target_ci": f"every 95% interval is within +/-{a.target_ci} points",
           "nothing_left": "no game is left to ask for"}[a.stopped]
    widest = "" if a.max_ci_half_width is None else f", widest 95% interval +/-{a.max_ci_half_width} points"
    retried = f", {a.retried} errored judgments asked again" if a.retried else ""
    return (f"adaptive judging stopped ({a.stopped}): {why}; {a.rounds} rounds, {a.calls} calls on disk"
            f"{widest}{retried}")


@click.command("run")
@_config_option
@click.option("--dry-run", is_flag=True,
              help="Candidates answer; a seeded fake judge replaces the real one (no network call). "
                   "Estimates the judge calls, tokens and cost of a real run. Output goes to WORK_DIR/dry-run.")
@_quiet
def run_command(config_path: Path, dry_run: bool, quiet: bool) -> None:
    """Run the whole arena: generate answers, judge, rate, write the run dir."""
    from arena.pipeline import run

    cfg = load_config(config_path)
    check_config(cfg, dry_run=dry_run)
    console = _console()
    with RunLock(cfg.work_dir, config_key(cfg, "work_dir")):
        result = run(cfg, dry_run=dry_run, config_path=str(config_path), progress=not quiet)
    _print_summary(result, console, cfg, dry_run)


@click.command("validate")
@_config_option
@click.option("--dry-run", is_flag=True, help="Check for a dry run: the judge's API key and weights are not needed.")
def validate_command(config_path: Path, dry_run: bool) -> None:
    """Check a config (keys, types, files, presets, API keys, prompt set) without running anything."""
    cfg = load_config(config_path)
    check_config(cfg, dry_run=dry_run)
    judges = (f"jury of {len(cfg.jurors)} judges ({', '.join(f'{j.name}: {j.prompts}' for j in cfg.jurors)}), "
              f"leaderboard {cfg.jury}" if cfg.jurors else f"prompts {cfg.judge.prompts}")
    click.echo(f"{config_path}: ok ({len(cfg.enabled_models)} models, mode {cfg.judge.mode}, "
               f"{judges}, work_dir {cfg.work_dir})")


@click.command("generate")
@_config_option
@_quiet
def generate_command(config_path: Path, quiet: bool) -> None:
    """Stage 1 alone: answer the questions with every enabled model."""
    from arena.pipeline import run_generate

    cfg = load_config(config_path)
    check_config(cfg, judge=False)
    with RunLock(cfg.work_dir, config_key(cfg, "work_dir")):
        _, stats = run_generate(cfg, progress=not quiet)
    for g in stats:
        click.echo(f"{g.model}: {g.generated} new, {g.done_before} already on disk, {g.errors} failed")


@click.command("judge")
@_config_option
@click.option("--retry-errors", is_flag=True, help="Ask the judge again only for judgments that failed.")
@click.option("--dry-run", is_flag=True, help="Use the seeded fake judge (no network call).")
@_quiet
def judge_command(config_path: Path, retry_errors: bool, dry_run: bool, quiet: bool) -> None:
    """Stages 2-3 alone: judge the answers on disk, write battles, rate."""
    from arena.pipeline import run_judge

    cfg = load_config(config_path)
    check_config(cfg, generate=False, dry_run=dry_run)
    with RunLock(cfg.work_dir, config_key(cfg, "work_dir")):
        result = run_judge(cfg, dry_run=dry_run, retry_errors=retry_errors, progress=not quiet)
    _print_summary(result, _console(), cfg, dry_run)


commands = {"run": run_command, "validate": validate_command, "generate": generate_command, "judge": judge_command}
command = run_command
