"""``arena rate BATTLES_FILE``: a leaderboard from any battles file in FastChat columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from arena.errors import UserError
from arena.rating import registry
from arena.rating.read import read_battles
from arena.tables import parse_mapping

__all__ = ["command", "read_battles"]


_OPTIONS = {"elo.k": "--k", "elo.order": "--elo-order", "anchor.rating": "--anchor", "anchor.model": "--anchor"}
"""The option a rating setting comes from, where its name is not the setting's (``elo.k`` is ``--k``)."""


def _parse_anchor(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    model, sep, rating = value.rpartition("=")
    try:
        if not sep or not model:
            raise ValueError
        return {"model": model, "rating": float(rating)}
    except ValueError:
        raise UserError(f"--anchor {value!r}: expected MODEL=RATING, e.g. --anchor gpt-4-0314=1000") from None


class _MethodName(click.ParamType):
    """A rating method of :mod:`arena.rating.registry`, read when the command runs (so methods registered
    after import are accepted and listed)."""

    name = "method"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "[" + "|".join(registry.names()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if value not in registry.names():
            self.fail(registry.unknown_method(str(value)), param, ctx)
        return str(value)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(m.name, help=m.summary) for m in registry.methods() if m.name.startswith(incomplete)]


class _MethodOption(click.Option):
    """``--method``: its help lists the registry's methods with their summaries."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = "Rating method: " + "; ".join(f"{m.name}: {m.summary}" for m in registry.methods()) + "."
        return super().get_help_record(ctx)


@click.command("rate")
@click.argument("battles_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--method",
    cls=_MethodOption,
    type=_MethodName(),
    default="bt",
    show_default=True,
    help="Rating method",
)
@click.option("--k", "k", type=float, default=4.0, show_default=True, help="Elo K factor.")
@click.option(
    "--elo-order",
    type=click.Choice(["auto", "file", "time", "shuffle"]),
    default="auto",
    show_default=True,
    help="Elo battle order. file: rows in file order, a row of count n as n consecutive battles; "
    "time: rows ordered by their tstamp, then as file; shuffle: the file sequence shuffled with --seed; "
    "auto: when every row is one battle of weight <= 1, time if every row has a tstamp (as FastChat), else "
    "file; otherwise shuffle (an aggregated file keeps no battle order).",
)
@click.option(
    "--bootstrap",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Bootstrap rounds for the intervals (0 = none).",
)
@click.option("--anchor", metavar="MODEL=RATING", default=None, help="Pin one model's rating.")
@click.option(
    "--baseline",
    metavar="MODEL",
    default=None,
    help="Pairwise-baseline mode: anchor MODEL at 1000 and add win rates against it.",
)
@click.option(
    "--map",
    "mapping",
    metavar="OURS=THEIRS,...",
    default=None,
    help="Read another tool's columns, e.g. --map model_a=left,model_b=right,question_id=prompt.",
)
@click.option(
    "--winner-labels",
    metavar="THEIRS=OURS,...",
    default=None,
    help="Translate winner labels, e.g. --winner-labels left=model_a,right=model_b,tie=tie.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "md"]),
    default="table",
    show_default=True,
    help="json = the leaderboard.json rows.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write here instead of stdout.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Bootstrap (and Elo shuffle) seed.")
@click.option(
    "--resample",
    type=click.Choice(["question", "battle"]),
    default="question",
    show_default=True,
    help="Resample whole questions (both orders together) or single battles. Without a question_id "
    "column every battle is its own question.",
)
@click.option(
    "--ci",
    type=click.Choice(list(registry.INTERVALS)),
    default="bootstrap",
    show_default=True,
    help="Interval type. " + "; ".join(f"{k}: {v}" for k, v in registry.INTERVALS.items()) + ".",
)
@click.option(
    "--ties",
    type=click.Choice(list(registry.TIE_MODELS)),
    default="half",
    show_default=True,
    help="Tie model. " + "; ".join(f"{t.name}: {t.summary}" for t in registry.TIE_MODELS.values()) + ".",
)
@click.option(
    "--reweight",
    type=click.Choice(["none", "inverse-pair"]),
    default="none",
    show_default=True,
    help="inverse-pair: weigh each battle 1/max(pair battles, 50) in the fit (LMArena's, for unbalanced logs).",
)
@click.option(
    "--style-control", is_flag=True, help="Fit length/markdown style as covariates (needs len_a/len_b ...)."
)
def command(
    battles_file: Path,
    method: str,
    k: float,
    elo_order: str,
    bootstrap: int,
    anchor: str | None,
    baseline: str | None,
    mapping: str | None,
    winner_labels: str | None,
    fmt: str,
    out: Path | None,
    seed: int,
    resample: str,
    ci: str,
    ties: str,
    reweight: str,
    style_control: bool,
) -> None:
    """Rate the battles in BATTLES_FILE (JSONL, JSON, CSV, TSV or parquet with FastChat columns).

    \b
    Columns: model_a, model_b, winner (model_a | model_b | tie | tie (bothbad)); optional
    question_id (the resampling unit), weight and count. Another tool's names: --map, --winner-labels.
    Chatbot Arena dumps: style features from conv_metadata; votes with anony false are dropped (noted);
    one-hot winner_model_a, winner_model_b, winner_tie columns read as the winner.

    \b
    count: a row with count n is exactly n identical battles, for every method.
    weight: a frequency weight: a row of weight w counts as w battles in the fit, the bootstrap and
      battles/wins/losses/ties (a strong verdict = weight 3; a probability p = rows of weight p and 1-p).
      Non-integer weights make the counts weighted sums (the output says so).
    Elo runs count n as n battles and weight w as updates of total step K*w (one K*w step when w <= 1,
    else ceil(w) steps); it refuses non-integer counts (use --method bt). Rows where a model meets
    itself are dropped with a note.
    """
    from pydantic import ValidationError

    from arena.rating import RatingSettings, compute_leaderboard
    from arena.rating.report import format_leaderboard
    from arena.store import write_text_atomic

    columns = parse_mapping(mapping, "--map")
    labels = parse_mapping(winner_labels, "--winner-labels")
    try:
        settings = RatingSettings.model_validate(
            {
                "method": method,
                "bootstrap": bootstrap,
                "anchor": _parse_anchor(anchor),
                "resample": resample,
                "ci": ci,
                "ties": ties,
                "reweight": reweight,
                "style_control": style_control,
                "seed": seed,
                "elo": {"k": k, "order": elo_order},
            }
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        option = _OPTIONS.get(where, "--" + where.replace("_", "-"))
        raise UserError(f"{option + ': ' if where else ''}{err['msg'].removeprefix('Value error, ')}") from None
    frame = read_battles(battles_file, columns=columns, winner_labels=labels)
    result = compute_leaderboard(frame, settings, baseline=baseline)
    text = format_leaderboard(result, fmt)  # type: ignore[arg-type]
    if out is None:
        click.echo(text, nl=False)
    else:
        write_text_atomic(out, text)
        click.echo(f"wrote {out} ({len(result.rows)} models)", err=True)
