"""What a run was made with, as flat settings grouped by what they affect.

Each run becomes ``{(group, subject): {setting: value}}`` read from its manifest and records:

- ``questions``: the config's question selection (subject ``config``), the ids (``ids``) and, for ids in
  both runs, the content hashes (``content``);
- ``candidates``: one subject per candidate: its config (provider, model, system prompt, generation
  settings and seed, batch size, dtype, device) overlaid with what its answers record as their runtime
  (:class:`~arena.records.core.GeneratedWith`: chat template hash, padding side, resolved dtype and device,
  engine and library versions, an endpoint's served model and fingerprint);
- ``judge``: the judge config (model, prompt set, mode, both orders, verdict, generation settings) and the
  prompt set's version and template hashes;
- ``rating``: the rating settings used (seed resolved); ``run``: the run seed and dry-run flag;
- ``arena``: arena's version; ``environment``: other library versions and the hardware.

Keys that change cost or speed but not outputs (concurrency, timeouts, retries, key variable names,
prices, the batch API) and where files were written (``work_dir``, ``name``) are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from arena.records import Answer, Question
from arena.rundir.load import Run

Subject = tuple[str, str]
"""``(group, subject)``: e.g. ``("candidates", "alpha")``."""

GROUPS: tuple[str, ...] = ("questions", "candidates", "judge", "rating", "run", "arena", "environment")
"""The groups, in the order a diff shows them."""

OPERATIONAL: frozenset[str] = frozenset({
    "concurrency", "timeout_s", "max_retries", "api_key_env", "latency_s", "expected_output_tokens", "prices",
    "enable", "batch", "batch_poll_s", "batch_window", "batch_max_requests",
})
"""Config keys that change cost or speed, never outputs."""


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``{"a.b": value}``; lists and scalars are values; operational keys are dropped."""
    if not isinstance(obj, Mapping):
        return {prefix: obj} if prefix else {}
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if str(key) in OPERATIONAL:
            continue
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def show(value: Any) -> str:
    """A setting's value as one short line (JSON for lists and mappings)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _summary(values: Iterable[Any]) -> Any:
    """One value when all agree, else the sorted distinct values (a mixed runtime is itself a finding)."""
    distinct = {show(v): v for v in values}
    if len(distinct) == 1:
        return next(iter(distinct.values()))
    return [distinct[k] for k in sorted(distinct)]


def runtime_settings(answers: Iterable[Answer]) -> dict[str, Any]:
    """A candidate's recorded runtime over its answers: per field, the value (or the distinct values)."""
    per_field: dict[str, list[Any]] = {}
    for a in answers:
        if a.generated_with is None:
            continue
        for name, value in flatten(a.generated_with.model_dump()).items():
            if value is not None and value != {}:
                per_field.setdefault(name, []).append(value)
    return {name: _summary(values) for name, values in per_field.items()}


def prompt_settings(prompts: Mapping[str, Any] | None) -> dict[str, Any]:
    """The judge prompt set's name, version and template hashes from ``manifest.prompts``.

    Hash keys are written ``name@version/template``; the version is its own setting, so a new version
    of unchanged templates shows as exactly that.
    """
    if not prompts:
        return {}
    out: dict[str, Any] = {}
    names, versions = set(), set()
    for key, digest in (prompts.get("hashes") or {}).items():
        head, _, template = str(key).partition("/")
        name, _, version = head.partition("@")
        names.add(name)
        versions.add(version)
        out[f"prompt_hash.{template or head}"] = digest
    if names:
        out["prompt_set"] = _summary(sorted(names))
    if versions:
        out["prompt_version"] = _summary(sorted(versions))
    return out


def question_settings(questions: Mapping[str, Question]) -> dict[Subject, dict[str, Any]]:
    """Question ids and per-id content hashes (what a candidate sees: id and turns)."""
    return {("questions", "ids"): {"ids": sorted(questions)},
            ("questions", "content"): {qid: q.content_key for qid, q in questions.items()}}


def _judges(config: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    judge = config.get("jurors") or config.get("judge")  # a dumped jury: every juror under 'jurors'
    if isinstance(judge, list):  # a jury
        return [(str(j.get("name") or j.get("model") or i), j) for i, j in enumerate(judge) if isinstance(j, Mapping)]
    return [("judge", judge)] if isinstance(judge, Mapping) else []


def run_settings(run: Run) -> dict[Subject, dict[str, Any]]:
    """Every setting of a run, grouped: ``{(group, subject): {setting: value}}`` (see the module doc)."""
    manifest = run.manifest
    config: Mapping[str, Any] = (manifest.config if manifest is not None else None) or {}
    out: dict[Subject, dict[str, Any]] = {}
    if isinstance(config.get("questions"), Mapping):
        out[("questions", "config")] = flatten(config["questions"])
    if run.questions:
        out.update(question_settings(run.questions))
    elif run.answers:  # an older or imported run without questions.jsonl: the ids its answers cover
        out[("questions", "ids")] = {"ids": sorted({a.question_id for a in run.answers.values()})}
    answers: dict[str, list[Answer]] = {}
    for a in run.answers.values():
        answers.setdefault(a.model, []).append(a)
    models: Mapping[str, Any] = config.get("models") or {}
    enabled = {m for m, c in models.items() if not isinstance(c, Mapping) or c.get("enable", True)}
    for name in sorted(enabled | set(answers)):
        settings = flatten(models.get(name) or {})
        settings |= runtime_settings(answers.get(name, []))
        out[("candidates", name)] = settings
    for subject, judge in _judges(config):
        out[("judge", subject)] = flatten(judge)
    if manifest is not None:
        out.setdefault(("judge", "judge"), {}).update(prompt_settings(manifest.prompts))
        if manifest.rating:
            out[("rating", "settings")] = flatten(manifest.rating)
        out[("run", "run")] = {"seed": manifest.seed, "dry_run": manifest.dry_run}
        versions = dict(manifest.versions)
        out[("arena", "version")] = {"arena": versions.pop("arena", None)}
        out[("environment", "versions")] = versions
        if manifest.hardware:
            out[("environment", "hardware")] = flatten(manifest.hardware)
    return out
