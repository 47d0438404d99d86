"""Load the arena configs of modelscope llmuses / evalscope (``cfg_arena.yaml``, ``cfg_pairwise_baseline.yaml``,
``cfg_single.yaml``) by translating them to arena's schema, with a notice for everything translated or ignored.

What maps to what:

- ``question_file`` -> ``questions.file``. llmuses paths are relative to the llmuses checkout, not the
  config, so each path is looked up relative to the config's folder, then each folder above it, then the
  current directory; the first that exists wins (else it stays relative to the config and ``arena
  validate`` names it).
- ``answers_gen.<name>``: when its ``output_file`` exists, the answers are served from that file
  (``provider: answers``: nothing is generated again); otherwise ``provider: transformers`` with
  ``model: model_id_or_path``. ModelScope ids (``ZhipuAI/chatglm3-6b``) cannot be downloaded here: a copy in
  the ModelScope cache (``$MODELSCOPE_CACHE[/hub]/<id>`` or ``~/.cache/modelscope/hub/<id>``) is used when
  present, else validation says to download it and point ``model_id_or_path`` at the folder.
  ``generation_config`` -> ``generation`` (``do_sample: false`` -> temperature 0), ``precision`` -> ``dtype``,
  ``revision`` is ignored.
- ``reviews_gen.reviewer.args``: ``model`` (default gpt-4) -> an ``openai`` judge, ``mode`` (``pairwise`` ->
  ``pairwise-all``, ``pairwise_baseline`` -> ``pairwise-baseline``, ``single``), ``temperature`` /
  ``max_tokens`` -> ``judge.generation``, ``position_bias_mitigation: swap_position`` -> ``both_orders: true``
  (otherwise one order per game, drawn with a content seed). ``baseline_file`` becomes a model (named by
  ``rating_gen.baseline_model`` or the file) served from that file and the judge's baseline.
  ``target_answers`` keeps only the models whose ``output_file`` it lists. The lmsys prompt file maps to the
  shipped ``mt-bench`` prompt set (the same FastChat prompts); ``review_file``/``cache_file``/``report_file``
  are replaced by the run dir (``work_dir: outputs/<config name>``).
- ``rating_gen.metrics``: ``elo`` -> ``rating.method: elo``; ``pairwise`` / ``score`` -> Bradley-Terry
  (with the baseline / single-mode scores).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from arena.errors import ConfigError

log = logging.getLogger(__name__)

LLMUSES_KEYS = ("question_file", "answers_gen", "reviews_gen", "rating_gen")
_MODES = {"pairwise": "pairwise-all", "pairwise_baseline": "pairwise-baseline", "single": "single"}


def is_llmuses_config(data: Any) -> bool:
    """True for a parsed llmuses/evalscope arena config (it has any of :data:`LLMUSES_KEYS`)."""
    return isinstance(data, dict) and any(k in data for k in LLMUSES_KEYS)


def _find(raw: str | None, config_path: Path) -> tuple[str | None, bool]:
    """Resolve an llmuses path: config folder, its ancestors, then cwd. Returns (path, found)."""
    if not raw:
        return None, False
    p = Path(str(raw)).expanduser()
    if p.is_absolute():
        return str(p), p.exists()
    base = config_path.resolve().parent
    for folder in [base, *base.parents, Path.cwd()]:
        if (folder / p).exists():
            return str((folder / p).resolve()), True
    return str(raw), False


def _mapping(parent: dict[str, Any], key: str, path: Path, keys: str, prefix: str = "") -> dict[str, Any]:
    """``parent[key]`` when it is a mapping, ``{}`` when it is absent or empty; otherwise a one-line error naming
    the key (``prefix`` is the key path of ``parent``) and the keys it takes."""
    value = parent.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: key '{prefix}{key}' must be a mapping ({keys}), not {type(value).__name__}")
    return value


def _modelscope_copy(model_id: str) -> str | None:
    roots = []
    if os.environ.get("MODELSCOPE_CACHE"):
        env = Path(os.environ["MODELSCOPE_CACHE"]).expanduser()
        roots += [env, env / "hub"]
    roots.append(Path.home() / ".cache" / "modelscope" / "hub")
    for root in roots:
        if (root / model_id / "config.json").is_file():
            return str(root / model_id)
    return None


def _generation(cfg: dict[str, Any], notices: list[str], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("max_new_tokens", "temperature", "top_p", "top_k"):
        if cfg.get(key) is not None:
            out[key] = cfg[key]
    if cfg.get("do_sample") is False:
        out["temperature"] = 0.0
    ignored = sorted(set(cfg) - {"max_new_tokens", "temperature", "top_p", "top_k", "do_sample"})
    if ignored:
        notices.append(f"{where}: ignored generation keys {', '.join(ignored)}")
    return out


def translate_llmuses_config(data: dict[str, Any], path: Path) -> tuple[dict[str, Any], list[str]]:
    """Translate a parsed llmuses config to arena's config schema.

    Args:
        data: the parsed YAML.
        path: the config file (relative paths are looked up from its folder).

    Returns:
        ``(config_dict, notices)``: a dict for :func:`arena.config.config_from_dict` and one line per
        translated or ignored setting.

    Raises:
        ConfigError: a section has the wrong shape (names the key).
    """
    path = Path(path)
    notices: list[str] = [f"{path}: llmuses/evalscope config translated to arena's schema"]
    out: dict[str, Any] = {"name": path.stem, "work_dir": f"outputs/{path.stem}"}

    qfile, found = _find(data.get("question_file"), path)
    if qfile is None:
        raise ConfigError(f"{path}: key 'question_file' is missing; add the path of the questions JSONL")
    out["questions"] = {"file": qfile}
    if found and qfile != data.get("question_file"):
        notices.append(f"question_file: {data['question_file']} found at {qfile}")

    reviews = _mapping(data, "reviews_gen", path, "reviewer, prompt_file, ...")
    args = _mapping(_mapping(reviews, "reviewer", path, "ref, args", "reviews_gen."), "args", path,
                    "model, mode, temperature, ...", "reviews_gen.reviewer.")
    targets = reviews.get("target_answers")
    target_files = {_find(t, path)[0] for t in targets} if isinstance(targets, list) else None

    gen = data.get("answers_gen") or {}
    if not isinstance(gen, dict) or not gen:
        raise ConfigError(f"{path}: key 'answers_gen' must map model names to their settings")
    models: dict[str, Any] = {}
    for name, m in gen.items():
        where = f"answers_gen.{name}"
        if not isinstance(m, dict):
            raise ConfigError(f"{path}: key '{where}' must be a mapping (model_id_or_path, output_file, ...)")
        enable = bool(m.get("enable", True))
        out_file, has_answers = _find(m.get("output_file"), path)
        if target_files is not None and out_file not in target_files and enable:
            enable = False
            notices.append(f"{where}: not in reviews_gen.target_answers, disabled")
        if has_answers:
            # answer_model_id also keeps answer keys apart: arena's answer key leaves the file path out.
            models[name] = {"provider": "answers", "file": out_file, "answer_model_id": name, "enable": enable}
            notices.append(f"{where}: answers read from its output_file {out_file} (not generated again)")
            continue
        model_id = str(m.get("model_id_or_path") or name)
        local, local_found = _find(model_id, path)
        cached = None if local_found else _modelscope_copy(model_id)
        spec: dict[str, Any] = {"provider": "transformers", "model": local if local_found else cached or model_id,
                                "enable": enable}
        if not local_found and cached is None and enable:
            notices.append(f"{where}: model '{model_id}' is a ModelScope id and is not downloaded here; download it "
                           "(e.g. `modelscope download " + model_id + "`) and point model_id_or_path at the folder, "
                           "or set output_file to existing answers")
        elif cached is not None:
            notices.append(f"{where}: using the ModelScope cache copy {cached}")
        generation_config = _mapping(m, "generation_config", path, "max_new_tokens, temperature, ...", f"{where}.")
        if generation_config:
            spec["generation"] = _generation(generation_config, notices, where)
        precision = m.get("precision")
        if precision:
            spec["dtype"] = str(precision).removeprefix("torch.")
        if m.get("revision"):
            notices.append(f"{where}: revision {m['revision']} ignored (arena loads the given folder as is)")
        models[name] = spec

    mode = _MODES.get(str(args.get("mode", "pairwise")))
    if mode is None:
        raise ConfigError(f"{path}: key 'reviews_gen.reviewer.args.mode' {args.get('mode')!r} is not one of "
                          f"{', '.join(_MODES)}")
    rating = _mapping(data, "rating_gen", path, "metrics, baseline_model, ...")
    judge: dict[str, Any] = {"provider": "openai", "model": str(args.get("model") or "gpt-4"), "mode": mode,
                             "prompts": "mt-bench",
                             "both_orders": args.get("position_bias_mitigation") == "swap_position"}
    notices.append(f"reviews_gen: judge {judge['model']} over the OpenAI API (key from $OPENAI_API_KEY), "
                   f"mode {mode}, both_orders {judge['both_orders']}")
    generation = {}
    if args.get("temperature") is not None:
        generation["temperature"] = args["temperature"]
    if args.get("max_tokens") is not None:
        generation["max_new_tokens"] = args["max_tokens"]
    if generation:
        judge["generation"] = generation
    if mode == "pairwise-baseline":
        bfile, bfound = _find(reviews.get("baseline_file"), path)
        bname = str(rating.get("baseline_model") or (Path(bfile).stem.removeprefix("answer_") if bfile else "baseline"))
        if bfile is None:
            raise ConfigError(f"{path}: mode pairwise_baseline needs 'reviews_gen.baseline_file' (the baseline's answers)")
        models[bname] = {"provider": "answers", "file": bfile, "answer_model_id": bname}
        judge["baseline"] = bname
        notices.append(f"reviews_gen.baseline_file: baseline model '{bname}' served from {bfile}")
    out["models"] = models
    out["judge"] = judge
    ignored = [k for k in ("prompt_file", "review_file", "cache_file", "reference_file") if reviews.get(k)]
    if ignored:
        notices.append(f"reviews_gen: {', '.join(ignored)} ignored: prompts are the shipped mt-bench set (FastChat's, "
                       "as lmsys_v2), judgments and reports go to the run dir")
    if reviews.get("enable") is False:
        notices.append("reviews_gen.enable is false: `arena generate` runs only the answers stage")
    metrics = rating.get("metrics") or []
    out["rating"] = {"method": "elo" if "elo" in metrics else "bt"}
    if rating.get("report_file"):
        notices.append("rating_gen.report_file ignored: the leaderboard goes to the run dir (leaderboard.csv/json/md)")
    unknown = sorted(set(data) - {*LLMUSES_KEYS})
    if unknown:
        notices.append(f"ignored top-level keys: {', '.join(unknown)}")
    return out, notices


def translate_and_warn(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Translate (see :func:`translate_llmuses_config`) and log each notice as a warning."""
    out, notices = translate_llmuses_config(data, path)
    for line in notices:
        log.warning("%s", line)
    return out
