"""Verdict formats: how a judge is told to write its verdict, and how the reply is read back.

A format is one :class:`VerdictFormat` subclass registered by name (:func:`register_format`); a prompt
set's ``judge.yaml`` names one per kind (``parsers: {pairwise: brackets-abc, single: brackets-rating}``).
Every shipped format takes the *last* verdict token in the reply (judges often quote the format before
answering), tries its fallback patterns in order, and reports a failure as ``error``: a reply that
cannot be read is never a win, a tie or a score.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from arena.errors import UserError, unknown_name
from arena.records import VERDICTS


@dataclass(frozen=True)
class Parsed:
    """What a parser read: a pairwise verdict, a score, or an error."""

    verdict: str | None = None
    score: float | None = None
    error: str | None = None


class VerdictFormat(ABC):
    """One way of writing a verdict: its labels, the instruction that asks for it, its parser.

    Attributes:
        name: the name a prompt set's ``judge.yaml`` uses.
        labels: the labels a judge writes between ``[[`` and ``]]`` (``A``, ``A>>B``, ``7``); the
            ``judge.verdict: logprobs`` path scores exactly these. Empty when the format has none.
        instruction: appended to the judge's last message when only the verdict is asked for (logprobs).
    """

    name: str
    labels: tuple[str, ...] = ()
    instruction: str = ""

    @abstractmethod
    def parse(self, text: str) -> Parsed:
        """Read a judge reply; an unreadable one is ``Parsed(error=...)``, never a verdict."""

    @abstractmethod
    def format(self, verdict: str) -> str:
        """How ``verdict`` is written in this format (the fake judge answers with it).

        ``verdict`` is one of :data:`~arena.records.VERDICTS` for a pairwise format, a score label (one
        of :attr:`labels`) for a score format.
        """


def _last(patterns: list[re.Pattern[str]], text: str) -> tuple[str, int] | None:
    """Last match of the first pattern that matches at all (patterns are in order of preference)."""
    for pat in patterns:
        found = pat.findall(text)
        if found:
            return found[-1].strip(), patterns.index(pat)
    return None


_ABC = [re.compile(r"\[\[\s*([ABC])\s*\]\]"), re.compile(r"\[\s*([ABC])\s*\]"),
        re.compile(r"(?i)final verdict\s*(?:is)?\s*[:\-]?\s*\**\s*(?:assistant\s+)?([ABC])\b")]
_ABC_MAP = {"A": "A>B", "B": "B>A", "C": "A=B"}


class BracketsAbc(VerdictFormat):
    """FastChat pairwise: ``[[A]]``, ``[[B]]``, ``[[C]]`` (tie); fallbacks ``[A]`` and "final verdict: A"."""

    name = "brackets-abc"
    labels = ("A", "B", "C")
    instruction = 'Output only your final verdict: "[[A]]", "[[B]]" or "[[C]]".'
    _written = {"A>>B": "[[A]]", "A>B": "[[A]]", "A=B": "[[C]]", "B>A": "[[B]]", "B>>A": "[[B]]"}

    def parse(self, text: str) -> Parsed:
        hit = _last(_ABC, text)
        if hit is None:
            return Parsed(error="no verdict ([[A]], [[B]] or [[C]]) in the reply")
        return Parsed(verdict=_ABC_MAP[hit[0]])

    def format(self, verdict: str) -> str:
        return self._written[verdict]


_FIVE = [re.compile(r"\[\[\s*([AB]\s*(?:>>|>|=|<<|<)\s*[AB])\s*\]\]"),
         re.compile(r"\[\s*([AB]\s*(?:>>|>|=|<<|<)\s*[AB])\s*\]"),
         re.compile(r"(?i)final verdict[^\n]*?\b([AB]\s*(?:>>|>|=|<<|<)\s*[AB])")]


def normalise_five(label: str) -> str | None:
    """Map ``A>>B``, ``B<A``, ``B=A`` ... onto :data:`~arena.records.VERDICTS`; None if impossible."""
    s = re.sub(r"\s+", "", label)
    m = re.fullmatch(r"([AB])(>>|>|=|<<|<)([AB])", s)
    if not m or m.group(1) == m.group(3):
        return None
    left, op, right = m.groups()
    if op == "=":
        return "A=B"
    if op in ("<", "<<"):
        left, right, op = right, left, op.replace("<", ">")
    out = f"{left}{op}{right}"
    return out if out in VERDICTS else None


class BracketsFive(VerdictFormat):
    """Arena-hard five-level labels ``[[A>>B]] [[A>B]] [[A=B]] [[B>A]] [[B>>A]]`` (``<`` forms accepted)."""

    name = "brackets-five"
    labels = tuple(VERDICTS)
    instruction = 'Output only your final verdict: "[[A>>B]]", "[[A>B]]", "[[A=B]]", "[[B>A]]" or "[[B>>A]]".'

    def parse(self, text: str) -> Parsed:
        for pat in _FIVE:
            for label in reversed(pat.findall(text)):
                v = normalise_five(label)
                if v is not None:
                    return Parsed(verdict=v)
        # A plain [[A]]/[[B]]/[[C]] is a common slip of weaker judges; accept it as the slight verdict.
        if _last(_ABC[:1], text):
            return BracketsAbc().parse(text)
        return Parsed(error="no verdict ([[A>>B]] ... [[B>>A]]) in the reply")

    def format(self, verdict: str) -> str:
        return f"[[{verdict}]]"


_RATING = [re.compile(r"\[\[\s*(\d+(?:\.\d+)?)\s*\]\]"), re.compile(r"\[\s*(\d+(?:\.\d+)?)\s*\]"),
           re.compile(r"(?i)rating\s*[:=]?\s*\**\s*(\d+(?:\.\d+)?)")]


class BracketsRating(VerdictFormat):
    """FastChat single grading: ``[[N]]`` with N from ``low`` to ``high``; fallbacks ``[N]``, ``Rating: N``.

    The shipped ``brackets-rating`` is 1 to 10; register another instance (its own name, whole-number
    bounds) for another scale.
    """

    def __init__(self, name: str = "brackets-rating", low: int = 1, high: int = 10) -> None:
        self.name, self.low, self.high = name, low, high
        self.labels = tuple(str(i) for i in range(low, high + 1))
        self.instruction = f'Output only your rating from {low} to {high}, in the form "[[rating]]".'

    def parse(self, text: str) -> Parsed:
        hit = _last(_RATING, text)
        if hit is None:
            return Parsed(error="no rating ([[N]]) in the reply")
        value = float(hit[0])
        if not self.low <= value <= self.high:
            return Parsed(error=f"rating {hit[0]} is outside {self.low:g}-{self.high:g}")
        return Parsed(score=value)

    def format(self, verdict: str) -> str:
        return f"[[{verdict}]]"


_FORMATS: dict[str, VerdictFormat] = {}


def register_format(fmt: VerdictFormat, *, replace: bool = False) -> VerdictFormat:
    """Make ``fmt`` available by its name to prompt sets; returns it.

    Raises:
        UserError: Another format already has that name (pass ``replace=True`` to override it).
    """
    if fmt.name in _FORMATS and not replace and _FORMATS[fmt.name] is not fmt:
        raise UserError(f"verdict format '{fmt.name}' is already registered ({type(_FORMATS[fmt.name]).__name__}); "
                        "pick another name or pass replace=True")
    _FORMATS[fmt.name] = fmt
    return fmt


def available_formats() -> list[str]:
    """Names of the registered verdict formats, sorted."""
    return sorted(_FORMATS)


def get_format(name: str) -> VerdictFormat:
    """The verdict format registered as ``name``.

    Raises:
        UserError: No such format ("Did you mean ...? Available: ...").
    """
    try:
        return _FORMATS[name]
    except KeyError:
        raise UserError(unknown_name("verdict parser", name, available_formats())) from None


register_format(BracketsAbc())
register_format(BracketsFive())
register_format(BracketsRating())
