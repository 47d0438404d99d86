"""Check before spending: what the schema cannot see, caught before any answer is generated or paid for.

:func:`check_config` is what ``arena validate`` runs, and what ``arena run``, ``arena generate`` and ``arena
judge`` run before they touch the work dir: the work dir can be a folder, every model name has its own answer
file, the questions load, the judge prompt set has the mode, every provider spec passes its own
:meth:`~arena.providers.specs.ProviderSpec.check` (answer files exist and belong to these questions, presets
resolve, endpoints that need an API key have one) and its provider can be built (building loads no model
and calls nothing), and the rater takes the ``rating:`` settings (a rehearsal on a few made-up battles of
these models). Each failure is one line naming ``file:line``, the config key and the fix.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.config.schema import ArenaConfig, JudgeConfig
from arena.errors import UserError
from arena.providers.specs import ProviderSpec, SpecProblem
from arena.store import folder_error

if TYPE_CHECKING:
    import pandas as pd

    from arena.records import Question

MAX_FILE_NAME_BYTES = 255
"""Longest file name (in bytes, UTF-8) the common file systems take (ext4, APFS, NTFS, XFS)."""

REHEARSAL_ROUNDS = 2
"""Bootstrap rounds of the rating rehearsal: enough to run the interval code, cheap at any size."""

_KEY_AT_START = re.compile(r"^(questions|judge|models|rating|work_dir)((?:\.[A-Za-z_]+)*)(?=: | '| [\w-]+:)")
"""A config key at the start of a message: ``questions.set: ...``, ``rating.ties 'x': ...``, ``rating.reweight
inverse-pair: ...`` (not ``rating method 'elo': ...``, which is about no one key)."""


def config_key(cfg: ArenaConfig, *loc: str) -> str:
    """``file:line: key 'a.b'``: what an error about the config key ``loc`` names first."""
    return f"{cfg.where(*loc)}: key '{'.'.join(loc)}'"


def _fail(cfg: ArenaConfig, loc: tuple[str, ...], problem: str) -> UserError:
    return UserError(f"{config_key(cfg, *loc)}: {problem}")


def _keyed(loc: tuple[str, ...], message: str) -> tuple[tuple[str, ...], str]:
    """The config key a stage's message starts with (``questions.set: unknown ...``), else ``loc``, and the
    message without that key.

    A stage that knows which key it refuses says so at the start of its message; inside a jury, ``judge.X``
    is the key of the judge at ``loc`` (``judge.1.X``). The key is cut from the message only where a colon
    follows it (``rating.ties 'x': ...`` keeps its value).
    """
    found = _KEY_AT_START.match(message)
    if found is None:
        return loc, message
    key = (found.group(1), *[p for p in found.group(2).split(".") if p])
    if key[0] == loc[0] == "judge":
        key = (*loc[:2], *key[1:]) if len(loc) > 1 and loc[1].isdigit() else key
    rest = message[found.end():]
    return key, rest[2:] if rest.startswith(": ") else message  # 'rating.ties 'x': ...' keeps its value


@contextmanager
def _at(cfg: ArenaConfig, loc: tuple[str, ...]) -> Iterator[None]:
    """Turn a stage's :class:`UserError` into one naming the config file, line and key (``loc`` unless the
    message names its own)."""
    try:
        yield
    except SpecProblem as exc:
        raise _fail(cfg, (*loc, exc.key), exc.problem) from None
    except UserError as exc:
        key, problem = _keyed(loc, str(exc))
        raise _fail(cfg, key, problem) from None


def _field_named(spec: ProviderSpec, message: str) -> str | None:
    """The option of ``spec`` a provider's message is about (``base_url is an empty list``), if it names one."""
    words = set(re.findall(r"[A-Za-z_]+", message))
    return next((f for f in type(spec).model_fields if f in words and f not in ("provider", "model")), None)


def _check_spec(cfg: ArenaConfig, loc: tuple[str, ...], spec: ProviderSpec, question_ids: set[str], spend: bool) -> None:
    with _at(cfg, loc):
        spec.check(question_ids=question_ids, spend=spend)


def _build(cfg: ArenaConfig, loc: tuple[str, ...], spec: ProviderSpec, build: Any) -> None:
    """Build a provider as the run would (it loads no model and calls nothing), so that an option only its
    constructor refuses (an empty ``base_url`` list, an unknown ``dtype``) stops the run before any other
    model's answers are generated."""
    try:
        build()
    except UserError as exc:
        field = _field_named(spec, str(exc))
        raise _fail(cfg, (*loc, field) if field else loc, str(exc)) from None


def _check_work_dir(cfg: ArenaConfig) -> None:
    """The work dir is a folder, or can be made one: neither it nor a folder above it is a file, and a folder
    can be made in the nearest one that exists (tried with a temporary folder, removed again: ``/proc/nope``)."""
    for folder in (cfg.work_dir, *cfg.work_dir.parents):
        if folder.exists():
            if not folder.is_dir():
                what = "is a file" if folder == cfg.work_dir else f"is inside {folder}, which is a file"
                raise _fail(cfg, ("work_dir",), f"{cfg.work_dir} {what}; give a folder for the run (relative to "
                            "the config file)")
            if folder != cfg.work_dir:
                try:
                    os.rmdir(tempfile.mkdtemp(prefix=".arena-check-", dir=folder))
                except OSError as exc:
                    raise folder_error(config_key(cfg, "work_dir"), cfg.work_dir, exc) from None
            return


def _check_model_names(cfg: ArenaConfig) -> None:
    """Every model keeps its answers in a file of its own: a name that no file can carry, or two names that
    share a file (``a b`` and ``a_b``), would mix or lose answers."""
    from arena.generate import answers_path

    seen: dict[str, str] = {}
    for name in cfg.models:
        if not name.strip():
            raise _fail(cfg, ("models",), f"a model name is {name!r}; give every model a name")
        file = answers_path(Path(), name).name
        if len(file.encode("utf-8")) > MAX_FILE_NAME_BYTES:
            raise _fail(cfg, ("models", name), f"the model name is {len(name)} characters long; its answer file "
                        f"name would pass the file system's {MAX_FILE_NAME_BYTES} bytes: give a shorter name")
        if file in seen:
            raise _fail(cfg, ("models", name), f"models {seen[file]!r} and {name!r} would share the answer file "
                        f"answers/{file}; rename one (names differing only in characters other than letters, "
                        "digits, '-', '_', '.' and '=' share a file)")
        seen[file] = name


def _rehearsal_battles(cfg: ArenaConfig) -> pd.DataFrame:
    """A few made-up battles among the enabled models (every outcome, both positions, several questions) for
    the rating rehearsal; against the baseline only in ``pairwise-baseline``."""
    from arena.rating import battles_frame

    names = list(cfg.enabled_models)
    baseline = cfg.judge.baseline if cfg.judge.mode == "pairwise-baseline" else None
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if baseline is None or baseline in (a, b)]
    winners = ("model_a", "model_b", "tie", "tie (bothbad)")
    rows = []
    for q in range(len(winners) + 1):
        for k, (a, b) in enumerate(pairs):
            for swapped, (x, y) in enumerate(((a, b), (b, a))):
                rows.append({"question_id": f"q{q}", "model_a": x, "model_b": y, "swapped": bool(swapped),
                             "winner": winners[(q + k + swapped) % len(winners)],
                             "len_a": 100.0 + 10 * q + k, "len_b": 120.0 - 5 * q, "header_a": float(q % 2),
                             "header_b": 0.0, "list_a": float(k % 3), "list_b": float(q % 3), "bold_a": 0.0,
                             "bold_b": float(swapped)})
    return battles_frame(rows)


def _check_rating(cfg: ArenaConfig) -> None:
    """The rater takes the ``rating:`` settings: rate made-up battles of these models with them (a few
    bootstrap rounds), so a combination the rater refuses (``method: elo`` with ``ties: davidson``, an
    interval type the method lacks) stops the run before any work, not after the judging is paid for."""
    import pandas as pd

    from arena.rating import compute_leaderboard
    from arena.rating import registry as methods

    r = cfg.rating
    with _at(cfg, ("rating", "ci")):
        methods.check_interval(methods.get(r.method), r.ci)
    settings = r.model_copy(update={"bootstrap": min(r.bootstrap, REHEARSAL_ROUNDS)})
    frame = _rehearsal_battles(cfg)
    scores = None
    if cfg.judge.mode == "single":
        scores = pd.DataFrame([{"question_id": f"q{q}", "model": m, "turn": 1, "category": "general",
                                "score": float(1 + (q + k) % 10)}
                               for q in range(3) for k, m in enumerate(cfg.enabled_models)])
    baseline = cfg.judge.baseline if cfg.judge.mode == "pairwise-baseline" else None
    with _at(cfg, ("rating",)):
        compute_leaderboard(frame, settings, baseline=baseline, scores=scores)


def pending_calls(cfg: ArenaConfig, name: str, questions: list[Question]) -> tuple[int, int]:
    """``(calls, questions)`` that generating will ask model ``name`` for: one call per turn of each question
    whose answer is not on disk yet (or is an error), as :func:`~arena.generate.generate_answers` chooses them."""
    from arena.generate import answers_path, expected_keys, model_spec, unanswered
    from arena.records import Answer
    from arena.store import JsonlStore

    mcfg = cfg.enabled_models[name]
    store = JsonlStore(answers_path(cfg.work_dir, name), Answer)
    todo = unanswered(questions, store, expected_keys(questions, model_spec(mcfg, cfg.seed, name)))
    return sum(len(q.turns) for q in todo), len(todo)


def check_calls(cfg: ArenaConfig, questions: list[Question]) -> None:
    """Refuse, before any model answers, a candidate that cannot answer every call generating will make (a
    fake ``script`` shorter than them), naming ``file:line`` and the key.

    Raises:
        UserError: one line, ``file:line: key 'models.<name>.<option>': problem; fix``.
    """
    for name, mcfg in cfg.enabled_models.items():
        try:
            mcfg.spec.check_calls(name=name, pending=partial(pending_calls, cfg, name, questions))
        except SpecProblem as exc:
            raise _fail(cfg, ("models", name, *exc.key.split(".")), exc.problem) from None


def _judge_loc(cfg: ArenaConfig, i: int) -> tuple[str, ...]:
    return ("judge", str(i)) if cfg.jurors else ("judge",)


def _check_judge(cfg: ArenaConfig, loc: tuple[str, ...], jc: JudgeConfig, question_ids: set[str], dry_run: bool) -> None:
    from arena.judging.factory import build_judge, build_judge_provider

    with _at(cfg, (*loc, "prompts")):
        judge = build_judge(jc)  # the prompt set exists and has the mode
    if dry_run:  # the fake judge stands in: the real one's key, weights and endpoints are not needed
        return
    _check_spec(cfg, loc, jc.spec, question_ids, spend=True)
    _build(cfg, loc, jc.spec, lambda: build_judge_provider(jc, judge, seed=cfg.seed))


def check_config(cfg: ArenaConfig, *, generate: bool = True, judge: bool = True, dry_run: bool = False) -> None:
    """Raise the first problem that would stop a run, before any work or spending.

    Args:
        cfg: a loaded config.
        generate: check what generating answers needs (presets, candidates' API keys, their providers).
        judge: check what judging and rating need (prompt set, the judge's preset, API key and provider,
            the rating settings).
        dry_run: the judge is the fake one: its API key, weights and provider are not needed.

    Raises:
        UserError: one line, ``file:line: key '...': problem; fix``.
    """
    from arena.questions import load_run_questions

    _check_work_dir(cfg)
    _check_model_names(cfg)
    q = cfg.questions
    if q.file is not None and not q.file.exists():
        raise _fail(cfg, ("questions", "file"), f"{q.file} does not exist; fix the path (relative to the config file)")
    with _at(cfg, ("questions", "file") if q.file is not None else ("questions",)):
        questions, all_ids = load_run_questions(q)
    for name, m in cfg.enabled_models.items():
        loc = ("models", name)
        _check_spec(cfg, loc, m.spec, all_ids, spend=generate)
        if generate:
            _build(cfg, loc, m.spec, lambda m=m, name=name: m.spec.build(seed=cfg.seed, name=name))
    if generate:
        check_calls(cfg, questions)  # a fake script shorter than the calls generating makes
    if not judge:
        return
    for i, jc in enumerate(cfg.judges):
        _check_judge(cfg, _judge_loc(cfg, i), jc, all_ids, dry_run)
    _check_rating(cfg)
