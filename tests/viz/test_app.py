"""The Streamlit pages under AppTest: each page renders every kind of source without an exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from arena import browse as vd
from tests.viz.conftest import NEEDLE, PWNED

APP = str(Path(__file__).resolve().parents[2] / "viz" / "app.py")
PAGES = ["views/leaderboard.py", "views/matchups.py", "views/battles.py", "views/judge.py", "views/single.py",
         "views/vote.py", "views/people.py"]


DEFAULT = "views/leaderboard.py"
"""The page served at "/" (also at /leaderboard, as a page hidden from the menu: see viz/app.py)."""


def open_page(source: Path, page: str, monkeypatch: pytest.MonkeyPatch, **params: str) -> AppTest:
    """Run the app on ``source`` and switch to ``page`` with URL query ``params`` (the default page: none)."""
    monkeypatch.setenv("ARENA_VIZ_RUN", str(source))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params)  # as a shared link: the state is in the URL before the first run
    at.run()
    if page != DEFAULT:
        at.query_params.update(params)
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Everything textual on the page, joined."""
    parts = [m.value for m in at.markdown] + [m.value for m in at.caption] + [m.value for m in at.info]
    parts += [m.value for m in at.warning] + [m.value for m in at.error] + [t.value for t in at.title]
    parts += [t.value for t in at.subheader] + [t.value for t in at.text]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_a_run(run_dir: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(run_dir, page, monkeypatch)
    assert not at.error


def test_leaderboard_also_at_its_own_path(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(run_dir, DEFAULT, monkeypatch)
    at.switch_page(DEFAULT).run()  # a file registered twice: AppTest picks the url_path named like the file
    assert not at.exception and not at.error
    assert "Leaderboard" in [t.value for t in at.title]
    assert list(at.dataframe[0].value["model"]) == [r["model"] for r in json.loads((run_dir / "leaderboard.json").read_text())]


def test_leaderboard_rows_and_facts(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(run_dir, "views/leaderboard.py", monkeypatch)
    board = at.dataframe[0].value
    expected = [r["model"] for r in json.loads((run_dir / "leaderboard.json").read_text())]
    assert list(board["model"]) == expected
    facts = dict(zip(at.dataframe[1].value["fact"], at.dataframe[1].value["value"], strict=True))
    assert facts["mode"] == "pairwise-all" and facts["prompt set"] == "mt-bench" and facts["seeds"] == "config 0, rating 0"
    at.selectbox(key="cat").set_value("math").run()
    assert not at.exception
    assert at.query_params["cat"] == "math"
    math = at.dataframe[0].value
    data = vd.load_source(run_dir)
    assert math["battles"].sum() == 2 * (data.battles["category"] == "math").sum()


def test_leaderboard_category_from_url(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(run_dir, "views/leaderboard.py", monkeypatch, cat="writing")
    assert at.selectbox(key="cat").value == "writing"


def test_battle_filters_change_the_list(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(run_dir, "views/battles.py", monkeypatch)
    total = len(vd.load_source(run_dir).table)
    assert f"**{total:,}** of {total:,} battles match." in texts(at)
    at.multiselect(key="m").set_value(["alpha", "gamma"]).run()
    listed = at.dataframe[0].value
    assert set(listed["model_a"]) | set(listed["model_b"]) == {"alpha", "gamma"}
    assert at.query_params["m"] == ["alpha", "gamma"]
    at.multiselect(key="m").set_value([]).run()
    at.checkbox(key="err").check().run()
    assert at.dataframe[0].value["parse error"].all()
    at.checkbox(key="err").uncheck().run()
    at.text_input(key="q").input(NEEDLE).run()
    listed = at.dataframe[0].value
    assert len(listed) > 0 and set(listed["question_id"]) == {"q2"}


def test_battle_detail_escapes_model_html(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = vd.load_source(run_dir)
    t = data.table
    bid = t[(t["model_a"] == "beta") & (t["question_id"] == "q1") & (t["turn"] == 1) & t["error"].isna()]["bid"].iloc[0]
    at = open_page(run_dir, "views/battles.py", monkeypatch, battle=bid)
    shown = texts(at)
    assert "What is 2+2?" in shown and "Reference" in shown
    assert PWNED in shown  # rendered through st.markdown, which shows raw HTML as text
    assert "shown first" in shown and "verdict" in shown
    # No element may opt into raw HTML.
    assert not any(getattr(m.proto, "allow_html", False) for m in at.markdown)
    at.toggle(key="raw").set_value(True).run()
    assert any(PWNED in t.value for t in at.text)


def test_unknown_battle_id(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(run_dir, "views/battles.py", monkeypatch, battle="nope")
    assert "No battle with id 'nope'" in texts(at)


def test_matchups_pair(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(run_dir, "views/matchups.py", monkeypatch, pa="alpha", pb="beta")
    counts = vd.matchup_frames(vd.load_source(run_dir))["battles"]
    n = counts[(counts["model"] == "alpha") & (counts["opponent"] == "beta")]["value"].iloc[0]
    assert at.metric[0].value == f"{n:,.0f}"


def test_judge_page_numbers(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(run_dir, "views/judge.py", monkeypatch)
    report = json.loads((run_dir / "judge_report.json").read_text())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["parse failures"] == f"{report['parse_failures']:,}"
    assert metrics["order flips"] == f"{report['order_flips']}/{report['pairs_both_orders']}"


def test_single_mode_page(single_run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(single_run_dir, "views/single.py", monkeypatch, sm="beta", sq="q1")
    table = at.dataframe[0].value
    assert set(table.index) == {"alpha", "beta", "gamma"} and "overall" in table.columns
    shown = texts(at)
    assert PWNED in shown and "score" in shown


@pytest.mark.parametrize("page", PAGES)
def test_empty_run_dir(tmp_path: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(tmp_path, page, monkeypatch)
    shown = texts(at)
    assert "No battles yet" in shown or "No single-answer scores" in shown or "No human votes yet" in shown


def test_run_still_judging(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    partial = tmp_path / "run"
    partial.mkdir()
    (partial / "answers").mkdir()
    for f in (run_dir / "answers").glob("*.jsonl"):
        (partial / "answers" / f.name).write_bytes(f.read_bytes())
    lines = (run_dir / "judgments.jsonl").read_text().splitlines()
    (partial / "judgments.jsonl").write_text("\n".join(lines[:5]) + "\n" + lines[5][:40])
    at = open_page(partial, "views/battles.py", monkeypatch)
    assert "incomplete" in texts(at)
    assert len(at.dataframe[0].value) == 5
    at = open_page(partial, "views/leaderboard.py", monkeypatch)
    assert "computed here" in texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_evalscope_file(evalscope_file: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(evalscope_file, page, monkeypatch)
    if page == "views/leaderboard.py":
        assert set(at.dataframe[0].value["model"]) == {"my_model_v1", "my_model_v2"}


def test_evalscope_battle_detail(evalscope_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(evalscope_file, "views/battles.py", monkeypatch, battle="0")
    first = json.loads(evalscope_file.read_text(encoding="utf-8").splitlines()[0])
    assert first["question"] in texts(at)


def test_bare_battles_file(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "battles.csv"
    lines = [json.loads(x) for x in (run_dir / "battles.jsonl").read_text().splitlines()]
    path.write_text("question_id,model_a,model_b,winner\n"
                    + "".join(f"{b['question_id']},{b['model_a']},{b['model_b']},{b['winner']}\n" for b in lines))
    for page in PAGES:
        open_page(path, page, monkeypatch)
    at = open_page(path, "views/leaderboard.py", monkeypatch)
    assert at.dataframe[0].value["battles"].sum() == 2 * len(lines)
    at = open_page(path, "views/battles.py", monkeypatch, battle="0")
    assert "not in this source" in texts(at)
