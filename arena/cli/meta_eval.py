"""``arena meta-eval``: a judge's accuracy against labelled pairs, in both orders."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("meta-eval")
@click.argument("src", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Arena config whose judge: block is run on the pairs (both orders).")
@click.option("--verdicts", is_flag=True,
              help="SRC already holds verdicts (LLMBar *_result.json): score them, run no judge.")
@click.option("--work-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where judgments are cached (default: outputs/meta-eval/<SRC name>).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N pairs.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write the statistics as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def command(src: Path, config_path: Path | None, verdicts: bool, work_dir: Path | None, limit: int | None,
            out: Path | None, quiet: bool) -> None:
    """Score a judge on a labelled pair set: LLMBar's (input, output_1, output_2, label 1/2) or Auto-J's
    (prompt, "response 1", "response 2", label 0/1/2 = first/second/tie). A tie verdict is correct on a tie
    label; a failed verdict counts as wrong (LLMBar's convention); the output names the conventions.

    \b
    arena meta-eval pairs.json -c configs/arena.yaml     # run the config's judge in both orders
    arena meta-eval GPT-4_Vanilla_result.json --verdicts # score verdicts someone already made
    """
    from arena.judging import meta_eval as me

    if verdicts == (config_path is not None):
        raise click.UsageError("give exactly one of -c CONFIG (run a judge) or --verdicts (score existing ones)")
    if verdicts:
        pairs, first, second = me.read_verdicts(src)
        if limit:
            pairs, first, second = pairs[:limit], first[:limit], second[:limit]
        stats = me.score_verdicts(pairs, first, second)
    else:
        assert config_path is not None
        jc, seed = me.load_judge_config(config_path)
        pairs = me.read_pairs(src)[:limit]
        wd = work_dir or Path("outputs") / "meta-eval" / src.stem
        stats, _, _ = me.run_meta_eval(pairs, jc, wd, seed=seed, progress=not quiet)
    click.echo(me.format_stats(stats))
    if out is not None:
        me.write_report(stats, out)
        click.echo(f"statistics: {out}")
