"""A judge: a prompt set bound to a mode. Two pure methods, ``render`` and ``parse``.

The reviewer owns calls, batching, retries and order; the judge only turns a game into a conversation
(a :class:`RenderedPrompt`) and a reply into a verdict (through its prompt set's verdict format).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from arena.judging.parsers import Parsed, VerdictFormat, get_format
from arena.judging.plan import Game
from arena.judging.prompts import Kind, Prompt, PromptSet
from arena.keys import PartialKey
from arena.providers.base import Conversation
from arena.records import Mode

_VARYING = ("answers", "turn", "question", "reference")
"""The parts of a judgment key that change from game to game (see :meth:`Judge.key_fields`)."""

TRUNCATION_MARK = "\n[... answer truncated for the judge: {n} more characters ...]"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The fences of the shipped templates. An answer that writes one could pretend its answer ended and
# speak to the judge in the prompt's own voice, so copies inside answers are defused.
_FENCE = re.compile(r"(\[|<\|)(The (?:Start|End) of )", re.IGNORECASE)


def _fence(text: str, limit: int, notes: list[str], label: str) -> str:
    """Make an answer safe to embed: no control characters, no fake fences, bounded length (with notes)."""
    cleaned = _CONTROL.sub("", text)
    if len(cleaned) != len(text):
        notes.append(f"{label}: {len(text) - len(cleaned)} control characters removed")
    cleaned, n = _FENCE.subn(lambda m: f"{m.group(1)}quoted: {m.group(2)}", cleaned)
    if n:
        notes.append(f"{label}: {n} prompt fence marker(s) inside the answer defused")
    if len(cleaned) <= limit:
        return cleaned
    notes.append(f"{label} truncated from {len(cleaned)} to {limit} characters")
    return cleaned[:limit] + TRUNCATION_MARK.format(n=len(cleaned) - limit)


@dataclass(frozen=True)
class RenderedPrompt:
    """What :meth:`Judge.render` makes of a game.

    Attributes:
        conversation: the messages sent to the judge model.
        prompt: the prompt template used (its name goes into the judgment).
        notes: what was changed in the answers to embed them (truncations, defused fences, ...).
    """

    conversation: Conversation
    prompt: Prompt
    notes: list[str]


@dataclass(frozen=True)
class Judge:
    """A judge prompt set applied in one mode, by one judge model.

    Attributes:
        prompts: the prompt set.
        mode: review mode.
        judge_id: name of the judge model as it appears in judgments and battles.
        spec: everything about the judge model that changes its verdicts (provider, model, settings).
        max_answer_chars: answers are truncated to this many characters for the judge.
    """

    prompts: PromptSet
    mode: Mode
    judge_id: str
    spec: dict[str, Any]
    max_answer_chars: int = 16000
    _keyers: dict[str, tuple[Prompt, PartialKey, bool]] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Per prompt name: the prompt, its key maker and whether it shows the reference (filled by :meth:`key`;
    the judge is frozen, so its spec part is encoded once)."""

    @property
    def kind(self) -> Kind:
        return "single" if self.mode == "single" else "pairwise"

    @property
    def parser_name(self) -> str:
        """The verdict format's name, as the prompt set's ``judge.yaml`` gives it for this kind."""
        return self.prompts.spec.parsers[self.kind]

    @property
    def verdict_format(self) -> VerdictFormat:
        """The verdict format named by :attr:`parser_name` (UserError if none is registered so)."""
        return get_format(self.parser_name)

    def prompt_for(self, game: Game) -> Prompt:
        q = game.question
        use_ref = bool(q.reference) and q.category in self.prompts.spec.reference_categories
        return self.prompts.select(self.kind, multi_turn=game.turn > 1, reference=use_ref)

    def key(self, game: Game) -> str:
        """Content key of the judgment: judge spec, prompt (name, version, text), answers, order, turn.

        ``content_key`` of the dict in :meth:`key_fields`, made by a :class:`~arena.keys.PartialKey` per
        prompt (the judge spec and prompt part is encoded once, not once per game; same key).
        """
        prompt = self.prompt_for(game)
        keyer = self._keyers.get(prompt.name)
        if keyer is None or keyer[0] is not prompt:
            keyer = self._keyers[prompt.name] = (prompt, PartialKey(self._fixed_key_fields(prompt), _VARYING),
                                                 "ref_answer" in prompt.template)
        q = game.question
        return keyer[1]([game.answer_a.key, game.answer_b.key if game.answer_b else None], game.turn,
                        q.content_key, q.reference if keyer[2] else None)

    def key_fields(self, game: Game) -> dict[str, Any]:
        """What :meth:`key` hashes (``content_key`` of this dict is the key)."""
        prompt = self.prompt_for(game)
        ref = game.question.reference if "ref_answer" in prompt.template else None
        return self._fixed_key_fields(prompt) | {
            "answers": [game.answer_a.key, game.answer_b.key if game.answer_b else None],
            "turn": game.turn,
            "question": game.question.content_key,
            "reference": ref,
        }

    def _fixed_key_fields(self, prompt: Prompt) -> dict[str, Any]:
        """The part of a key that is the same for every game judged with ``prompt``."""
        return {
            "judge": self.spec,
            "set": [self.prompts.name, self.prompts.version],
            "prompt": [prompt.name, prompt.hash],
            "parser": self.parser_name,
            "max_answer_chars": self.max_answer_chars,
        }

    def render(self, game: Game) -> RenderedPrompt:
        """The judge conversation for a game, the prompt used, and notes (e.g. truncations)."""
        prompt = self.prompt_for(game)
        notes: list[str] = []
        q = game.question
        t = game.turn
        values: dict[str, str] = {"question": q.turns[t - 1]}
        for i, text in enumerate(q.turns[:t], start=1):
            values[f"question_{i}"] = text
        for i, text in enumerate(q.reference or [], start=1):
            values[f"ref_answer_{i}"] = text
        a_turns = [_fence(x, self.max_answer_chars, notes, f"answer A turn {i}") for i, x in enumerate(game.answer_a.turns[:t], 1)]
        if game.answer_b is None:
            values["answer"] = a_turns[t - 1]
            for i, text in enumerate(a_turns, start=1):
                values[f"answer_{i}"] = text
        else:
            b_turns = [_fence(x, self.max_answer_chars, notes, f"answer B turn {i}") for i, x in enumerate(game.answer_b.turns[:t], 1)]
            values["answer_a"], values["answer_b"] = a_turns[t - 1], b_turns[t - 1]
            for i, (xa, xb) in enumerate(zip(a_turns, b_turns, strict=True), start=1):
                values[f"answer_a_{i}"], values[f"answer_b_{i}"] = xa, xb
        user = _format(prompt.template, values)
        conv: Conversation = []
        if prompt.system_prompt:
            conv.append({"role": "system", "content": prompt.system_prompt})
        conv.append({"role": "user", "content": user})
        return RenderedPrompt(conversation=conv, prompt=prompt, notes=notes)

    def parse(self, text: str) -> Parsed:
        """Read a judge reply with this judge's verdict format."""
        return self.verdict_format.parse(text)

    def format_verdict(self, verdict: str) -> str:
        """How this judge's verdict format writes ``verdict`` (for the fake judge)."""
        return self.verdict_format.format(verdict)


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _format(template: str, values: dict[str, str]) -> str:
    # format_map does a single pass: braces inside answer text are never re-interpreted.
    return template.format_map(_Missing(values))
