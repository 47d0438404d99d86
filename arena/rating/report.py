"""Leaderboard output: text table, JSON rows, CSV, Markdown, the run-dir files, and a rich table."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from arena.errors import UserError
from arena.rating.leaderboard import LeaderboardResult
from arena.store import write_text_atomic
from arena.text import md_escape, md_unescape

Format = Literal["table", "json", "csv", "md"]
FORMATS: tuple[str, ...] = ("table", "json", "csv", "md")

_BASE_COLUMNS = [
    "rank",
    "model",
    "rating",
    "ci_low",
    "ci_high",
    "rank_low",
    "rank_high",
    "battles",
    "wins",
    "losses",
    "ties",
]
_OPTIONAL_COLUMNS = ["win_rate", "win_rate_low", "win_rate_high", "score", "score_low", "score_high"]
_SINGLE_COLUMNS = ["rank", "model", "score", "score_low", "score_high", *_BASE_COLUMNS[2:]]
"""Single mode (MT-Bench's convention): the mean score and its interval lead; the implied rating follows."""


def is_single(result: LeaderboardResult) -> bool:
    """Whether the leaderboard is single-mode: ordered and ranked by mean score."""
    return result.method == "single" or any(row.get("score") is not None for row in result.rows)


def columns(result: LeaderboardResult) -> list[str]:
    """Columns to show: the base ones (score first in single mode), the optional ones any row has, then
    any other keys in row order."""
    keys: list[str] = []
    for row in result.rows:
        keys.extend(k for k in row if k not in keys)
    base = _SINGLE_COLUMNS if is_single(result) else _BASE_COLUMNS
    cols = [c for c in base if c in keys] + [c for c in _OPTIONAL_COLUMNS if c in keys and c not in base]
    return cols + [k for k in keys if k not in cols]


def _cell(value: Any, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if column.startswith(("win_rate",)):
            return f"{100 * value:.1f}%"
        if column.startswith("score"):
            return f"{value:.2f}"
        if column in ("battles", "wins", "losses", "ties") and not value.is_integer():
            return f"{value:.2f}".rstrip("0").rstrip(".")  # weighted counts
        return (
            f"{value:.1f}"
            if not value.is_integer() or column.startswith(("rating", "ci_"))
            else str(int(value))
        )
    return str(value)


def _ci(row: dict[str, Any], key: str, low: str, high: str, bounds: bool = True) -> str:
    if not bounds and row.get(key) is not None:  # no interval was computed: the value alone
        return f"{100 * row[key]:.1f}%" if key == "win_rate" else f"{row[key]:.0f}"
    if row.get(key) is None or row.get(low) is None or row.get(high) is None:
        return ""
    if key == "win_rate":
        return f"{100 * row[key]:.1f}% ({100 * row[low]:.1f} to {100 * row[high]:.1f})"
    if key == "score":
        return f"{row[key]:.2f} ({row[low]:.2f} to {row[high]:.2f})"
    # max(0, ...): an interval that ends at the point itself must not print as "--0" from rounding noise.
    return f"{row[key]:.0f} (+{max(0.0, row[high] - row[key]):.0f}/-{max(0.0, row[key] - row[low]):.0f})"


def ci_label(confidence: float) -> str:
    """The interval column's name at this confidence level: ``95% CI``, ``90% CI``."""
    return f"{100 * confidence:g}% CI"


def _ci_label(result: LeaderboardResult) -> str:
    return ci_label(result.settings.confidence)


def _computed(result: LeaderboardResult) -> bool:
    """False when no interval was computed (0 bootstrap rounds, or resamples all alike): every output then shows
    values alone, with no interval and no rank range."""
    return result.extras.get("ci") != "none"


def _rank_cell(row: dict[str, Any], bounds: bool) -> str:
    """``rank`` alone, or ``rank-rank_high`` where the intervals leave a range."""
    high = row.get("rank_high", row["rank"])
    return str(row["rank"]) if high == row["rank"] or not bounds else f"{row['rank']}-{high}"


def _display(result: LeaderboardResult) -> tuple[list[str], list[list[str]]]:
    """Human-facing columns: interval columns folded into one ``value (+up/-down)`` cell.

    Single mode leads with the mean score and its interval; the rating the battles imply follows it
    when there are battles, and the battle columns are left out when there are none.
    """
    has = set(columns(result))
    single = is_single(result)
    bounds = _computed(result)
    ci = _ci_label(result) if bounds else "no CI"
    with_battles = not single or any(row.get("battles") for row in result.rows)
    header = ["rank", "model"]
    if single:
        header.append(f"score ({ci})")
        if with_battles:
            header.append(f"implied rating ({ci})")
    else:
        header.append(f"rating ({ci})")
    if with_battles:
        header += ["battles", "W/L/T"]
    if "win_rate" in has:
        header.append("win rate vs baseline")
    if "score" in has and not single:
        header.append("score")
    body = []
    for row in result.rows:
        line = [_rank_cell(row, bounds), str(row["model"])]
        if single:
            line.append(_ci(row, "score", "score_low", "score_high"))
        if with_battles:
            line.append(_ci(row, "rating", "ci_low", "ci_high", bounds))
            line.append(_cell(row.get("battles"), "battles"))
            line.append(
                f"{_cell(row.get('wins'), 'wins')}/{_cell(row.get('losses'), 'losses')}/"
                f"{_cell(row.get('ties'), 'ties')}"
            )
        if "win_rate" in has:
            line.append(_ci(row, "win_rate", "win_rate_low", "win_rate_high", bounds))
        if "score" in has and not single:
            line.append(_ci(row, "score", "score_low", "score_high"))
        body.append(line)
    return header, body


def _text_table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    left = {1}

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in body]
    return "\n".join(lines) + "\n"


def _markdown(header: list[str], body: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(md_escape(h) for h in header) + " |",
        "|" + "|".join("---:" if i != 1 else ":---" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(md_escape(c) for c in r) + " |" for r in body]
    return "\n".join(lines) + "\n"


def _csv(result: LeaderboardResult) -> str:
    cols = columns(result)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in result.rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in cols})
    return buf.getvalue()


def _style_line(result: LeaderboardResult) -> str:
    """One line with the style-control coefficients and their intervals, when they were fitted."""
    style = result.extras.get("style") or {}
    if not style.get("features"):
        return ""
    bounds = _computed(result)
    parts = [
        f"{name} {coef:+.3f}" + (f" ({low:+.3f} to {high:+.3f})" if bounds else "")
        for name, coef, low, high in zip(
            style["features"], style["coefficients"], style["coef_low"], style["coef_high"], strict=True
        )
    ]
    return "style control coefficients (log-odds per sd of the normalised difference): " + ", ".join(parts)


def _model_line(result: LeaderboardResult) -> str:
    """One line naming the tie model (with its fitted parameters), the interval type and any reweighting."""
    ties = result.extras.get("ties") or {}
    if not ties:
        return ""
    params = ", ".join(f"{k} {v:.3g}" for k, v in ties.items() if k != "model" and v is not None)
    line = f"ties: {ties['model']}" + (f" ({params})" if params else "")
    interval = result.extras.get("ci", result.settings.ci)
    line += f"; intervals: {interval}" + (f" ({result.extras.get('ci_none', '0 bootstrap rounds')})"
                                          if interval == "none" else "")
    if result.settings.reweight != "none":
        line += f"; reweight: {result.settings.reweight}"
    return line


STYLE_TITLE = "With style control (answer length and markdown held equal, as Chatbot Arena's style control)"
UNADJUSTED_TITLE = "Without style control"
"""The names of the two leaderboards of a style-controlled rating, in every output (text, Markdown, browser)."""


def style_rows(extras: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The style-controlled ratings of a result's ``extras`` (``extras["style"]["rows"]``), best first (a stable
    sort on the rating), each with ``rank`` and ``rank_high`` from the intervals as the main table's ranks: the
    rows every output shows (text, Markdown, the browser). Empty when style control was not fitted."""
    from arena.rating.bootstrap import rank_bounds

    rows = sorted((extras.get("style") or {}).get("rows") or [], key=lambda r: -float(r["rating"]))
    if not rows:
        return []
    best, worst = rank_bounds(np.array([r["ci_low"] for r in rows], dtype=float),
                              np.array([r["ci_high"] for r in rows], dtype=float))
    return [{**r, "rank": int(b), "rank_high": int(w)} for r, b, w in zip(rows, best, worst, strict=True)]


def _style_display(result: LeaderboardResult) -> tuple[list[str], list[list[str]]] | None:
    """The style-controlled ratings (:func:`style_rows`) as ``rank, model, rating (CI)``; None when style control
    was not fitted."""
    rows = style_rows(result.extras)
    if not rows:
        return None
    bounds = _computed(result)
    body = [[_rank_cell(r, bounds), str(r["model"]), _ci(r, "rating", "ci_low", "ci_high", bounds)] for r in rows]
    return ["rank", "model", f"rating ({_ci_label(result) if bounds else 'no CI'})"], body


_MD_NOTE = "> note: "
"""How :func:`format_leaderboard` starts each warning in Markdown (``fmt="md"``)."""


def format_leaderboard(result: LeaderboardResult, fmt: Format = "table") -> str:
    """Render a leaderboard.

    Args:
        result: from :func:`~arena.rating.compute_leaderboard`.
        fmt: ``table`` (aligned plain text), ``json`` (exactly the rows list of ``leaderboard.json``),
            ``csv`` (one column per row key) or ``md`` (Markdown table).
    """
    if fmt == "json":
        return json.dumps(result.rows, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(result)
    if fmt in ("table", "md"):
        header, body = _display(result)
        text = _text_table(header, body) if fmt == "table" else _markdown(header, body)
        style = _style_display(result)
        if style is not None:  # both leaderboards, each named
            render = _text_table(*style) if fmt == "table" else _markdown(*style)
            text = f"{UNADJUSTED_TITLE}:\n\n{text}\n{STYLE_TITLE}:\n\n{render}"
        for line in (_model_line(result), _style_line(result)):
            if line:
                text += "\n" + line + "\n"
        if result.warnings:
            notes = [f"note: {w}" for w in result.warnings] if fmt == "table" else [
                _MD_NOTE + md_escape(w, newlines=True) for w in result.warnings]
            text += "\n" + "\n".join(notes) + "\n"
        return text
    raise UserError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def read_notes(markdown: str) -> list[str]:
    """The warnings a Markdown leaderboard of :func:`format_leaderboard` (``leaderboard.md``) ends with, as
    they were in ``result.warnings``: the inverse of its ``md`` writer, so the browser shows a run's notes
    without rating it again.

    The notes are the file's last block: a blank line, then one ``> note: `` line per warning, its Markdown
    escaped (:func:`arena.text.md_escape`, so a model named ``*e*`` is drawn as written). A warning
    may hold newlines (a model name with one): the lines after a note line that do not start with
    ``> note: `` belong to it. A line of a warning that itself starts with ``> note: ``, or a model name holding
    a blank line followed by ``> note: ``, cannot be told apart from the writer's own and reads differently.
    Give the text as written (not with newlines translated: a warning may hold a ``\\r``).

    Returns:
        The warnings in order; ``[]`` when the text has none (a leaderboard without warnings, or text not
        written by :func:`format_leaderboard`).
    """
    start = markdown.find("\n\n" + _MD_NOTE)
    if start < 0:
        return []
    block = markdown[start + 2 + len(_MD_NOTE):]
    block = block.removesuffix("\n")  # the writer ends the file with one newline after the last note
    return [md_unescape(note) for note in block.split("\n" + _MD_NOTE)]


def write_leaderboard_files(result: LeaderboardResult, run_dir: Path | str) -> list[Path]:
    """Write ``leaderboard.json`` (the rows), ``leaderboard.csv`` and ``leaderboard.md`` atomically.

    Returns:
        The paths written.
    """
    root = Path(run_dir)
    paths = []
    for name, fmt in (("leaderboard.json", "json"), ("leaderboard.csv", "csv"), ("leaderboard.md", "md")):
        path = root / name
        write_text_atomic(path, format_leaderboard(result, fmt))  # type: ignore[arg-type]
        paths.append(path)
    return paths


def print_leaderboard(result: LeaderboardResult, console: Any = None) -> None:
    """Print the leaderboard as a rich table (``console``: a ``rich.console.Console``; default stdout)."""
    from rich.console import Console
    from rich.table import Table

    def show(title: str, header: list[str], body: list[list[str]]) -> None:
        table = Table(title=title)
        for i, h in enumerate(header):
            table.add_column(h, justify="left" if i == 1 else "right")
        for r in body:
            table.add_row(*r)
        console.print(table)

    console = console or Console()
    style = _style_display(result)
    show(f"Leaderboard ({result.method}{', ' + UNADJUSTED_TITLE.lower() if style else ''})", *_display(result))
    if style is not None:
        show(STYLE_TITLE, *style)
    for w in result.warnings:
        console.print(f"[yellow]note:[/] {w}")
