"""Table-driven verdict parser tests: well-formed, fallbacks, last mention wins, failures never a win."""

from __future__ import annotations

import pytest

from arena.judging.parsers import get_format, normalise_five
from arena.records import VERDICTS

ABC = [
    ("[[A]]", "A>B"),
    ("My final verdict is [[B]]", "B>A"),
    ("[[C]]", "A=B"),
    ("[[ A ]]", "A>B"),
    ('Format: "[[A]]" if A is better, "[[B]]" if B. Verdict: [[B]]', "B>A"),  # last mention wins
    ("First I thought [[A]] but on reflection [[C]]", "A=B"),
    ("[A]", "A>B"),  # fallback: single brackets
    ("Final verdict: B", "B>A"),  # fallback: prose
    ("final verdict is **A**", "A>B"),
    ("[[B]] ... [A]", "B>A"),  # a preferred pattern beats a later fallback match
]
ABC_FAIL = ["", "Both are good.", "[[D]]", "Assistant A is better", "[[AB]]"]


@pytest.mark.parametrize(("text", "verdict"), ABC)
def test_abc(text: str, verdict: str) -> None:
    parsed = get_format("brackets-abc").parse(text)
    assert parsed.error is None
    assert parsed.verdict == verdict


@pytest.mark.parametrize("text", ABC_FAIL)
def test_abc_unparsable_is_an_error_never_a_win(text: str) -> None:
    parsed = get_format("brackets-abc").parse(text)
    assert parsed.error is not None
    assert parsed.verdict is None and parsed.score is None


FIVE = [
    ("[[A>>B]]", "A>>B"),
    ("[[A>B]]", "A>B"),
    ("[[A=B]]", "A=B"),
    ("[[B>A]]", "B>A"),
    ("[[B>>A]]", "B>>A"),
    ("[[B<A]]", "A>B"),
    ("[[A<<B]]", "B>>A"),
    ("[[B=A]]", "A=B"),
    ("[[ A > B ]]", "A>B"),
    ("Options: [[A>>B]] [[A>B]] [[A=B]] [[B>A]] [[B>>A]]. My final verdict is: [[B>A]]", "B>A"),
    ("[A>>B]", "A>>B"),
    ("My final verdict is A>B.", "A>B"),
    ("[[A]]", "A>B"),  # weak judges' slip: accepted as the slight verdict
]
FIVE_FAIL = ["", "A is better than B", "[[A>A]]", "[[C>D]]", "[[B>>A]] then garbage [[A>A]]"]  # the last label decides


@pytest.mark.parametrize(("text", "verdict"), FIVE)
def test_five(text: str, verdict: str) -> None:
    parsed = get_format("brackets-five").parse(text)
    assert parsed.error is None, parsed.error
    assert parsed.verdict == verdict


@pytest.mark.parametrize("text", FIVE_FAIL)
def test_five_unparsable(text: str) -> None:
    parsed = get_format("brackets-five").parse(text)
    assert parsed.error is not None and parsed.verdict is None


RATING = [
    ("Rating: [[7]]", 7.0),
    ("[[10]]", 10.0),
    ("[[1]]", 1.0),
    ("[[8.5]]", 8.5),
    ("scale [[1]] to [[10]]; my rating: [[4]]", 4.0),
    ("[6]", 6.0),
    ("Rating: 9", 9.0),
]
RATING_FAIL = [("", "no rating"), ("Good answer.", "no rating"), ("[[11]]", "outside"), ("[[0]]", "outside"),
               ("[[7]] then [[42]]", "outside")]


@pytest.mark.parametrize(("text", "score"), RATING)
def test_rating(text: str, score: float) -> None:
    parsed = get_format("brackets-rating").parse(text)
    assert parsed.error is None and parsed.score == score and parsed.verdict is None


@pytest.mark.parametrize(("text", "message"), RATING_FAIL)
def test_rating_failures(text: str, message: str) -> None:
    parsed = get_format("brackets-rating").parse(text)
    assert parsed.score is None and parsed.error is not None and message in parsed.error


@pytest.mark.parametrize("parser", ["brackets-abc", "brackets-five"])
@pytest.mark.parametrize("verdict", VERDICTS)
def test_formats_round_trip(parser: str, verdict: str) -> None:
    fmt = get_format(parser)
    parsed = fmt.parse(f"My final verdict is {fmt.format(verdict)}")
    expected = verdict if parser == "brackets-five" else verdict.replace(">>", ">")
    assert parsed.verdict == expected


def test_normalise_five_rejects_self_comparisons() -> None:
    assert normalise_five("A>A") is None
    assert normalise_five("B << A") == "A>>B"


def test_unknown_parser_suggests() -> None:
    from arena.errors import UserError

    with pytest.raises(UserError, match="Did you mean 'brackets-abc'"):
        get_format("brackets-ab")
