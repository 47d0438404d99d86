"""Verdict parsers against the tools whose prompts they read: FastChat llm_judge and arena-hard-auto.

Found by a differential fuzz (thousands of generated judge replies, arena's parser against the reference's
own parsing code: FastChat ``fastchat/llm_judge/common.py`` @0e6d3e4beaab run_judge_pair/run_judge_single,
arena-hard-auto ``gen_judgment.py`` get_score + ``show_result.py`` label_to_score @196f6b826783).

``BUGS``: replies where arena read a verdict the reference does not (or crashed, or missed one the reference
reads) and the reference is right; each row failed before its fix. ``DELIBERATE``: differences arena keeps on
purpose, as the parsers' docstrings say; each row names what the reference does instead.
"""

from __future__ import annotations

import pytest

from arena.judging.parsers import get_format

ERROR = None
"""Expected value for a reply that must be read as an error (no verdict, no score)."""

# (parser, reply, expected verdict/score or ERROR, what the reference does)
BUGS = [
    # FastChat pair-v2: no [[A]]/[[B]]/[[C]] is an error. arena's prose fallback matched the article "a"
    # (case-insensitive letter) and then crashed on the lower-case key, stopping the judging run.
    ("brackets-abc", "My final verdict is a tie.", ERROR, "error"),
    ("brackets-abc", "Final verdict: c", ERROR, "error"),
    ("brackets-abc", "final verdict is b, narrowly", ERROR, "error"),
    # ... and read "A tie" as a win for A.
    ("brackets-abc", "Both are equally good. Final verdict: A tie.", ERROR, "error"),
    ("brackets-abc", "Final verdict: Assistant A and Assistant B are tied.", ERROR, "error"),
    # The single-bracket fallback read citation marks and code indexes as verdicts.
    ("brackets-abc", "Assistant A's code uses `arr[A]` indexing, which fails.", ERROR, "error"),
    ("brackets-abc", "Both are fine, see note [B] below.\n\n[B] The second answer is longer.", ERROR, "error"),
    ("brackets-abc", "My final verdict is [[A]", ERROR, "error (reply cut off mid-tag)"),
    # arena-hard upper-cases the reply before matching: lower-case labels are verdicts there.
    ("brackets-five", "My final verdict is [[a>b]]", "A>B", "A>B"),
    ("brackets-five", "Final verdict: [[b>>a]].", "B>>A", "B>>A"),
    # arena-hard takes the last [[label]] of [AB<>=]; an unreadable last label is no verdict there (show_result
    # fails on it). arena went back to an earlier label: here the last option the judge had quoted.
    ("brackets-five", "Options: [[A>>B]] [[A>B]] [[A=B]] [[B>A]] [[B>>A]]. My verdict: [[A>=B]]", ERROR, "no verdict"),
    ("brackets-five", "[[B>>A]] then garbage [[A>A]]", ERROR, "no verdict"),
    ("brackets-five", "[[B>A]] or rather [[AB]]", ERROR, "no verdict"),
    # FastChat's one_score_pattern takes "7." as a number (ast.literal_eval gives 7.0).
    ("brackets-rating", "Rating: [[7.]]", 7.0, "7.0"),
    # A non-ASCII digit is no number to FastChat (literal_eval fails); float() read it as 7.
    ("brackets-rating", "Rating: [[\u0667]]", ERROR, "crash"),
    ("brackets-rating", "Rating: [[\uff17]]", ERROR, "crash"),
    # The prose fallback read the first number of a scale description.
    ("brackets-rating", "Rating: 1 to 10, where 10 is best. The answer is poor.", ERROR, "-1 (no rating)"),
    ("brackets-rating", "Rating: 2 criteria matter here, accuracy and style.", ERROR, "-1 (no rating)"),
]

DELIBERATE = [
    # Last verdict wins: FastChat checks "[[A]]" in the reply first, then "[[B]]", then "[[C]]".
    ("brackets-abc", 'Format: "[[A]]", "[[B]]" or "[[C]]". My final verdict is [[C]]', "A=B", "A>B"),
    ("brackets-abc", "[[A]] at first sight ... final verdict [[B]]", "B>A", "A>B"),
    # Spaces inside the brackets are read; FastChat's substring test does not see them.
    ("brackets-abc", "My final verdict is [[ B ]]", "B>A", "error"),
    # Fallbacks FastChat does not have: a lone [X] on the verdict line, a prose verdict that ends the line.
    ("brackets-abc", "My final verdict is: [B]", "B>A", "error"),
    ("brackets-abc", "Explanation ...\n[A]\n", "A>B", "error"),
    ("brackets-abc", "Final verdict: **B**", "B>A", "error"),
    ("brackets-abc", "My final verdict is Assistant A is better.", "A>B", "error"),
    # Lower case is not a verdict, as in FastChat.
    ("brackets-abc", "[[a]]", ERROR, "error"),
    # arena-hard: spaces inside the label, and a plain [[A]]/[[B]] slip, are no verdict (a failed judgment).
    ("brackets-five", "My final verdict is [[ A > B ]]", "A>B", "no verdict"),
    ("brackets-five", "My final verdict is [[B]]", "B>A", "no verdict"),
    ("brackets-five", "My final verdict is tie: [[C]]", "A=B", "no verdict"),
    ("brackets-five", "My final verdict is A>B.", "A>B", "no verdict"),
    # Last rating wins: FastChat takes the first [[N]] (here the example rating it had quoted).
    ("brackets-rating", 'Format: "Rating: [[5]]". Rating: [[8]]', 8.0, "5"),
    # Out of the 1-10 scale is an error: FastChat averages 0, 11 or 100 in.
    ("brackets-rating", "Rating: [[11]]", ERROR, "11"),
    ("brackets-rating", "Rating: [[0]]", ERROR, "0"),
    ("brackets-rating", "[[7]] then [[42]]", ERROR, "7"),
    # Leading zeros and spaces are read: FastChat's literal_eval fails on "07", its regex skips "[[ 7 ]]".
    ("brackets-rating", "Rating: [[07]]", 7.0, "crash"),
    ("brackets-rating", "Rating: [[ 7 ]]", 7.0, "-1"),
    # The prose fallback, when the number ends the line (or is "N/10"): FastChat reads none.
    ("brackets-rating", "Rating: 7/10", 7.0, "-1"),
    ("brackets-rating", "Rating: **9**", 9.0, "-1"),
    # Shapes neither reads.
    ("brackets-rating", "Rating: [[7/10]]", ERROR, "-1"),
    ("brackets-rating", "Rating: [[-1]]", ERROR, "-1"),
]


def _read(parser: str, text: str) -> str | float | None:
    parsed = get_format(parser).parse(text)
    if parsed.error is not None:
        assert parsed.verdict is None and parsed.score is None
        return None
    assert (parsed.verdict is None) != (parsed.score is None)
    return parsed.verdict if parsed.verdict is not None else parsed.score


@pytest.mark.parametrize(("parser", "text", "expected", "reference"), BUGS)
def test_reads_as_the_reference(parser: str, text: str, expected: str | float | None, reference: str) -> None:
    assert _read(parser, text) == expected, f"reference: {reference}"


@pytest.mark.parametrize(("parser", "text", "expected", "reference"), DELIBERATE)
def test_documented_differences(parser: str, text: str, expected: str | float | None, reference: str) -> None:
    assert _read(parser, text) == expected, f"reference: {reference}"
