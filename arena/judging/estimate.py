"""What a real judge would spend on the pending games: calls, tokens in and out, dollars.

One estimate, printed by ``--dry-run`` and stored in the manifest. Prompt tokens are counted on the
conversations the real judge would be sent (rendered by its own prompt set), with the package's one token
estimator (:func:`~arena.providers.base.approx_tokens`). Output tokens cannot be counted before the judge
writes them: each call is assumed to write ``judge.expected_output_tokens``, else the prompt set's
``expected_output_tokens`` (measured on published judgments, see its ``judge.yaml``), never more than
``judge.generation.max_new_tokens``. A judge whose calls go through a batch API (``judge.batch: true``)
pays its provider's batch share of ``judge.prices`` (:meth:`~arena.providers.specs.ProviderSpec.price_factor`,
half for OpenAI's Batch API).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from arena.config.schema import JudgeConfig
from arena.judging.judge import Judge
from arena.judging.plan import Game
from arena.providers.base import CHARS_PER_TOKEN, approx_conversation_tokens


@dataclass(frozen=True)
class SpendEstimate:
    """What the real judge would spend on the games still to judge.

    Attributes:
        judge: the judge model that would be called.
        judge_calls: calls a real run would make (games with no judgment on disk).
        prompt_tokens: estimated tokens sent, summed over those calls.
        output_tokens_per_call: assumed tokens the judge writes per call.
        output_tokens_from: where that assumption comes from (a config key or a prompt set file).
        output_tokens: ``judge_calls * output_tokens_per_call``.
        cost_usd: from ``judge.prices`` times ``price_factor``; ``None`` when no prices are set.
        price_factor: the share of ``judge.prices`` a call costs (0.5 through the OpenAI Batch API, else 1).
    """

    judge: str
    judge_calls: int
    prompt_tokens: int
    output_tokens_per_call: int
    output_tokens_from: str
    output_tokens: int
    cost_usd: float | None
    price_factor: float = 1.0


def expected_output_tokens(jc: JudgeConfig, judge: Judge) -> tuple[int, str]:
    """Tokens a judge call is assumed to write, and where the number comes from.

    ``judge.expected_output_tokens`` wins over the prompt set's value; a set without one falls back to
    ``judge.generation.max_new_tokens`` (an upper bound). The result never exceeds ``max_new_tokens``.
    """
    cap = jc.generation.max_new_tokens
    if jc.expected_output_tokens is not None:
        value, source = jc.expected_output_tokens, "judge.expected_output_tokens"
    elif judge.prompts.spec.expected_output_tokens is not None:
        value, source = judge.prompts.spec.expected_output_tokens, f"prompt set {judge.prompts.name}"
    else:
        return cap, "judge.generation.max_new_tokens (an upper bound: set judge.expected_output_tokens)"
    if value > cap:
        return cap, f"{source}, capped at judge.generation.max_new_tokens"
    return value, source


def estimate_spend(games: Sequence[Game], judge: Judge, jc: JudgeConfig) -> SpendEstimate:
    """The estimate for ``games`` judged by ``judge`` (the real judge, not the fake one)."""
    prompt_tokens = sum(approx_conversation_tokens(judge.render(g).conversation) for g in games)
    per_call, source = expected_output_tokens(jc, judge)
    output_tokens = per_call * len(games)
    cost = None
    factor = jc.spec.price_factor()
    if jc.prices is not None:
        live = prompt_tokens * jc.prices.input_per_1m / 1e6 + output_tokens * jc.prices.output_per_1m / 1e6
        cost = round(live * factor, 6)
    return SpendEstimate(judge=judge.judge_id, judge_calls=len(games), prompt_tokens=prompt_tokens,
                         output_tokens_per_call=per_call, output_tokens_from=source, output_tokens=output_tokens,
                         cost_usd=cost, price_factor=factor)


def total_estimate(estimates: Sequence[SpendEstimate]) -> SpendEstimate | None:
    """The estimates of a jury's judges added up (the one estimate itself for a single judge).

    The cost is None when any judge has no prices (a partial sum would read as the whole).
    """
    if len(estimates) <= 1:
        return estimates[0] if estimates else None
    calls = sum(e.judge_calls for e in estimates)
    output = sum(e.output_tokens for e in estimates)
    costs = [e.cost_usd for e in estimates]
    return SpendEstimate(
        judge=f"{len(estimates)} judges ({', '.join(e.judge for e in estimates)})", judge_calls=calls,
        prompt_tokens=sum(e.prompt_tokens for e in estimates),
        output_tokens_per_call=round(output / calls) if calls else 0, output_tokens_from="each judge's own (see per judge)",
        output_tokens=output, cost_usd=None if any(c is None for c in costs) else round(sum(c or 0.0 for c in costs), 6))


def format_estimate(estimate: SpendEstimate, jc: JudgeConfig) -> str:
    """One line: calls, tokens in and out, and the cost or how to get one."""
    if estimate.cost_usd is None or jc.prices is None:
        cost = "no prices set: add judge.prices to get a cost"
    else:
        share = "" if estimate.price_factor == 1.0 else f" x {estimate.price_factor:g} (batch API price)"
        cost = (f"cost about ${estimate.cost_usd:,.4f} at judge.prices (${jc.prices.input_per_1m:g} in, "
                f"${jc.prices.output_per_1m:g} out per 1M tokens){share}")
    return (f"a real run would make {estimate.judge_calls} judge calls to {estimate.judge}, sending about "
            f"{estimate.prompt_tokens:,} prompt tokens ({CHARS_PER_TOKEN} characters a token) and receiving about "
            f"{estimate.output_tokens:,} output tokens ({estimate.output_tokens_per_call} a call, from "
            f"{estimate.output_tokens_from}); {cost}")
