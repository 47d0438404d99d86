"""Meta-evaluation: how well does a judge agree with human labels, and with itself when the answers swap?

Input is a labelled pair set (a JSON list or JSONL) in one of two formats, told apart by their keys:

- LLMBar's: ``{"input", "output_1", "output_2", "label"}`` with ``label`` 1 or 2 (the better output);
- Auto-J's (GAIR-NLP/auto-j ``testdata_pairwise.jsonl``): ``{"prompt", "response 1", "response 2",
  "label"}`` with ``label`` 0 (response 1 better), 1 (response 2 better) or 2 (a tie); ``scenario`` is kept
  as the pair's category.

Two ways to score it:

- :func:`run_meta_eval` runs a configured arena judge on every pair in both orders (through the same
  :class:`~arena.judging.judge.Judge`, reviewer and judgment cache as ``arena run``; the fake judge works
  too) and scores the verdicts;
- :func:`read_verdicts` reads verdicts someone else already made (LLMBar's ``*_result.json``: each item
  has ``results[0]["swap = False"|"swap = True"]["winner"]`` in ``"1"``/``"2"``, already in the original
  numbering) and :func:`score_verdicts` scores them.

The statistics are LLMBar's: accuracy with output 1 shown first (``correct_False``) and swapped
(``correct_True``), their average, the share correct in both orders, the share with the same verdict in
both orders (``equal``, order agreement), Cohen's kappa between the two orders (``kappa_agreement``) and
between verdict and label in each order (``kappa_False``, ``kappa_True``, ``kappa_average``).

Conventions (also written into the statistics under ``conventions``):

- a failed verdict (nothing parsed) counts as wrong, as in LLMBar: every share is over all ``n`` pairs;
- a verdict is correct when it equals the label, so a tie verdict is correct on a tie label and wrong on
  a 1/2 label;
- ``kappa_False`` / ``kappa_True`` are computed exactly as LLMBar's ``evaluate.py`` does, to reproduce its
  published numbers: the verdict is encoded 1 for "1" and 0 for anything else (2, tie, failed) and compared
  with the integer label 1/2, so a correct "2" never counts as agreement and these kappas stay low (0.27
  for GPT-4 at 95% accuracy on LLMBar Natural). They are None when a label is a tie (LLMBar has none).
  ``kappa_label_False`` / ``kappa_label_True`` / ``kappa_label_average`` are the plain Cohen's kappa of
  verdict against label over the categories 1, 2, tie, with a failed verdict as its own category.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.errors import ConfigError, DataError, UserError

Winner = str
"""``"1"``, ``"2"``, ``"tie"``, or ``None`` for a failed verdict."""

LABELS: tuple[str, ...] = ("1", "2", "tie")
AUTOJ_LABELS: dict[int, str] = {0: "1", 1: "2", 2: "tie"}
"""Auto-J's label -> ours: 0 = response 1 better, 1 = response 2 better, 2 = tie."""

CONVENTIONS: tuple[str, ...] = (
    "failed verdicts count as wrong (LLMBar's convention: shares are over all pairs)",
    "a tie verdict is correct only on a tie label",
    "kappa_False/kappa_True: LLMBar's evaluate.py encoding (verdict '1' -> 1, anything else -> 0, vs label 1/2); "
    "kappa_label_*: Cohen's kappa of verdict vs label over 1/2/tie, a failed verdict its own category",
)


@dataclass(frozen=True)
class LabelledPair:
    """One instruction, two outputs and the better one: ``"1"``, ``"2"`` or ``"tie"``."""

    input: str
    output_1: str
    output_2: str
    label: Winner
    category: str = "general"


def _records(path: Path) -> list[tuple[str, dict[str, Any]]]:
    from arena.store import read_json_records

    return read_json_records(Path(path))


def _pair(where: str, obj: dict[str, Any]) -> LabelledPair:
    from arena.store import text_of

    if "response 1" in obj or "response 2" in obj or "prompt" in obj:
        return _autoj_pair(where, obj)
    missing = [k for k in ("input", "output_1", "output_2", "label") if k not in obj]
    if missing:
        raise DataError(f"{where}: missing {', '.join(missing)}; a labelled pair needs input, output_1, output_2, label "
                        "(LLMBar) or prompt, 'response 1', 'response 2', label (Auto-J)")
    label = _int_or_none(obj["label"])
    if label not in (1, 2):
        raise DataError(f"{where}: label {obj['label']!r} must be 1 or 2 (the better output)")
    return LabelledPair(text_of(obj, "input", where), text_of(obj, "output_1", where, empty=True),
                        text_of(obj, "output_2", where, empty=True), str(label))


def _autoj_pair(where: str, obj: dict[str, Any]) -> LabelledPair:
    from arena.store import text_of

    missing = [k for k in ("prompt", "response 1", "response 2", "label") if k not in obj]
    if missing:
        raise DataError(f"{where}: missing {', '.join(repr(k) for k in missing)}; an Auto-J pair needs prompt, "
                        "'response 1', 'response 2', label")
    label = _int_or_none(obj["label"])
    if label not in AUTOJ_LABELS:
        raise DataError(f"{where}: label {obj['label']!r} must be 0, 1 or 2 (Auto-J: response 1 better, "
                        "response 2 better, tie)")
    return LabelledPair(text_of(obj, "prompt", where), text_of(obj, "response 1", where, empty=True),
                        text_of(obj, "response 2", where, empty=True), AUTOJ_LABELS[label],
                        category=str(obj.get("scenario") or "general"))


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def read_pairs(path: str | Path) -> list[LabelledPair]:
    """Read a labelled pair set (LLMBar format, JSON list or JSONL)."""
    pairs = [_pair(where, obj) for where, obj in _records(Path(path))]
    if not pairs:
        raise DataError(f"{path}: no labelled pairs in this file")
    return pairs


def _winner(value: Any) -> Winner | None:
    if value is None:
        return None
    text = str(value).strip()
    return text if text in ("1", "2", "tie") else None


def read_verdicts(path: str | Path) -> tuple[list[LabelledPair], list[Winner | None], list[Winner | None]]:
    """Read existing verdicts in LLMBar's result format.

    Returns:
        ``(pairs, first, second)``: the labelled pairs, the winner with output 1 shown first, and the winner
        with the outputs swapped (both in the original numbering).
    """
    pairs: list[LabelledPair] = []
    first: list[Winner | None] = []
    second: list[Winner | None] = []
    for where, obj in _records(Path(path)):
        pairs.append(_pair(where, obj))
        results = obj.get("results")
        if not isinstance(results, list) or not results or not isinstance(results[0], dict):
            raise DataError(f"{where}: no 'results' list; expected LLMBar's results[0]['swap = False'/'swap = True']")
        r = results[0]
        for key, out in (("swap = False", first), ("swap = True", second)):
            game = r.get(key)
            out.append(_winner(game.get("winner")) if isinstance(game, dict) else None)
    if not pairs:
        raise DataError(f"{path}: no verdicts in this file")
    return pairs, first, second


def _cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Unweighted Cohen's kappa of two label sequences (as ``sklearn.metrics.cohen_kappa_score``)."""
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    cats = set(a) | set(b)
    expected = sum((list(a).count(c) / n) * (list(b).count(c) / n) for c in cats)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def _llmbar_code(verdict: Winner | None) -> int:
    # LLMBar's evaluate.py: `int(output) if output in ("0", "1") else 0`.
    return int(verdict) if verdict in ("0", "1") else 0


def _mean(x: float | None, y: float | None) -> float | None:
    return None if x is None or y is None else (x + y) / 2


def score_verdicts(
    pairs: Sequence[LabelledPair], first: Sequence[Winner | None], second: Sequence[Winner | None]
) -> dict[str, Any]:
    """LLMBar's statistics of a judge's verdicts in both orders against the labels (see the module notes).

    Returns:
        ``n``; ``correct_False`` / ``correct_True`` (accuracy in each order: output 1 first / swapped);
        ``correct_average``; ``correct_both``; ``equal`` (order agreement); ``kappa_agreement`` (Cohen's
        kappa between the two orders); ``kappa_False`` / ``kappa_True`` / ``kappa_average`` (verdict vs
        label, LLMBar's encoding) and ``kappa_label_*`` (verdict vs label over 1/2/tie/failed); ``labels``
        (count per label); ``ties`` and ``failures`` per order; the counts behind each share; and the
        ``conventions`` used.
    """
    if not len(pairs) == len(first) == len(second):
        raise UserError("score_verdicts: pairs and both verdict lists must have the same length")
    n = len(pairs)
    if n == 0:
        raise UserError("score_verdicts: no pairs to score")
    labels = [p.label for p in pairs]
    c1 = [w == lab for w, lab in zip(first, labels, strict=True)]
    c2 = [w == lab for w, lab in zip(second, labels, strict=True)]
    both = sum(x and y for x, y in zip(c1, c2, strict=True))
    equal = sum(x == y and x is not None for x, y in zip(first, second, strict=True))
    codes1, codes2 = [_llmbar_code(w) for w in first], [_llmbar_code(w) for w in second]
    kappa = _cohen_kappa(codes1, codes2)
    has_tie_label = "tie" in labels
    int_labels = [int(lab) for lab in labels] if not has_tie_label else []
    k1 = None if has_tie_label else _cohen_kappa(codes1, int_labels)
    k2 = None if has_tie_label else _cohen_kappa(codes2, int_labels)
    plain1 = _cohen_kappa([w or "failed" for w in first], labels)
    plain2 = _cohen_kappa([w or "failed" for w in second], labels)
    return {
        "n": n,
        "correct_False": sum(c1) / n,
        "correct_True": sum(c2) / n,
        "correct_average": (sum(c1) + sum(c2)) / (2 * n),
        "correct_both": both / n,
        "equal": equal / n,
        "kappa_agreement": kappa,
        "kappa_False": k1,
        "kappa_True": k2,
        "kappa_average": _mean(k1, k2),
        "kappa_label_False": plain1,
        "kappa_label_True": plain2,
        "kappa_label_average": _mean(plain1, plain2),
        "counts": {"correct_False": sum(c1), "correct_True": sum(c2), "correct_both": both, "equal": equal},
        "labels": {lab: labels.count(lab) for lab in LABELS},
        "ties": {"False": sum(w == "tie" for w in first), "True": sum(w == "tie" for w in second)},
        "failures": {"False": sum(w is None for w in first), "True": sum(w is None for w in second)},
        "conventions": list(CONVENTIONS),
    }


def llmbar_statistics(stats: dict[str, Any]) -> dict[str, Any]:
    """The statistics as LLMBar writes them (``"95 / 100 = 95.0%"``), for side-by-side comparison."""
    n, c = stats["n"], stats["counts"]

    def frac(k: str) -> str:
        return f"{c[k]} / {n} = {100 * c[k] / n:.1f}%"

    return {"correct_False": frac("correct_False"), "correct_True": frac("correct_True"),
            "correct_average": f"{100 * stats['correct_average']:.1f}%", "correct_both": frac("correct_both"),
            "equal": frac("equal"), "kappa_False": stats["kappa_False"], "kappa_True": stats["kappa_True"],
            "kappa_average": stats["kappa_average"], "kappa_agreement": stats["kappa_agreement"]}


# ---------------------------------------------------------------------------------------------- running a judge


def load_judge_config(path: str | Path) -> tuple[Any, int]:
    """The ``judge:`` block of an arena config (or a file holding only judge settings), and its seed."""
    from pydantic import ValidationError

    from arena.config import JudgeConfig, read_yaml

    path = Path(path)
    data, _ = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'judge' block")
    block = data.get("judge", data)
    try:
        jc = JudgeConfig.model_validate(block)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"] if p != "spec")
        raise ConfigError(f"{path}: key 'judge.{key}': {str(err['msg']).removeprefix('Value error, ')}") from None
    return jc, int(data.get("seed", 0) or 0)


def run_meta_eval(
    pairs: Sequence[LabelledPair],
    judge_cfg: Any,
    work_dir: str | Path,
    *,
    seed: int = 0,
    progress: bool = False,
) -> tuple[dict[str, Any], list[Winner | None], list[Winner | None]]:
    """Judge every pair in both orders with ``judge_cfg`` (a :class:`~arena.config.JudgeConfig`) and score it.

    Judgments are appended to ``work_dir/judgments.jsonl`` and reused on a re-run (nothing is paid twice).

    Returns:
        ``(statistics, first, second)`` as :func:`score_verdicts` and its inputs.
    """
    from arena.judging.factory import build_judge, build_judge_provider
    from arena.judging.plan import plan_games
    from arena.judging.reviewer import judgments_path, review
    from arena.keys import content_key
    from arena.records import Answer, Judgment, Question
    from arena.store import JsonlStore

    work_dir = Path(work_dir)
    jc = judge_cfg.model_copy(update={"mode": "pairwise-all", "baseline": None, "both_orders": True})
    questions: list[Question] = []
    answers: dict[str, dict[str, Answer]] = {"output_1": {}, "output_2": {}}
    for i, p in enumerate(pairs, start=1):
        q = Question(question_id=str(i), turns=[p.input], category=p.category)
        questions.append(q)
        for name, text in (("output_1", p.output_1), ("output_2", p.output_2)):
            answers[name][q.question_id] = Answer(key=content_key([q.content_key, name, text]),
                                                  question_id=q.question_id, model=name, turns=[text])
    plan = plan_games(questions, answers, "pairwise-all", both_orders=True, seed=seed)
    judge = build_judge(jc)
    provider = build_judge_provider(jc, judge, seed=seed)
    work_dir.mkdir(parents=True, exist_ok=True)
    review(plan.games, judge, provider, work_dir, jc.generation, chunk_size=jc.chunk_size(), progress=progress)
    store = JsonlStore(judgments_path(work_dir), Judgment)
    first: list[Winner | None] = [None] * len(pairs)
    second: list[Winner | None] = [None] * len(pairs)
    for g in plan.games:
        j = store.get(judge.key(g))
        winner: Winner | None = None
        if j is not None and j.verdict is not None:
            winner = "tie" if j.verdict == "A=B" else (g.model_a if j.verdict.startswith("A") else str(g.model_b))
            winner = winner.removeprefix("output_")
        # Unswapped games show output_1 first (the canonical order of the sorted pair).
        (second if g.swapped else first)[int(g.question.question_id) - 1] = winner
    stats = score_verdicts(pairs, first, second)
    stats["judge"] = judge.judge_id
    return stats, first, second


def write_report(stats: dict[str, Any], path: str | Path) -> None:
    """Write the statistics as JSON."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")


def _k(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_stats(stats: dict[str, Any]) -> str:
    """A few lines for the terminal, ending with the conventions used."""
    c, n = stats["counts"], stats["n"]
    labels = stats.get("labels", {})
    return (
        f"pairs {n} (labels: {labels.get('1', 0)} first better, {labels.get('2', 0)} second better, "
        f"{labels.get('tie', 0)} ties): accuracy output-1-first {c['correct_False']}/{n} "
        f"({100 * stats['correct_False']:.1f}%), swapped {c['correct_True']}/{n} ({100 * stats['correct_True']:.1f}%), "
        f"average {100 * stats['correct_average']:.1f}%\n"
        f"correct in both orders {c['correct_both']}/{n} ({100 * stats['correct_both']:.1f}%); "
        f"same verdict in both orders {c['equal']}/{n} ({100 * stats['equal']:.1f}%); "
        f"kappa between orders {_k(stats['kappa_agreement'])}; "
        f"ties {stats['ties']['False']}+{stats['ties']['True']}, failures {stats['failures']['False']}+{stats['failures']['True']}\n"
        f"kappa verdict vs label: {_k(stats['kappa_label_False'])} / {_k(stats['kappa_label_True'])} "
        f"(average {_k(stats['kappa_label_average'])}); LLMBar-encoded {_k(stats['kappa_False'])} / "
        f"{_k(stats['kappa_True'])} (average {_k(stats['kappa_average'])})\n"
        + "".join(f"convention: {line}\n" for line in stats.get("conventions", [])).rstrip("\n")
    )
