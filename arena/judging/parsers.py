"""Verdict formats: how a judge is told to write its verdict, and how the reply is read back.

A format is one :class:`VerdictFormat` subclass registered by name (:func:`register_format`); a prompt
set's ``judge.yaml`` names one per kind (``parsers: {pairwise: brackets-abc, single: brackets-rating}``).
Every shipped format takes the *last* verdict token in the reply (judges often quote the format before
answering), tries its fallback patterns in order, and reports a failure as ``error``: a reply that
cannot be read is never a win, a tie or a score.

The shipped formats read the prompts of FastChat's llm_judge (``brackets-abc``, ``brackets-rating``) and
arena-hard-auto (``brackets-five``). Where they read a reply differently from those tools' own parsing
code, each class's docstring says how; ``tests/judging/test_parsers_reference.py`` pins every such case.
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


# Nothing but closing markup or punctuation up to the end of the line. A fallback verdict must end its line,
# so that citation marks ("see [B] below"), code ("arr[A]") and prose ("A tie.") are not read as verdicts.
_EOL = r"""[\s*_"'`).!\u201d\u2019]*$"""
_ABC = [re.compile(r"\[\[\s*([ABC])\s*\]\]"),
        re.compile(r"(?m)(?:^|(?i:verdict)\b[^\n\[]{0,40}?)[\s*_\"'`(>\u201c\u2018]*\[\s*([ABC])\s*\](?=" + _EOL + ")"),
        re.compile(r"(?m)(?i:final\s+verdict)(?:\s+(?i:is))?\s*[:\-]?\s*[*_]*\s*(?:(?i:assistant)\s+)?([ABC])"
                   r"(?=[*_]*\s+(?i:is)\s+(?:(?i:slightly|significantly|much|clearly)\s+)?(?i:better)\b|" + _EOL + ")")]
_ABC_MAP = {"A": "A>B", "B": "B>A", "C": "A=B"}


class BracketsAbc(VerdictFormat):
    """FastChat pairwise: ``[[A]]``, ``[[B]]``, ``[[C]]`` (tie); fallbacks ``[A]`` and "final verdict: A".

    Differences from FastChat's ``run_judge_pair`` (which tests ``"[[A]]" in reply``, then ``[[B]]``, then
    ``[[C]]``, and reads nothing else), all deliberate:

    * the *last* tag wins: FastChat reads ``[[A]]`` wherever it occurs, so a judge that quotes the format
      ("[[A]] if assistant A is better, ...") before writing ``[[C]]`` gives a win for A there;
    * spaces inside the brackets are read (``[[ B ]]``);
    * when there is no ``[[X]]``, two fallbacks FastChat does not have, each only where it ends its line, so
      that citation marks, code and prose are not read: ``[X]`` alone on its line or after "verdict"
      (``My final verdict is: [B]``), then "final verdict: [Assistant] X" ending its line or followed by
      "is better" (``Final verdict: **B**``). The letter must be upper case, as in FastChat: "my final
      verdict is a tie" is an error, not a win for A.
    """

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


# Bracketed text that arena-hard-auto takes for a label: only A, B, <, >, = (arena also allows spaces).
_FIVE_TOKENS = [re.compile(r"\[\[([^\[\]\n]*)\]\]"), re.compile(r"\[([^\[\]\n]*)\]")]
_FIVE_CHARS = re.compile(r"[AB<>=]+")
_FIVE_PROSE = re.compile(r"(?i:final\s+verdict)[^\n]*?\b([AB]\s*(?:>>|>|=|<<|<)\s*[AB])")


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


def _five_label(text: str) -> tuple[str, bool] | None:
    """The last label arena-hard would take: from ``[[...]]``, else from ``[...]``; with its bracket kind.

    Upper-cased, spaces removed; None when the reply has no bracketed ``A``/``B``/``<``/``>``/``=`` text.
    """
    for double, pat in zip((True, False), _FIVE_TOKENS, strict=True):
        labels = [s for s in (re.sub(r"\s+", "", m.upper()) for m in pat.findall(text)) if _FIVE_CHARS.fullmatch(s)]
        if labels:
            return labels[-1], double
    return None


class BracketsFive(VerdictFormat):
    """Arena-hard five-level labels ``[[A>>B]] [[A>B]] [[A=B]] [[B>A]] [[B>>A]]`` (``<`` forms accepted).

    As arena-hard-auto's ``get_score``: the reply is read upper-cased, the last ``[[label]]`` of ``A``, ``B``,
    ``<``, ``>``, ``=`` decides (else the last ``[label]``), and a label that is no verdict (``[[A>A]]``,
    ``[[A>=B]]``) is an error, never a step back to an earlier one (which would be the last option a judge
    quoted). Deliberate differences, where arena-hard records no verdict:

    * spaces inside the brackets are read (``[[ A > B ]]``), so a spaced label that is no verdict
      (``[[ AB ]]``) is the last label, an error, where arena-hard skips it for an earlier one;
    * a plain ``[[A]]`` / ``[[B]]`` (a common slip of weaker judges) is the slight verdict, and ``[[C]]``,
      when there is no label at all, a tie;
    * with no bracketed label, "final verdict ... A>B" on one line (upper-case letters) is read.
    """

    name = "brackets-five"
    labels = tuple(VERDICTS)
    instruction = 'Output only your final verdict: "[[A>>B]]", "[[A>B]]", "[[A=B]]", "[[B>A]]" or "[[B>>A]]".'

    def parse(self, text: str) -> Parsed:
        found = _five_label(text)
        if found is not None:
            label, double = found
            verdict = normalise_five(label)
            if verdict is None and double and label in ("A", "B"):
                verdict = _ABC_MAP[label]
            if verdict is None:
                bracket = "[[{}]]" if double else "[{}]"
                return Parsed(error=f"last verdict label {bracket.format(label)} is not one of [[A>>B]] ... [[B>>A]]")
            return Parsed(verdict=verdict)
        prose = _FIVE_PROSE.findall(text)
        if prose:
            verdict = normalise_five(prose[-1])
            if verdict is None:
                return Parsed(error=f"final verdict {prose[-1]!r} is not one of A>>B ... B>>A")
            return Parsed(verdict=verdict)
        if _last(_ABC[:1], text):
            return BracketsAbc().parse(text)
        return Parsed(error="no verdict ([[A>>B]] ... [[B>>A]]) in the reply")

    def format(self, verdict: str) -> str:
        return f"[[{verdict}]]"


# ASCII digits only: float() would read other scripts' digits, which FastChat's literal_eval refuses.
_NUMBER = r"([0-9]+\.?[0-9]*)"
_RATING = [re.compile(r"\[\[\s*" + _NUMBER + r"\s*\]\]"), re.compile(r"\[\s*" + _NUMBER + r"\s*\]")]


class BracketsRating(VerdictFormat):
    """FastChat single grading: ``[[N]]`` with N from ``low`` to ``high``; fallbacks ``[N]``, ``Rating: N``.

    The shipped ``brackets-rating`` is 1 to 10; register another instance (its own name, whole-number
    bounds) for another scale. Numbers as FastChat's ``one_score_pattern`` reads them (``7``, ``7.5``,
    ``7.``). Deliberate differences from its ``run_judge_single``:

    * the *last* ``[[N]]`` wins (FastChat takes the first: the example "Rating: [[5]]" a judge quoted);
    * a rating outside ``low``-``high`` is an error (FastChat keeps ``[[0]]`` or ``[[11]]`` and averages it);
    * spaces inside the brackets and leading zeros are read (``[[ 7 ]]``, ``[[07]]``: FastChat skips the first
      and fails on the second);
    * with no ``[[N]]`` nor ``[N]``, "Rating: N" is read where N ends its line or is written ``N/high`` or
      ``N out of high`` (FastChat reads none).
    """

    def __init__(self, name: str = "brackets-rating", low: int = 1, high: int = 10) -> None:
        self.name, self.low, self.high = name, low, high
        self.labels = tuple(str(i) for i in range(low, high + 1))
        self.instruction = f'Output only your rating from {low} to {high}, in the form "[[rating]]".'
        self._patterns = [*_RATING, re.compile(
            r"(?m)(?i:rating)\s*[:=]?\s*[*_]*\s*" + _NUMBER
            + rf"(?=[*_]*\s*(?:/\s*{high}|(?i:out\s+of)\s+{high})?{_EOL})")]

    def parse(self, text: str) -> Parsed:
        hit = _last(self._patterns, text)
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
