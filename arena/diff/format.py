"""Render a :class:`~arena.diff.diff.RunDiff` as a text table, Markdown or JSON."""

from __future__ import annotations

import json
from typing import Literal

from arena.diff.diff import Change, Delta, ModelDiff, RunDiff
from arena.diff.settings import show
from arena.text import md_escape

Format = Literal["table", "json", "md"]


def _value(change: Change, side: str) -> str:
    present = change.in_a if side == "a" else change.in_b
    if not present:
        return "(absent)"
    value = change.a if side == "a" else change.b
    if change.setting == "ids" and isinstance(value, dict):
        other = "B" if side == "a" else "A"
        shown = ", ".join(value["only_here"]) + (", ..." if value["only_here_count"] > len(value["only_here"]) else "")
        return f"{value['count']} questions; {value['only_here_count']} not in {other}" + (f": {shown}" if shown else "")
    return show(value)


def _num(x: float | None, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _delta(d: Delta, digits: int) -> str:
    if d.delta is None:
        return "-"
    text = f"{d.delta:+.{digits}f}"
    if d.low is not None and d.high is not None:
        text += f" [{d.low:+.{digits}f}, {d.high:+.{digits}f}]"
    return text


def verdict(m: ModelDiff) -> str:
    """Whether the model's rating moved by more than its intervals (and the noise floor) explain."""
    if m.only_in is not None:
        return f"only in {m.only_in.upper()}"
    d = m.rating
    if d.delta is None:
        return "no rating"
    if d.beyond_intervals is None:
        return "no interval"
    if d.beyond_noise is not None:
        if d.beyond_noise:
            return "beyond intervals and noise"
        return "within noise floor" if d.beyond_intervals else "within intervals"
    return "beyond intervals" if d.beyond_intervals else "within intervals"


def _rank(m: ModelDiff) -> str:
    a, b = m.rank_a, m.rank_b
    if a == b:
        return "-" if a is None else str(a)
    if a is None or b is None:
        return f"{a if a is not None else '-'} -> {b if b is not None else '-'}"
    return f"{a} -> {b} ({b - a:+d})"


def _rows(d: RunDiff) -> tuple[list[list[str]], list[list[str]]]:
    settings = [[c.group, c.subject, c.setting, _value(c, "a"), _value(c, "b")] for c in d.changes]
    numbers = [[m.model, _num(m.rating.a, 1), _num(m.rating.b, 1), _delta(m.rating, 1), _rank(m),
                _num(m.win_rate.a, 3), _num(m.win_rate.b, 3), _delta(m.win_rate, 3), verdict(m)]
               for m in d.models]
    return settings, numbers


_SETTING_HEAD = ["group", "subject", "setting", "A", "B"]
_NUMBER_HEAD = ["model", "rating A", "rating B", "delta [95%]", "rank", "win A", "win B", "delta [95%]", "verdict"]


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _table(head: list[str], rows: list[list[str]]) -> str:
    rows = [[_clip(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _md(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(md_escape(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(md_escape(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _noise_line(d: RunDiff) -> str:
    if d.noise_repeats is None:
        return "noise floor: unknown (arena repeat -c CONFIG N measures one)"
    return f"noise floor: from {d.noise_repeats} repeats (repeats/noise.json)"


def render(d: RunDiff, fmt: Format = "table") -> str:
    """The diff as ``table`` (terminal), ``md`` or ``json`` (:meth:`RunDiff.to_dict`)."""
    if fmt == "json":
        return json.dumps(d.to_dict(), indent=2, default=str)
    settings, numbers = _rows(d)
    grid = _md if fmt == "md" else _table
    title = "## " if fmt == "md" else ""
    parts = [f"{title}arena diff\nA: {d.run_a}\nB: {d.run_b}"]
    if settings:
        parts.append(f"{title}Settings that differ ({len(settings)})\n" + grid(_SETTING_HEAD, settings))
    else:
        parts.append(f"{title}Settings: identical")
    if numbers:
        parts.append(f"{title}Numbers (B - A)\n" + grid(_NUMBER_HEAD, numbers) + "\n" + _noise_line(d))
    parts.extend(f"note: {n}" for n in d.notes)
    return "\n\n".join(parts) + "\n"
