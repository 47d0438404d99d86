"""``arena reproduce RUN_DIR [--into NEW_DIR]``: rebuild a run's config from its manifest, check that
what it needs is available here, run it again into a new dir and diff the two.

What is checked before any work (each missing thing is one line of the refusal):

- every file the config names (question file, pre-generated answer files, local model paths and
  presets), through the providers' own checks;
- every endpoint: its API key variable is set (or it is on loopback) and it accepts a connection;
- the versions of the libraries the run depended on (arena, and torch/transformers for local models,
  openai/httpx for endpoints): same as recorded, unless ``allow_versions``.

A question file that is gone is replaced by the run's own ``questions.jsonl`` (the questions it asked),
with a note.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from arena.config import ArenaConfig
from arena.config.loader import config_from_dict
from arena.errors import UserError
from arena.providers.specs import ProviderSpec, SpecProblem
from arena.records import Manifest
from arena.rundir.load import load_run
from arena.rundir.manifest import relevant_packages, versions


@dataclass
class Plan:
    """A reproduction ready to run: the config, where it writes, and what was adjusted."""

    config: ArenaConfig
    run_dir: Path
    """The run dir the reproduction writes (``<NEW_DIR>/dry-run`` for a dry run)."""
    dry_run: bool
    notes: list[str] = field(default_factory=list)


def config_of(manifest: Manifest, source: Path) -> dict[str, Any]:
    """The validated config a manifest recorded, as a dict (refusing an imported or config-less run)."""
    if manifest.imported is not None:
        raise UserError(f"{source}: an imported run ({manifest.imported.format}); there is no arena config to "
                        "re-run: import it again with arena import")
    if not manifest.config:
        raise UserError(f"{source}: the manifest records no config; only runs made by arena run can be reproduced")
    return dict(manifest.config)


def _endpoint_problem(url: str, timeout_s: float) -> str | None:
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return f"endpoint {url}: not a URL"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except OSError as exc:
        return f"endpoint {url}: no connection ({exc.strerror or exc})"


def _spec_problems(where: str, spec: ProviderSpec, question_ids: set[str], timeout_s: float) -> list[str]:
    out = []
    try:
        spec.check(question_ids=question_ids, spend=True)
    except SpecProblem as exc:
        out.append(f"{where}.{exc.key}: {exc.problem}")
    except UserError as exc:
        out.append(f"{where}: {exc}")
    if "base_url" in type(spec).model_fields:  # a remote kind: its endpoints must answer
        from arena.providers.openai_wire import resolve_base_urls

        out.extend(f"{where}: {p}" for u in resolve_base_urls(getattr(spec, "base_url", None))
                   if (p := _endpoint_problem(u, timeout_s)) is not None)
    return out


def unavailable(cfg: ArenaConfig, manifest: Manifest, *, allow_versions: bool = False,
                timeout_s: float = 3.0) -> list[str]:
    """What the run needs that is not available here, one line each (empty: it can be reproduced)."""
    problems: list[str] = []
    if cfg.questions.file is not None and not cfg.questions.file.is_file():
        problems.append(f"questions.file: {cfg.questions.file} does not exist")
    for name, m in cfg.enabled_models.items():
        problems += _spec_problems(f"models.{name}", m.spec, set(), timeout_s)
    if not manifest.dry_run:
        for i, judge in enumerate(cfg.judges):
            where = f"judge[{i}] ({judge.name})" if cfg.jurors else "judge"
            problems += _spec_problems(where, judge.spec, set(), timeout_s)
    if not allow_versions:
        here = versions()
        for pkg in relevant_packages(cfg):
            then, now = manifest.versions.get(pkg), here.get(pkg)
            if then is not None and then != now:
                problems.append(f"library {pkg}: the run used {then}, here {'it is not installed' if now is None else now}"
                                " (--allow-versions runs anyway; the diff then names it)")
    return problems


def plan_reproduction(run_dir: Path | str, into: Path | str | None = None, *,
                      allow_versions: bool = False) -> Plan:
    """The config to re-run ``run_dir`` with, writing into ``into`` (default ``<run_dir>-reproduce``).

    Raises:
        UserError: not a run dir, an imported run, or something it needs is not available here (the list).
    """
    source = Path(run_dir)
    run = load_run(source, require=True)
    if run.manifest is None:
        raise UserError(f"{source}/manifest.json: missing or unreadable; a run can only be reproduced from its manifest")
    manifest = run.manifest
    data = config_of(manifest, source / "manifest.json")
    # A dry run writes under WORK_DIR/dry-run: the manifest sits there, the work dir is its parent.
    target = Path(into) if into is not None else source.with_name(source.name + "-reproduce")
    work_dir = target.resolve()
    if work_dir == source.resolve() or (manifest.dry_run and work_dir == source.resolve().parent):
        raise UserError(f"--into {target}: that is the original run; give a new directory")
    data["work_dir"] = str(work_dir)
    notes = []
    questions = data.get("questions") or {}
    qfile = questions.get("file") if isinstance(questions, dict) else None
    if qfile and not Path(qfile).is_file() and (source / "questions.jsonl").is_file():
        data["questions"] = {"file": str((source / "questions.jsonl").resolve())}
        notes.append(f"questions.file {qfile} is gone: using the run's own questions.jsonl")
    cfg = config_from_dict(data, source / "manifest.json")
    problems = unavailable(cfg, manifest, allow_versions=allow_versions)
    if problems:
        raise UserError(f"cannot reproduce {source}: " + "; ".join(problems))
    run_out = work_dir / "dry-run" if manifest.dry_run else work_dir
    return Plan(config=cfg, run_dir=run_out, dry_run=manifest.dry_run, notes=notes)


def reproduce(run_dir: Path | str, into: Path | str | None = None, *, allow_versions: bool = False,
              progress: bool = False) -> tuple[Plan, Any]:
    """Re-run ``run_dir`` (see :func:`plan_reproduction`) and diff the result against the original.

    Returns:
        The plan and the :class:`~arena.diff.diff.RunDiff` of the original (A) against the reproduction (B).
    """
    from arena.diff.diff import diff_runs
    from arena.pipeline import run

    plan = plan_reproduction(run_dir, into, allow_versions=allow_versions)
    run(plan.config, dry_run=plan.dry_run, config_path=str(Path(run_dir) / "manifest.json"), progress=progress)
    return plan, diff_runs(run_dir, plan.run_dir)
