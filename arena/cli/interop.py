"""``arena import FORMAT SRC DEST_RUN_DIR`` and ``arena export FORMAT RUN_DIR DEST``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

_IMPORT_FORMATS = ["fastchat", "arena-hard", "alpaca-eval", "llmuses", "chatbot-arena",
                   "evalscope", "mt-bench", "lmsys", "votes"]


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(_IMPORT_FORMATS))
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dest", metavar="DEST_RUN_DIR", type=click.Path(path_type=Path, file_okay=False))
@click.option("--baseline", default=None, help="Baseline model (arena-hard: default gpt-4-0314; alpaca-eval: "
              "default the most common generator_1; fastchat/llmuses: rate as pairwise-baseline).")
@click.option("--bootstrap", default=1000, show_default=True, type=click.IntRange(0), help="Bootstrap rounds.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Bootstrap seed.")
@click.option("--map", "mapping", metavar="OURS=THEIRS,...", default=None,
              help="Table formats (chatbot-arena): our column <- theirs, e.g. model_a=left,model_b=right.")
@click.option("--winner-labels", metavar="THEIRS=OURS,...", default=None,
              help="Table formats: their winner label -> ours, e.g. left=model_a,right=model_b,tie=tie.")
def import_command(fmt: str, src: Path, dest: Path, baseline: str | None, bootstrap: int, seed: int,
                   mapping: str | None, winner_labels: str | None) -> None:
    """Import another tool's answers and verdicts (SRC: a file or the folder it writes) as a run dir.

    \b
    FORMAT:
      fastchat       MT-Bench data folder (question.jsonl, model_answer/, model_judgment/) or Vicuna eval tables
      arena-hard     question.jsonl, model_answer/, model_judgment/<judge>/
      alpaca-eval    model_outputs.json + annotations.json (folder or the annotations file)
      llmuses        llmuses/evalscope arena answers, reviews, battle.jsonl (alias: evalscope)
      chatbot-arena  battle logs or aggregated pair counts (JSON, JSONL, CSV, TSV, parquet); other tools'
                     tables with --map/--winner-labels, e.g. LLMFAO's crowd CSV:
                     --map model_a=left,model_b=right --winner-labels left=model_a,right=model_b,tie=tie
      votes          human votes (CSV or JSONL): arena's human_votes.jsonl lines, or any table with model_a,
                     model_b, winner (empty or skip: a skipped vote), optional question_id, turn, category,
                     annotator, shown_left, game_key; other names with --map/--winner-labels
    """
    from arena.interop import import_run
    from arena.judging.report import format_report
    from arena.rating.report import print_leaderboard
    from arena.tables import parse_mapping

    options: dict[str, Any] = {"baseline": baseline} if baseline is not None else {}
    table_format = fmt in ("chatbot-arena", "lmsys", "votes")
    if options and table_format:
        raise click.UsageError(f"--baseline does not apply to {fmt} tables")
    columns, labels = parse_mapping(mapping, "--map"), parse_mapping(winner_labels, "--winner-labels")
    if (columns or labels) and not table_format:
        raise click.UsageError(f"--map/--winner-labels apply to table-shaped formats (chatbot-arena, votes), not {fmt}")
    if columns or labels:
        options.update(columns=columns, winner_labels=labels)
    result = import_run(fmt, src, dest, bootstrap=bootstrap, seed=seed, **options)
    counts = result.imported.counts()
    if counts["votes"]:
        click.echo(f"imported {counts['votes']} human votes into {result.run_dir / 'human_votes.jsonl'}")
    click.echo(f"imported {fmt} from {src}: {counts['questions']} questions, {counts['answers']} answers of "
               f"{counts['models_with_answers']} models, {counts['judgments']} judgments "
               f"({counts['failed_judgments']} failed), {counts['battles']} battle rows"
               + (f" standing for {counts['battles_counted']} battles"
                  if counts["battles_counted"] != counts["battles"] else ""))
    for note in result.imported.notes:
        click.echo(f"note: {note}", err=True)
    if result.leaderboard is not None:
        for warning in result.leaderboard.warnings:
            click.echo(f"warning: {warning}", err=True)
    if result.report:
        click.echo(format_report(result.report))
    if result.leaderboard is not None:
        print_leaderboard(result.leaderboard)
    click.echo(f"run dir: {result.run_dir}")


@click.command("export")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["fastchat", "arena-hard"]))
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.option("--baseline", default=None, help="arena-hard: the baseline (default: the run's judge.baseline).")
def export_command(fmt: str, run_dir: Path, dest: Path, baseline: str | None) -> None:
    """Write a run dir's questions, answers and judgments in FastChat's or arena-hard's layout."""
    from arena.interop import export_run

    options = {"baseline": baseline} if baseline is not None else {}
    if options and fmt != "arena-hard":
        raise click.UsageError("--baseline applies to arena-hard exports only")
    from arena.interop.export import EXPORT_NOTES

    paths = export_run(fmt, run_dir, dest, **options)
    click.echo(f"exported {run_dir} as {fmt}: {len(paths)} files under {dest}")
    for path in paths:
        if path.name == EXPORT_NOTES:
            for note in path.read_text(encoding="utf-8").splitlines():
                click.echo(f"note: {note}", err=True)


commands = {"import": import_command, "export": export_command}
command = import_command
