"""``arena rate`` on JSONL, JSON, CSV and parquet, every output format, and its errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from arena.cli.rate import command


@pytest.fixture()
def battles(llmfao_frame, tmp_path):
    frame = llmfao_frame.head(1500)
    paths = {}
    paths["jsonl"] = tmp_path / "b.jsonl"
    frame.to_json(paths["jsonl"], orient="records", lines=True)
    paths["json"] = tmp_path / "b.json"
    frame.to_json(paths["json"], orient="records")
    paths["csv"] = tmp_path / "b.csv"
    frame.to_csv(paths["csv"], index=False)
    paths["parquet"] = tmp_path / "b.parquet"
    try:
        frame.to_parquet(paths["parquet"])
    except ImportError:
        paths.pop("parquet")
    return paths


def test_every_input_gives_the_same_json(battles):
    outputs = []
    for path in battles.values():
        res = CliRunner().invoke(command, [str(path), "--format", "json", "--bootstrap", "20"])
        assert res.exit_code == 0, res.output
        outputs.append(json.loads(res.output))
    assert all(o == outputs[0] for o in outputs)
    assert {"model", "rating", "ci_low", "ci_high", "rank", "battles", "wins", "losses", "ties"} <= set(
        outputs[0][0]
    )


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "md"])
def test_formats(battles, fmt, tmp_path):
    out = tmp_path / f"lb.{fmt}"
    args = [str(battles["csv"]), "--format", fmt, "--bootstrap", "10", "--out", str(out), "--method", "elo"]
    res = CliRunner().invoke(command, args)
    assert res.exit_code == 0, res.output
    text = out.read_text()
    if fmt == "json":
        assert isinstance(json.loads(text), list)
    elif fmt == "csv":
        assert pd.read_csv(out).columns[:3].tolist() == ["rank", "model", "rating"]
    elif fmt == "md":
        assert text.startswith("| rank | model |")
    else:
        assert text.split()[0] == "rank"


def test_aggregated_count_column(tmp_path):
    path = tmp_path / "agg.csv"
    pd.DataFrame(
        {"model_a": ["a", "a"], "model_b": ["b", "b"], "winner": ["model_a", "model_b"], "count": [30, 10]}
    ).to_csv(path, index=False)
    res = CliRunner().invoke(
        command, [str(path), "--format", "json", "--bootstrap", "50", "--anchor", "b=1000"]
    )
    assert res.exit_code == 0, res.output
    rows = {r["model"]: r for r in json.loads(res.output)}
    assert rows["a"]["battles"] == 40 and rows["a"]["wins"] == 30
    assert rows["a"]["rating"] == pytest.approx(1000 + 400 * 0.4771212547, abs=0.05)  # 400 log10(3)
    assert rows["a"]["ci_high"] > rows["a"]["ci_low"]  # counts are resampled battle by battle


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ('{"model_a": "a", "model_b": "b", "winner": "left"}\n', [], "unknown winner 'left'"),
        ('{"model_a": "a", "model_b": "b"}\n', [], "missing column(s) winner"),
        ('{"model_a": "a", "model_b": "b", "winner": "tie"}\n', ["--anchor", "nope"], "MODEL=RATING"),
        ('{"model_a": "a", "model_b": "b", "winner": "tie"}\n', ["--k", "-1"], "--k: "),
        ('{"model_a": "a", "model_b": "b", "winner": "tie"}\n', ["--k", "inf"], "--k: Input should be a finite"),
        ('{"model_a": "a", "model_b": "b", "winner": "tie"}\n', ["--anchor", "a=nan"], "--anchor: Input should be a fin"),
        ('{"model_a": "a", "model_b": "b", "winner": "tie"}\n', ["--bootstrap", str(10**30)], "--bootstrap: Input "
         "should be less than or equal to 1000000"),  # was: a crash after the reading (maximum dimension exceeded)
        ('{"model_a": "a", "model_b": "b", "winner": "tie", "turn": 1.5}\n', [], "row 1: turn 1.5 is not a whole"),
        ('{"model_a": "a", "model_b": "b", "winner": "tie", "len_a": -2, "len_b": 3}\n', [], "row 1: len_a -2 is not"),
    ],
)
def test_user_errors(tmp_path, content, args, message):
    from arena.errors import UserError

    path = tmp_path / "b.jsonl"
    path.write_text(content)
    res = CliRunner().invoke(command, [str(path), *args])
    assert isinstance(res.exception, UserError)
    assert message in str(res.exception)
    assert "\n" not in str(res.exception)


def test_style_control_flag(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "model_a": "x",
            "model_b": "y",
            "len_a": rng.integers(10, 1000, n),
            "len_b": rng.integers(10, 1000, n),
        }
    )
    longer = frame["len_a"] > frame["len_b"]
    frame["winner"] = np.where(longer ^ (rng.random(n) < 0.3), "model_a", "model_b")
    path = tmp_path / "style.jsonl"
    frame.to_json(path, orient="records", lines=True)
    res = CliRunner().invoke(command, [str(path), "--style-control", "--bootstrap", "20"])
    assert res.exit_code == 0, res.output
    assert "style control coefficients" in res.output and "len +" in res.output
    frame.drop(columns=["len_a", "len_b"]).to_json(path, orient="records", lines=True)
    res = CliRunner().invoke(command, [str(path), "--style-control", "--bootstrap", "0"])
    assert res.exit_code == 0 and "style control needs len_a/len_b" in res.output


def test_self_pairs_are_dropped_with_a_note(tmp_path):
    path = tmp_path / "b.jsonl"
    rows = [
        {"question_id": 1, "model_a": "x", "model_b": "y", "winner": "model_a"},
        {"question_id": 2, "model_a": "x", "model_b": "x", "winner": "tie"},
        {"question_id": 3, "model_a": "y", "model_b": "y", "winner": "model_b"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = CliRunner().invoke(command, [str(path), "--bootstrap", "0"])
    assert res.exit_code == 0, res.output
    assert "note: dropped 2 self-pair battle rows (a model against itself)" in res.output
    res = CliRunner().invoke(command, [str(path), "--bootstrap", "0", "--format", "json"])
    assert {r["model"]: r["battles"] for r in json.loads(res.output)} == {"x": 1, "y": 1}


@pytest.mark.parametrize(
    ("rows", "counts"),
    [
        (["model_a"] * 3 + ["model_b"], [3, 1]),
        (["tie", "tie", "model_a", "model_a", "model_a"], [2, 3]),
    ],
)
def test_elo_reads_counts_in_file_order(tmp_path, rows, counts):
    """`arena rate --method elo --elo-order file`: a count-n row is n consecutive battles."""
    plain = pd.DataFrame({"model_a": "a", "model_b": "b", "winner": rows})
    winners = list(dict.fromkeys(rows))
    agg = pd.DataFrame({"model_a": "a", "model_b": "b", "winner": winners, "count": counts})
    out = []
    for name, frame in (("plain.csv", plain), ("agg.csv", agg)):
        frame.to_csv(tmp_path / name, index=False)
        args = [str(tmp_path / name), "--method", "elo", "--elo-order", "file", "--bootstrap", "5", "--k", "32"]
        res = CliRunner().invoke(command, [*args, "--format", "json"])
        assert res.exit_code == 0, res.output
        out.append(json.loads(res.output))
    assert out[0] == out[1]
    assert out[0][0]["rating"] - out[0][1]["rating"] > 10  # counts moved the ratings


def test_elo_refuses_fractional_counts(tmp_path):
    path = tmp_path / "agg.csv"
    pd.DataFrame({"model_a": ["a"], "model_b": ["b"], "winner": ["model_a"], "count": [1.5]}).to_csv(path, index=False)
    res = CliRunner().invoke(command, [str(path), "--method", "elo"])
    assert "count 1.5" in str(res.exception) and "--method bt" in str(res.exception)


@pytest.mark.parametrize("extra", [[], ["--method", "elo"]])
def test_no_bootstrap_prints_no_interval_and_no_rank_range(battles, extra):
    """With 0 bootstrap rounds no interval exists: the table shows ratings without ``(+0/-0)`` or rank
    ranges and says so, rather than printing zero-width intervals as if they were measured."""
    res = CliRunner().invoke(command, [str(battles["csv"]), "--bootstrap", "0", *extra])
    assert res.exit_code == 0, res.output
    assert "rating (no CI)" in res.output and "intervals: none (0 bootstrap rounds)" in res.output
    assert "(+" not in res.output and "95% CI" not in res.output
    with_ci = CliRunner().invoke(command, [str(battles["csv"]), "--bootstrap", "20", *extra])
    assert "rating (95% CI)" in with_ci.output and "(+" in with_ci.output


@pytest.mark.parametrize("command_args", [["rate", "{csv}"], ["compare", "{csv}", "{csv}"]])
def test_a_negative_seed_is_a_usage_error(battles, command_args):
    """numpy refuses negative seeds: a ValueError from deep inside became 'arena: failed'; now click refuses it."""
    from arena.cli import cli

    args = [a.format(csv=battles["csv"]) for a in command_args] + ["--seed", "-1"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2 and "Invalid value for '--seed'" in res.output


def test_style_control_prints_the_style_controlled_leaderboard_too(tmp_path):
    """--style-control printed the unadjusted ratings alone (with a coefficient line), under the same heading, so
    the table read as style-controlled. Both leaderboards are now printed and named; the second holds the
    style-controlled ratings of extras["style"]["rows"], best first."""
    from arena.rating import compute_leaderboard
    from arena.rating.report import STYLE_TITLE, format_leaderboard
    from tests.invariance.conftest import settings_for, synthetic_battles

    frame = synthetic_battles(seed=5, style=True)
    result = compute_leaderboard(frame, settings_for("style", 30))
    for fmt in ("table", "md"):
        text = format_leaderboard(result, fmt)
        before, after = text.split(STYLE_TITLE)
        assert before.startswith("Without style control:")
        styled = sorted(result.extras["style"]["rows"], key=lambda r: -r["rating"])
        lines = [line for line in after.splitlines() if any(f" {r['model']} " in line for r in styled)]
        assert [next(r["model"] for r in styled if f" {r['model']} " in line) for line in lines[:len(styled)]] \
            == [r["model"] for r in styled]
        assert f"{styled[0]['rating']:.0f} (+" in lines[0]
    plain = format_leaderboard(compute_leaderboard(frame, settings_for("bt", 30)), "table")
    assert STYLE_TITLE not in plain and plain.split()[0] == "rank"


@pytest.mark.parametrize("method", ["elo", "bt-position"])
def test_style_control_with_another_method_is_refused(battles, method):
    """Style control is Bradley-Terry with covariates: with Elo the table showed Elo ratings beside
    Bradley-Terry style-controlled ones, under one method's name."""
    from tests.invariance.conftest import cli

    code, out = cli(["rate", str(battles["csv"]), "--method", method, "--style-control"])
    assert code == 2 and len(out.strip().splitlines()) == 1
    assert f"style_control fits style as covariates of Bradley-Terry; method '{method}'" in out
    assert "--:" not in out and "Value error" not in out


@pytest.mark.parametrize("extra", [[], ["--ci", "sandwich"], ["--method", "elo"], ["--style-control"]])
def test_one_question_has_no_question_resampled_interval(tmp_path, extra):
    """Every battle on one question: each question resample is that question again (and the clustered sandwich
    has no spread), so the intervals read zero width, a certainty nothing measured ('1015 (+0/-0)', ranks 1, 2,
    3). No interval is shown, a note says why and what to do; resampling battles still gives one."""
    rows = [{"question_id": "q1", "model_a": a, "model_b": b, "winner": w, "len_a": la, "len_b": 300}
            for k, (a, b) in enumerate([("x", "y"), ("y", "z"), ("x", "z")] * 20)
            for w, la in [(("model_a", "model_b", "tie")[k % 3], 100 + 37 * k % 400)]]
    path = tmp_path / "one.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    res = CliRunner().invoke(command, [str(path), "--bootstrap", "50", *extra])
    assert res.exit_code == 0, res.output
    assert "rating (no CI)" in res.output and "(+" not in res.output and "intervals: none (one question)" in res.output
    assert "every battle shares one question" in res.output and "--resample battle" in res.output
    if "--style-control" in extra:
        assert res.output.count("rating (no CI)") == 2  # the style-controlled table has none either
    by_battle = CliRunner().invoke(command, [str(path), "--bootstrap", "50", "--resample", "battle", *extra])
    assert "(+" in by_battle.output and "one question" not in by_battle.output


@pytest.mark.parametrize(("n_questions", "resample", "noted"), [(3, "question", True), (3, "battle", False),
                                                                (6, "question", False)])
def test_fewer_questions_than_models_are_noted(tmp_path, n_questions, resample, noted):
    """With q questions resampled, ratings vary in at most q - 1 directions: with fewer questions than models some
    intervals are too narrow (one model read +4/-4 beside others at +50/-50 on 3 questions for 6 models)."""
    models = ["a", "b", "c", "d", "e", "f"]
    rows = [{"question_id": f"q{k % n_questions}", "model_a": x, "model_b": y, "winner": ("model_a", "model_b", "tie")[
        (k + i) % 3]} for k in range(12) for i, x in enumerate(models) for y in models[i + 1:]]
    path = tmp_path / "few.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    for ci in ("bootstrap", "sandwich"):
        res = CliRunner().invoke(command, [str(path), "--bootstrap", "30", "--ci", ci, "--resample", resample])
        assert res.exit_code == 0, res.output
        assert (f"only {n_questions} questions for 6 models" in res.output) is noted, res.output


@pytest.mark.parametrize("rows", [[("x", "y", "model_a", 1)], [("x", "y", "model_a", 4), ("y", "x", "model_b", 3)]])
def test_one_kind_of_battle_has_no_interval(tmp_path, rows):
    """One battle, or only identical battles (one pair, one outcome, either side): every resample of single battles
    is the same, so no interval is shown (it read '1681 (+0/-0)'); a second outcome brings the interval back."""
    frame = pd.DataFrame(rows, columns=["model_a", "model_b", "winner", "count"])
    path = tmp_path / "same.csv"
    frame.to_csv(path, index=False)
    res = CliRunner().invoke(command, [str(path), "--bootstrap", "30"])
    assert res.exit_code == 0, res.output
    assert "rating (no CI)" in res.output and "(+" not in res.output and "none (one kind of battle)" in res.output
    pd.concat([frame, pd.DataFrame([("x", "y", "model_b", 1)], columns=frame.columns)]).to_csv(path, index=False)
    assert "(+" in CliRunner().invoke(command, [str(path), "--bootstrap", "30"]).output
