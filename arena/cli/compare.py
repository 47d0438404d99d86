"""``arena compare A B``: rank correlations, agreement and separability of two leaderboards."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("compare")
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True)
@click.option("--bootstrap", type=click.IntRange(min=0), default=200, show_default=True,
              help="Bootstrap rounds for the correlation intervals (battle files only; 0 = none).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of every bootstrap.")
@click.option("--map", "mapping", metavar="OURS=THEIRS,...", default=None,
              help="Battle files: our column <- theirs, e.g. model_a=left,model_b=right.")
@click.option("--winner-labels", metavar="THEIRS=OURS,...", default=None,
              help="Battle files: their winner label -> ours, e.g. left=model_a,right=model_b,tie=tie.")
@click.option("--where", metavar="COL=VALUE,...", default=None,
              help="Keep only rows with these values, on the sides that have the column "
                   "(e.g. algorithm=bradley_terry for evalica's scores).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write here instead of stdout.")
def command(a: Path, b: Path, fmt: str, bootstrap: int, seed: int, mapping: str | None,
            winner_labels: str | None, where: str | None, out: Path | None) -> None:
    """Compare leaderboard A with B: correlations of ratings and ranks, agreement, separability.

    A and B: a run dir, leaderboard.json/.csv (or any table with model and rating columns), or a battles
    file (JSONL, JSON, CSV, TSV, parquet) rated here by Bradley-Terry with bootstrap intervals. Agreement
    (arena-hard's) is over the pairs B separates.

    \b
    arena compare runs/judge-a runs/judge-b
    arena compare crowd-comparisons.csv golden.csv --where algorithm=bradley_terry \\
        --map model_a=left,model_b=right --winner-labels left=model_a,right=model_b,tie=tie
    """
    from arena.rating import RatingSettings
    from arena.rating.compare import compare, format_comparison, load_side
    from arena.store import write_text_atomic
    from arena.tables import parse_mapping

    columns, labels = parse_mapping(mapping, "--map"), parse_mapping(winner_labels, "--winner-labels")
    rows = parse_mapping(where, "--where")
    settings = RatingSettings(bootstrap=max(bootstrap, 100), seed=seed)
    sides = [load_side(p, columns=columns, winner_labels=labels, where=rows, settings=settings) for p in (a, b)]
    result = compare(sides[0], sides[1], bootstrap=bootstrap, seed=seed)
    text = format_comparison(result, fmt)  # type: ignore[arg-type]
    if out is None:
        click.echo(text, nl=False)
    else:
        write_text_atomic(out, text)
        click.echo(f"wrote {out}", err=True)
