"""Check before spending: what the schema cannot see, caught before any answer is generated or paid for.

:func:`check_config` is what ``arena validate`` runs, and what ``arena run``, ``arena generate`` and ``arena
judge`` run before they touch the work dir: the questions load, the judge prompt set has the mode, and
every provider spec passes its own :meth:`~arena.providers.specs.ProviderSpec.check` (answer files exist and
belong to these questions, presets resolve, endpoints that need an API key have one). Each failure is one
line naming ``file:line``, the config key and the fix.
"""

from __future__ import annotations

from arena.config.schema import ArenaConfig
from arena.errors import UserError
from arena.providers.specs import ProviderSpec, SpecProblem


def _fail(cfg: ArenaConfig, loc: tuple[str, ...], problem: str) -> UserError:
    return UserError(f"{cfg.where(*loc)}: key '{'.'.join(loc)}': {problem}")


def _check_spec(cfg: ArenaConfig, loc: tuple[str, ...], spec: ProviderSpec, question_ids: set[str], spend: bool) -> None:
    try:
        spec.check(question_ids=question_ids, spend=spend)
    except SpecProblem as exc:
        raise _fail(cfg, (*loc, exc.key), exc.problem) from None


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
    from arena.judging.factory import build_judge
    from arena.questions import load_run_questions

    q = cfg.questions
    if q.file is not None and not q.file.exists():
        raise _fail(cfg, ("questions", "file"), f"{q.file} does not exist; fix the path (relative to the config file)")
    _, all_ids = load_run_questions(q)
    for name, m in cfg.enabled_models.items():
        _check_spec(cfg, ("models", name), m.spec, all_ids, spend=generate)
    if not judge:
        return
    for i, jc in enumerate(cfg.judges):
        loc = ("judge", str(i)) if cfg.jurors else ("judge",)
        build_judge(jc)  # the prompt set exists and has the mode
        if not dry_run:
            _check_spec(cfg, loc, jc.spec, all_ids, spend=True)
