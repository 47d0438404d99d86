"""arena.browse: loading run dirs, battles files and evalscope files; the battle table and its filters."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from arena import browse as vd
from tests.viz.conftest import NEEDLE, PWNED


def test_run_dir_table_has_one_row_per_pairwise_judgment(run_dir: Path) -> None:
    data = vd.load_source(run_dir)
    judgments = [json.loads(line) for line in (run_dir / "judgments.jsonl").read_text().splitlines()]
    assert data.kind == "run" and data.notes == []
    assert len(data.table) == len(judgments)
    assert data.table["error"].notna().sum() == sum(1 for j in judgments if j["error"])
    assert data.models == ["alpha", "beta", "gamma"]
    # Every battle row is a row of the table with the same winner.
    battles = data.battles.set_index("key")
    ok = data.table[data.table["error"].isna()].set_index("bid")
    assert set(battles.index) == set(ok.index)
    assert (battles["winner"] == ok.loc[battles.index, "winner"]).all()


def test_order_flips_match_the_judge_report(run_dir: Path) -> None:
    data = vd.load_source(run_dir)
    report = json.loads((run_dir / "judge_report.json").read_text())
    assert data.table.loc[data.table["flip"], "game_key"].nunique() == report["order_flips"]
    recomputed = vd.battles_bias(data.table)
    assert recomputed.order_flips == report["order_flips"]
    assert recomputed.pairs_both_orders == report["pairs_both_orders"]
    assert recomputed.first_position_win_rate == report["first_position_win_rate"]


def test_filters(run_dir: Path) -> None:
    data = vd.load_source(run_dir)
    t = data.table
    one = vd.filter_battles(data, vd.BattleFilter(models=["beta"]))
    assert len(one) == ((t["model_a"] == "beta") | (t["model_b"] == "beta")).sum() > 0
    pair = vd.filter_battles(data, vd.BattleFilter(models=["alpha", "gamma"]))
    assert set(pair["model_a"]) | set(pair["model_b"]) == {"alpha", "gamma"}
    assert vd.filter_battles(data, vd.BattleFilter(errors_only=True))["error"].notna().all()
    assert vd.filter_battles(data, vd.BattleFilter(flips_only=True))["flip"].all()
    assert vd.filter_battles(data, vd.BattleFilter(ties_only=True))["winner"].str.startswith("tie").all()
    assert set(vd.filter_battles(data, vd.BattleFilter(turns=[2]))["turn"]) == {2}
    assert set(vd.filter_battles(data, vd.BattleFilter(categories=["math"]))["question_id"]) == {"q1"}
    hits = vd.filter_battles(data, vd.BattleFilter(search=NEEDLE.upper()))
    assert len(hits) > 0 and set(hits["question_id"]) == {"q2"}
    assert {"beta"} <= set(hits["model_a"]) | set(hits["model_b"])
    assert set(vd.filter_battles(data, vd.BattleFilter(search="haiku"))["question_id"]) == {"q2"}
    long = vd.filter_battles(data, vd.BattleFilter(min_len=500))
    assert (long[["len_a", "len_b"]].max(axis=1) >= 500).all()
    page, pages = vd.page_of(t, 99, 10)
    assert pages == -(-len(t) // 10) and len(page) == len(t) - 10 * (pages - 1)


def test_battle_detail_has_both_orders_and_texts(run_dir: Path) -> None:
    data = vd.load_source(run_dir)
    row = data.table[(data.table["model_a"] == "beta") & (data.table["question_id"] == "q1")
                     & (data.table["turn"] == 1)].iloc[0]
    detail = vd.battle_detail(data, row["bid"])
    assert detail is not None
    assert detail["question"]["turns"] == ["What is 2+2?", "And 3+3?"]
    assert detail["question"]["reference"] == ["4", "6"]
    assert PWNED in detail["answer_a"]["turns"][0]
    assert len(detail["orders"]) == 2
    assert {o["swapped"] for o in detail["orders"]} == {False, True}
    assert all(o["output"] or o["error"] for o in detail["orders"])
    assert vd.battle_detail(data, "no-such-id") is None


def test_leaderboard_rows_and_category_slices(run_dir: Path) -> None:
    data = vd.load_source(run_dir)
    rows, _, how = vd.leaderboard_rows(data)
    assert "leaderboard.json" in how
    assert list(rows["model"]) == [r["model"] for r in json.loads((run_dir / "leaderboard.json").read_text())]
    cat, _, how = vd.leaderboard_rows(data, "math")
    assert "computed here" in how
    math_battles = data.battles[data.battles["category"] == "math"]
    assert cat["battles"].sum() == 2 * len(math_battles)
    view = vd.leaderboard_view(rows)
    assert {"rank", "model", "rating", "95% CI", "wins", "losses", "ties"} <= set(view.columns)
    assert view["95% CI"].str.startswith("[").all()
    # Rated without intervals (0 bootstrap rounds: bounds equal the rating): said so, no rank ranges.
    flat = rows.assign(ci_low=rows["rating"], ci_high=rows["rating"], rank_high=rows["rank"])
    view = vd.leaderboard_view(flat)
    assert (view["95% CI"] == "none").all() and "rank range" not in view.columns
    # Intervals at another level (rating.confidence) are named by it, as arena rate names them.
    assert "90% CI" in vd.leaderboard_view(rows, 0.9).columns and "95% CI" not in vd.leaderboard_view(rows, 0.9).columns


def test_matchups(run_dir: Path) -> None:
    data = vd.load_source(run_dir)
    frames = vd.matchup_frames(data)
    counts = frames["battles"].pivot(index="model", columns="opponent", values="value")
    assert counts.loc["alpha", "beta"] == counts.loc["beta", "alpha"]
    assert counts.to_numpy().sum() == 2 * len(data.battles)
    obs = frames["observed win rate"].pivot(index="model", columns="opponent", values="value")
    assert obs.loc["alpha", "beta"] + obs.loc["beta", "alpha"] == pytest.approx(1.0)
    pred = frames["predicted win rate"].pivot(index="model", columns="opponent", values="value")
    assert pred.loc["alpha", "gamma"] + pred.loc["gamma", "alpha"] == pytest.approx(1.0)


def test_judge_summary_recomputed_when_report_missing(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, symlinks=True)
    (copy / "judge_report.json").unlink()
    report, how = vd.judge_summary(vd.load_source(copy))
    assert "recomputed" in how
    assert report.model_dump(mode="json") == json.loads((run_dir / "judge_report.json").read_text())


def test_single_mode(single_run_dir: Path) -> None:
    data = vd.load_source(single_run_dir)
    assert data.mode == "single"
    table = vd.single_scores_table(data)
    assert list(table.columns) == ["math", "writing", "overall"]
    assert set(table.index) == {"alpha", "beta", "gamma"}
    reasons = vd.single_reasons(data, "beta", "q1")
    assert len(reasons) == 2 and reasons["score"].notna().all()
    assert PWNED in vd.answer_turns(data, reasons["answer_a"].iloc[0])[0]


def test_evalscope_battles(evalscope_file: Path) -> None:
    data = vd.load_source(evalscope_file)
    assert data.kind == "evalscope" and data.notes == []
    assert len(data.battles) == 40
    raw = [json.loads(line) for line in evalscope_file.read_text(encoding="utf-8").splitlines()]
    winners: dict[int, set[str]] = defaultdict(set)
    for r in raw:
        winners[r["question_id"]].add(r[r["win"]] if r["win"] != "tie" else "tie")
    flips = sum(len(w) > 1 for w in winners.values())
    assert vd.battles_bias(data.table).order_flips == flips
    assert data.table.loc[data.table["flip"], "question_id"].nunique() == flips
    assert data.battles["winner"].tolist() == [r["win"] for r in raw]
    detail = vd.battle_detail(data, data.table["bid"].iloc[0])
    assert detail["question"]["turns"] == [raw[0]["question"]]
    assert detail["answer_a"]["turns"] == [raw[0]["output_a"]]
    assert detail["orders"][0]["score_a"] == raw[0]["scores"][0]
    rows, _, how = vd.leaderboard_rows(data)
    assert "computed here" in how and set(rows["model"]) == {"my_model_v1", "my_model_v2"}


def test_evalscope_battles_without_a_question_id(evalscope_file: Path, tmp_path: Path) -> None:
    """A battle whose question id is missing or null crashed the browser (pydantic: question_id nan): it is
    its own question, with its own question and answer texts, rated as the rater rates the same battles."""
    from arena.rating import RatingSettings, battles_frame, compute_leaderboard

    raw = [json.loads(line) for line in evalscope_file.read_text(encoding="utf-8").splitlines()]
    raw[0].pop("question_id")
    raw[3]["question_id"] = None
    path = tmp_path / "battle.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in raw), encoding="utf-8")
    data = vd.load_source(path)
    assert data.kind == "evalscope" and data.notes == [] and len(data.battles) == len(raw)
    assert data.battles["question_id"].tolist()[:4] == ["#0", str(raw[1]["question_id"]), str(raw[2]["question_id"]), "#3"]
    detail = vd.battle_detail(data, data.table["bid"].iloc[3])
    assert detail["question"]["turns"] == [raw[3]["question"]] and detail["answer_a"]["turns"] == [raw[3]["output_a"]]
    rows, _, _ = vd.leaderboard_rows(data, bootstrap=50)
    plain = [{"model_a": r["model_a"], "model_b": r["model_b"], "winner": r["win"], "question_id": r.get("question_id")}
             for r in raw]
    want = compute_leaderboard(battles_frame(plain), RatingSettings(bootstrap=50, seed=0)).rows
    got = {r["model"]: r for r in rows.to_dict(orient="records")}
    for w in want:
        for key in ("rating", "ci_low", "ci_high"):
            assert got[w["model"]][key] == pytest.approx(w[key], abs=1e-6), (w["model"], key)


def test_evalscope_battles_without_a_model_column_say_so(evalscope_file: Path, tmp_path: Path) -> None:
    """An evalscope file without a model_b column crashed the browser's loader (KeyError: 'model_b')."""
    raw = [json.loads(line) for line in evalscope_file.read_text(encoding="utf-8").splitlines()]
    path = tmp_path / "battle.jsonl"
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "model_b"}, ensure_ascii=False) + "\n"
                            for r in raw), encoding="utf-8")
    data = vd.load_source(path)
    assert data.notes == [f"{path}: missing column(s) model_b; evalscope battles name model_a and model_b"]
    assert len(data.battles) == 0


def test_a_battle_key_that_is_not_text_joins_no_judgment(run_dir: Path, tmp_path: Path) -> None:
    """A damaged battles.jsonl line whose key is a list crashed the battle table (unhashable type: 'list')."""
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    lines = (copy / "battles.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    lines[0] = json.dumps({**first, "key": [first["key"]]})
    (copy / "battles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data, whole = vd.load_source(copy), vd.load_source(run_dir)
    assert data.table["bid"].tolist() == whole.table["bid"].tolist()
    changed = data.table["bid"] == first["key"]
    assert data.table.loc[changed, "weight"].tolist() == [0.0]
    assert data.table.loc[~changed, "weight"].tolist() == whole.table.loc[~changed, "weight"].tolist()


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_bare_battles_file(run_dir: Path, tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame([json.loads(x) for x in (run_dir / "battles.jsonl").read_text().splitlines()])
    frame = frame[["question_id", "model_a", "model_b", "winner"]]
    path = tmp_path / f"battles{suffix}"
    if suffix == ".jsonl":
        path.write_text(frame.to_json(orient="records", lines=True), encoding="utf-8")
    elif suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        pytest.importorskip("pyarrow")
        frame.to_parquet(path)
    data = vd.load_source(path)
    assert data.kind == "battles" and len(data.table) == len(frame)
    rows, _, _ = vd.leaderboard_rows(data)
    assert rows["battles"].sum() == 2 * len(frame)
    assert vd.battle_detail(data, "0")["answer_a"] is None


def test_partial_and_broken_sources(run_dir: Path, tmp_path: Path) -> None:
    assert vd.load_source(tmp_path / "nope").kind == "missing"
    empty = tmp_path / "empty"
    empty.mkdir()
    data = vd.load_source(empty)
    assert data.table.empty and "holds no arena files" in data.notes[0]
    torn = tmp_path / "torn"
    shutil.copytree(run_dir, torn, symlinks=True)
    for name in ("leaderboard.json", "judge_report.json", "battles.jsonl"):
        (torn / name).unlink()
    with (torn / "judgments.jsonl").open("a") as fh:
        fh.write('{"key": "half a li')
    data = vd.load_source(torn)
    assert any("incomplete" in n for n in data.notes)
    assert len(data.table) > 0
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"model_a": "x", "model_b": "y", "winner": "model_a"}\nnot json\n{}\n')
    data = vd.load_source(broken)
    assert data.table.empty and "not valid JSON" in data.notes[0]
    bad = tmp_path / "bad.csv"
    bad.write_text("model_a,model_b,winner\nx,y,left\n")
    assert "unknown winner" in vd.load_source(bad).notes[0]


def test_bare_file_rated_as_arena_rate_rates_it(run_dir: Path, tmp_path: Path) -> None:
    """Same file, same (default) settings: the browser's rows equal ``arena rate --format json``'s, 1000 rounds."""
    from click.testing import CliRunner

    from arena.cli import cli

    path = tmp_path / "battles.jsonl"
    shutil.copy(run_dir / "battles.jsonl", path)
    out = tmp_path / "lb.json"
    result = CliRunner().invoke(cli, ["rate", str(path), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    want = {r["model"]: r for r in json.loads(out.read_text())}
    rows, _, how = vd.leaderboard_rows(vd.load_source(path))
    assert "1000 bootstrap rounds" in how and "seed 0" in how and "arena rate's defaults" in how
    assert list(rows["model"]) == list(want)
    for r in rows.to_dict(orient="records"):
        for col in ("rating", "ci_low", "ci_high", "rank", "rank_high", "battles", "wins", "losses", "ties"):
            assert r[col] == pytest.approx(want[r["model"]][col], abs=1e-6), (r["model"], col)


def test_run_settings_come_from_the_manifest(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, symlinks=True)
    (copy / "leaderboard.json").unlink()
    data = vd.load_source(copy)
    settings = vd.rating_settings(data)
    assert (settings.bootstrap, settings.seed) == (20, 0)  # the fixture's rating block and config seed
    rows, _, how = vd.leaderboard_rows(data)
    assert "20 bootstrap rounds" in how and "config.rating" in how
    want = json.loads((run_dir / "leaderboard.json").read_text())
    assert list(rows["model"]) == [r["model"] for r in want]
    for col in ("rating", "ci_low", "ci_high", "battles"):
        assert rows[col].tolist() == pytest.approx([r[col] for r in want], abs=1e-6), col


@pytest.mark.parametrize("bad", [{"bootstrap": -5}, {"method": "glicko"}, {"unknown_key": 1}])
def test_invalid_manifest_settings_are_a_note_not_silence(run_dir: Path, tmp_path: Path, bad: dict) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy, symlinks=True)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["config"]["rating"].update(bad)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    data = vd.load_source(copy)
    key = next(iter(bad))
    assert any(n.startswith("manifest.json config.rating") and key in n and "arena rate's defaults" in n
               for n in data.notes), data.notes
    assert vd.rating_settings(data).bootstrap == 1000
    _, _, how = vd.leaderboard_rows(data, "math", bootstrap=5)
    assert "do not validate" in how


def test_misnamed_file_gets_arena_rates_message(tmp_path: Path) -> None:
    """The browser reads battles files with arena rate's reader: same refusal, as a note."""
    from arena.errors import UserError
    from arena.rating.read import read_battles

    path = tmp_path / "battles.json"
    path.write_text("model_a,model_b,winner\nx,y,model_a\n", encoding="utf-8")
    with pytest.raises(UserError) as info:
        read_battles(path)
    data = vd.load_source(path)
    assert data.table.empty and data.notes == [str(info.value)]


def test_mark_flips_on_a_hand_made_table() -> None:
    from arena.browse.table import _mark_flips

    t = pd.DataFrame({
        "game_key": ["g1", "g1", "g2", "g2", "g3", "g3", "", "", "g4", "g4", "g5"],
        "swapped": [False, True, False, True, False, False, False, True, False, True, False],
        "winner_model": ["a", "b", "a", "a", "a", "b", "a", "b", "a", "b", "a"],
        "error": [None, None, None, None, None, None, None, None, None, "parse", None],
    })
    # g1: both orders, winners differ; g2: same winner; g3: one order only; "": no game; g4: one row failed
    assert _mark_flips(t).tolist() == [True, True] + [False] * 9
