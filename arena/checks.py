"""Check before spending: what the schema cannot see, caught before any answer is generated or paid for.

:func:`check_config` is what ``arena validate`` runs, and what ``arena run``, ``arena generate`` and ``arena
judge`` run before they touch the work dir: the questions load, every answer file exists and belongs to
these questions, every model preset resolves, every ``openai`` endpoint that needs an API key has one in
the environment, and the judge prompt set has the mode. Each failure is one line naming ``file:line``, the
config key and the fix.
"""

from __future__ import annotations

from arena.config import ArenaConfig, ModelConfig
from arena.errors import UserError


def _fail(cfg: ArenaConfig, loc: tuple[str, ...], problem: str) -> UserError:
    return UserError(f"{cfg.where(*loc)}: key '{'.'.join(loc)}': {problem}")


def _check_api_key(cfg: ArenaConfig, loc: tuple[str, ...], base_url: str | list[str] | None, api_key_env: str) -> None:
    from arena.providers.openai_api import api_key_missing

    if api_key_missing(base_url, api_key_env):
        raise _fail(cfg, (*loc, "api_key_env"),
                    f"{api_key_env} is not set in the environment; export it or set api_key_env "
                    "(a server that needs no key, off loopback: export a dummy value)")


def _check_preset(cfg: ArenaConfig, loc: tuple[str, ...], model: str) -> None:
    from arena.presets import resolve_model

    try:
        resolve_model(model)
    except UserError as exc:
        raise _fail(cfg, (*loc, "model"), str(exc)) from None


def _check_model(cfg: ArenaConfig, name: str, m: ModelConfig, all_ids: set[str], *, generate: bool) -> None:
    loc = ("models", name)
    if m.provider == "answers":
        if m.file is None or not m.file.is_file():
            raise _fail(cfg, (*loc, "file"), f"{m.file} does not exist; fix the path (relative to the config file)")
        from arena.providers.answers import AnswersProvider

        AnswersProvider(file=m.file, model_id=m.answer_model_id).check_questions(set(), all_ids)
    if not generate:
        return
    if m.provider == "transformers" and m.model:
        _check_preset(cfg, loc, m.model)
    if m.provider == "openai":
        _check_api_key(cfg, loc, m.base_url, m.api_key_env)


def check_config(cfg: ArenaConfig, *, generate: bool = True, judge: bool = True, dry_run: bool = False) -> None:
    """Raise the first problem that would stop a run, before any work or spending.

    Args:
        cfg: a loaded config.
        generate: check what generating answers needs (presets, candidates' API keys).
        judge: check what judging needs (prompt set, the judge's preset or API key).
        dry_run: the judge is the fake one: its API key and weights are not needed.

    Raises:
        UserError: one line, ``file:line: key '...': problem; fix``.
    """
    from arena.pipeline import load_run_questions, make_judge

    q = cfg.questions
    if q.file is not None and not q.file.exists():
        raise _fail(cfg, ("questions", "file"), f"{q.file} does not exist; fix the path (relative to the config file)")
    _, all_ids = load_run_questions(cfg)
    for name, m in cfg.enabled_models.items():
        _check_model(cfg, name, m, all_ids, generate=generate)
    if not judge:
        return
    make_judge(cfg)  # the prompt set exists and has the mode
    jc = cfg.judge
    if dry_run:
        return
    if jc.provider == "transformers" and jc.model:
        _check_preset(cfg, ("judge",), jc.model)
    if jc.provider == "openai":
        _check_api_key(cfg, ("judge",), jc.base_url, jc.api_key_env)
