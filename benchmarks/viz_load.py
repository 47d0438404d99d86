"""How fast the battle browser opens a big run: first and cached load of each page.

Builds a synthetic run dir with N battles (default 100,000) in the pipeline's own file layout
(answers/, judgments.jsonl with both orders of every game, battles.jsonl, leaderboard.json, judge_report.json,
manifest.json, questions.jsonl), then times every page under Streamlit's AppTest: the first run (cold caches:
files read and parsed) and a second run in a fresh session (the cache is process-wide, as in a server).

    python benchmarks/viz_load.py [--battles 100000] [--models 12] [--questions 1000] [--dir /tmp/arena_viz_bench]

Prints a table; the quality bar is "under 3 seconds once loaded" for every page, and a cold open of 100,000
battles under 2 s. At the end it writes a Chatbot-Arena-sized counts file (129 models, 1.67M battles merged
into rows with ``count``) and times opening it with the browser's loader.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["views/leaderboard.py", "views/matchups.py", "views/battles.py", "views/judge.py", "views/single.py"]
VERDICTS = np.array(["A>>B", "A>B", "A=B", "B>A", "B>>A"])
ROUNDS = 1000
"""Bootstrap rounds of the synthetic run: the product default (``arena rate`` and a config without ``rating``)."""
WORDS = ["the", "model", "answer", "question", "careful", "result", "evidence", "option", "context", "reading"]


def build_run(root: Path, n_battles: int, n_models: int, n_questions: int, seed: int = 0) -> Path:
    """Write a synthetic run dir with ``n_battles`` judged battles (half games, each in both orders)."""
    from arena.judging.report import judge_report
    from arena.rating import RatingSettings, battles_frame, compute_leaderboard
    from arena.rating.report import write_leaderboard_files
    from arena.records import Answer, Judgment
    from arena.store import write_json_atomic

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "answers").mkdir(exist_ok=True)
    models = [f"model-{k:02d}" for k in range(n_models)]
    cats = ["writing", "math", "coding", "reasoning", "roleplay", "stem", "humanities", "extraction"]
    with (root / "questions.jsonl").open("w") as fh:
        for q in range(n_questions):
            fh.write(json.dumps({"question_id": f"q{q}", "category": cats[q % len(cats)],
                                 "turns": [f"Question {q} turn 1?", f"Question {q} turn 2?"]}) + "\n")
    answers: dict[str, Answer] = {}
    for m in models:
        with (root / "answers" / f"{m}.jsonl").open("w") as fh:
            for q in range(n_questions):
                turns = [" ".join(rng.choice(WORDS, int(rng.integers(5, 120)))) for _ in range(2)]
                a = Answer(key=f"{m}-q{q}", question_id=f"q{q}", model=m, turns=turns)
                answers[a.key] = a
                fh.write(a.model_dump_json() + "\n")
    strength = np.linspace(-1, 1, n_models)
    games = n_battles // 2
    ia = rng.integers(0, n_models, games)
    ib = (ia + rng.integers(1, n_models, games)) % n_models
    qs = rng.integers(0, n_questions, games)
    turn = rng.integers(1, 3, games)
    judgments: list[Judgment] = []
    rows = []
    for swapped in (False, True):
        first, second = (ib, ia) if swapped else (ia, ib)
        p = 1 / (1 + np.exp(-(strength[first] - strength[second]) - 0.2))
        u = rng.random(games)
        v = np.where(u < p * 0.3, 0, np.where(u < p, 1, np.where(u < p + 0.1, 2, np.where(u < 0.93, 3, 4))))
        fail = rng.random(games) < 0.01
        for g in range(games):
            ma, mb = models[first[g]], models[second[g]]
            verdict = None if fail[g] else str(VERDICTS[v[g]])
            j = Judgment(key=f"j{g}-{int(swapped)}", game_key=f"g{g}", mode="pairwise-all", question_id=f"q{qs[g]}",
                         category=cats[qs[g] % len(cats)], turn=int(turn[g]), model_a=ma, model_b=mb,
                         answer_a=f"{ma}-q{qs[g]}", answer_b=f"{mb}-q{qs[g]}", swapped=swapped, judge="bench-judge",
                         prompt_set="mt-bench", prompt_name="pair-v2", prompt_version="1",
                         output=f"Both answers compared. My final verdict is {verdict}", verdict=verdict,
                         error="parse: no verdict" if fail[g] else None, prompt_tokens=300, completion_tokens=20)
            judgments.append(j)
            if verdict is not None:
                winner = {"A": "model_a", "B": "model_b"}.get(verdict[0] if verdict != "A=B" else "", "tie")
                rows.append({"question_id": j.question_id, "model_a": ma, "model_b": mb, "winner": winner,
                             "judge": j.judge, "turn": j.turn, "category": j.category,
                             "weight": 3.0 if ">>" in verdict else 1.0, "key": j.key, "game_key": j.game_key,
                             "swapped": swapped})
    with (root / "judgments.jsonl").open("w") as fh:
        fh.writelines(j.model_dump_json() + "\n" for j in judgments)
    with (root / "battles.jsonl").open("w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    settings = RatingSettings(bootstrap=ROUNDS, seed=0)
    write_leaderboard_files(compute_leaderboard(battles_frame(rows), settings), root)
    write_json_atomic(root / "judge_report.json", judge_report(judgments, answers))
    write_json_atomic(root / "manifest.json", {
        "name": "viz-bench", "seed": 0, "seeds": {"config": 0, "rating": 0}, "started": "synthetic",
        "finished": "synthetic", "cost_usd": 0.0, "prompts": {"set": "mt-bench"},
        "config": {"questions": {"file": str(root / "questions.jsonl")}, "seed": 0,
                   "judge": {"provider": "fake", "mode": "pairwise-all", "prompts": "mt-bench"},
                   "rating": {"bootstrap": ROUNDS}},
    })
    return root


def time_pages(run_dir: Path, repeats: int = 2) -> list[tuple[str, list[float]]]:
    """Seconds to open the app cold, then per page: its first visit and ``repeats - 1`` later visits.

    Each visit is a new session (a new AppTest) switching to the page after loading the default one, so the
    run is already in the process-wide cache; a page's first visit still computes its own derived caches.
    """
    from streamlit.testing.v1 import AppTest

    app = str(ROOT / "viz" / "app.py")
    os.environ["ARENA_VIZ_RUN"] = str(run_dir / "no-such-run")
    warm = AppTest.from_file(app, default_timeout=600)
    warm.run()  # imports streamlit/altair/arena once, reads no data; not part of any page's time
    os.environ["ARENA_VIZ_RUN"] = str(run_dir)
    cold = AppTest.from_file(app, default_timeout=600)
    t0 = time.perf_counter()
    cold.run()  # the default page (leaderboard) with every cache empty: reads and parses the files
    out = [("open (cold, leaderboard)", [time.perf_counter() - t0])]
    for page in PAGES:
        times = []
        for _ in range(repeats):
            at = AppTest.from_file(app, default_timeout=600)
            at.run()
            at.switch_page(page)
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
            if at.exception:
                raise SystemExit(f"{page}: {at.exception[0].value}")
        out.append((page, times))
    return out


def time_recompute(run_dir: Path) -> list[tuple[str, float]]:
    """Seconds the browser spends rating on its own, with the run's settings (1000 bootstrap rounds)."""
    from arena import browse as vd

    data = vd.load_source(run_dir)
    data.leaderboard = None  # as if leaderboard.json were missing: rate the whole source here
    out = []
    for label, category in [("leaderboard, whole source", None), ("leaderboard, one category", "math")]:
        t0 = time.perf_counter()
        rows, _, how = vd.leaderboard_rows(data, category)
        out.append((f"{label} ({len(rows)} models; {how.split('(')[1].split(';')[0]})", time.perf_counter() - t0))
    t0 = time.perf_counter()
    vd.matchup_frames(data, rows)
    out.append(("matchup matrices", time.perf_counter() - t0))
    return out


def time_counts_file(path: Path, n_models: int = 129, n_battles: int = 1_670_000) -> list[tuple[str, float]]:
    """A Chatbot-Arena-sized counts file (identical battles merged into rows with ``count``): open it in the
    browser's loader and rate it as the leaderboard page does (bootstrap 0, then the product default)."""
    import pandas as pd

    from arena import browse as vd

    rng = np.random.default_rng(0)
    p = rng.pareto(1.5, n_models) + 1.0
    a = rng.choice(n_models, n_battles, p=p / p.sum())
    b = (a + rng.integers(1, n_models, n_battles)) % n_models
    strength = rng.normal(0, 1, n_models)
    winner = np.where(rng.random(n_battles) < 1 / (1 + np.exp(strength[b] - strength[a])), "model_a", "model_b")
    winner[rng.random(n_battles) < 0.35] = "tie"
    names = np.array([f"model-{k:03d}" for k in range(n_models)])
    frame = pd.DataFrame({"model_a": names[a], "model_b": names[b], "winner": winner})
    counts = frame.groupby(["model_a", "model_b", "winner"]).size().reset_index(name="count")
    counts.to_csv(path, index=False)
    t0 = time.perf_counter()
    data = vd.load_source(path)
    out = [(f"open counts file ({len(counts):,} rows = {int(data.battles['count'].sum()):,} battles)",
            time.perf_counter() - t0)]
    if data.notes:
        raise SystemExit(f"counts file did not open cleanly: {data.notes}")
    return out


def load_average() -> str:
    """The 1-minute load average, to read timings taken on a busy machine."""
    try:
        return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--battles", type=int, default=100_000)
    ap.add_argument("--models", type=int, default=12)
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/arena_viz_bench"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--reuse", action="store_true", help="Time an existing --dir instead of building it again.")
    ap.add_argument("--counts-file", type=Path, default=Path("/tmp/arena_viz_counts.csv"),
                    help="Where to write the 1.67M-battle counts file that is opened at the end.")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if args.reuse and (args.dir / "judgments.jsonl").exists():
        run_dir = args.dir
    else:
        run_dir = build_run(args.dir, args.battles, args.models, args.questions)
    built = time.perf_counter() - t0
    sizes = sum(f.stat().st_size for f in run_dir.rglob("*") if f.is_file())
    print(f"run dir {run_dir}: {args.battles:,} battles, {args.models} models, {args.questions:,} questions, "
          f"{sizes / 1e6:.0f} MB, built in {built:.1f}s")
    results = time_pages(run_dir, args.repeats)
    print(f"\n{'page':<26}{'first visit':>12}{'later':>10}")
    for page, times in results:
        later = f"{min(times[1:]):>9.2f}s" if len(times) > 1 else f"{'':>10}"
        print(f"{page:<26}{times[0]:>11.2f}s{later}")
    print("\nopen (cold) = first load of the app on this source: files read, parsed, battle table built. "
          "first visit = a page's first run once the source is cached (it computes its own derived numbers); "
          "later = best of the next runs, each in a new session (the caches are process-wide).")
    from arena import browse as vd

    t0 = time.perf_counter()
    data = vd.load_source(run_dir)
    print(f"browse.load_source alone, outside Streamlit: {time.perf_counter() - t0:.2f}s ({len(data.table):,} rows)")
    print("\nrating in the browser (arena.browse, outside Streamlit):")
    for label, seconds in time_recompute(run_dir):
        print(f"  {label:<70}{seconds:>7.2f}s")
    for label, seconds in time_counts_file(args.counts_file):
        print(f"  {label:<70}{seconds:>7.2f}s")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
