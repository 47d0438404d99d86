"""The seeded fake judge behind ``--dry-run`` and offline tests.

It answers in the prompt set's own verdict format, so its replies go through the same parser as a real
judge's. Tie rate, position bias and failure rate are configurable; every draw is seeded from the
conversation's content, so a game gets the same verdict in any run order.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from arena.errors import UserError
from arena.providers.base import Conversation
from arena.providers.fake import FakeProvider
from arena.providers.fake_options import FAKE_JUDGE_SCRIPT, FakeOptions

if TYPE_CHECKING:  # the judge is passed in; its verdict format says how a reply is written
    from arena.judging.judge import Judge


def fake_verdict(rng: random.Random, opts: FakeOptions) -> str | None:
    """Draw a verdict label (None = an unparsable reply)."""
    if rng.random() < opts.failure_rate:
        return None
    if rng.random() < opts.tie_rate:
        return "A=B"
    a_wins = rng.random() < 0.5 + opts.position_bias / 2
    strong = rng.random() < 0.3
    if a_wins:
        return "A>>B" if strong else "A>B"
    return "B>>A" if strong else "B>A"


def make_fake_judge(judge: Judge, opts: FakeOptions, seed: int) -> FakeProvider:
    """A :class:`FakeProvider` whose replies parse with ``judge``'s verdict format.

    In single mode the score is drawn uniformly from the format's labels (1 to 10 for ``brackets-rating``).
    """
    if opts.script is not None:  # a scripted judge would have been silently ignored
        raise UserError(FAKE_JUDGE_SCRIPT)
    fmt = judge.verdict_format

    def respond(conversation: Conversation, rng: random.Random) -> str:
        if judge.kind == "single":
            if rng.random() < opts.failure_rate:
                return "The answer is fine overall."
            # rng.choice over n labels draws as rng.randint(1, n) does: one _randbelow(n).
            return f"The answer addresses the question. Rating: {fmt.format(rng.choice(fmt.labels))}"
        verdict = fake_verdict(rng, opts)
        if verdict is None:
            return "Both answers have merits; I cannot decide."
        return f"Comparing both answers on helpfulness and accuracy. My final verdict is {fmt.format(verdict)}"

    return FakeProvider(fn=respond, seed=opts.seed if opts.seed is not None else seed, latency_s=opts.latency_s)
