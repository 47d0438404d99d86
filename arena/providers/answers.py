"""The ``answers`` provider: answers someone already generated (FastChat / arena-hard answer files).

It does not generate: the generate stage asks it for the turns of each question by id.
FastChat: ``{"question_id", "model_id", "choices": [{"turns": [...]}]}``;
arena-hard: ``{"uid", "model", "messages": [{"role", "content": str | {"answer": str}}]}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arena.errors import DataError
from arena.store import read_jsonl


class NotText(TypeError):
    """An answer turn that is null, a list or an object: no answer text (never the answer ``"None"``)."""


def _turn(value: Any) -> str:
    if value is None or isinstance(value, (list, tuple, dict, set)):
        raise NotText(f"an answer turn is {'null' if value is None else type(value).__name__}; write the answer's "
                      'text ("" for an empty answer)')
    return str(value)


def _turns_of(obj: dict[str, Any]) -> list[str] | None:
    if "choices" in obj:
        return [_turn(t) for t in obj["choices"][0]["turns"]]
    if "messages" in obj:
        turns = []
        for m in obj["messages"]:
            if m.get("role") == "assistant":
                c = m.get("content")
                turns.append(_turn(c.get("answer", "")) if isinstance(c, dict) else _turn(c))
        return turns
    if "answer" in obj:  # llmuses: {"question_id", "text" (the question), "model_id", "answer"}
        return [_turn(obj["answer"])]
    if "turns" in obj:
        return [_turn(t) for t in obj["turns"]]
    if "text" in obj:
        return [_turn(obj["text"])]
    if "output" in obj:
        return [_turn(obj["output"])]
    return None


def read_answer_file(path: Path, model_id: str | None = None) -> dict[str, tuple[list[str], int]]:
    """Question id -> (turns, line number), for one model of an answer file."""
    if path.is_dir():
        raise DataError(f"{path}: is a folder; point 'file' at one model's answer JSONL file")
    answers: dict[str, tuple[list[str], int]] = {}
    for line_no, obj in read_jsonl(path):
        where = f"{path}:{line_no}"
        qid = obj.get("question_id", obj.get("uid"))
        if qid is None:
            raise DataError(f"{where}: no 'question_id' (or 'uid') in this answer")
        mid = obj.get("model_id", obj.get("model"))
        if model_id is not None and mid is not None and mid != model_id:
            continue
        try:
            turns = _turns_of(obj)
        except NotText as exc:
            raise DataError(f"{where}: {exc}") from None
        except (KeyError, IndexError, TypeError, AttributeError):
            turns = None
        if turns is None:
            raise DataError(f"{where}: cannot find the answer text (expected 'choices[0].turns' or 'messages')")
        answers[str(qid)] = (turns, line_no)
    return answers


class AnswersProvider:
    """Serves pre-generated answers by question id."""

    name = "answers"

    def __init__(self, *, file: str | Path, model_id: str | None = None) -> None:
        self.file = Path(file)
        self._answers = read_answer_file(self.file, model_id)

    def check_questions(self, question_ids: set[str], all_ids: set[str] | None = None) -> list[str]:
        """Ids of ``question_ids`` this file has no answer for.

        Raises:
            DataError: the file answers a question id that is not in the question set at all.
        """
        if all_ids is not None:
            for qid, (_, line_no) in self._answers.items():
                if qid not in all_ids:
                    raise DataError(
                        f"{self.file}:{line_no}: answer to question '{qid}', which is not in the question set; "
                        "use the answer file that belongs to these questions"
                    )
        return sorted(question_ids - set(self._answers))

    def lookup(self, question_id: str) -> list[str] | None:
        found = self._answers.get(question_id)
        return found[0] if found else None
