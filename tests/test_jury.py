"""A jury of judges: two fake judges of known, different position biases; reuse when a judge is added;
pooled leaderboards; agreement statistics on hand-checkable cases; config errors; people in the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.config import load_config
from arena.errors import ConfigError, UserError
from arena.judging.agreement import cohen_kappa, fleiss_kappa
from arena.judging.jury import inter_judge_agreement, jury_battles, model_family, self_preference
from arena.judging.votes import judge_vs_people
from arena.pipeline import run
from arena.records import Battle, HumanVote, JudgeReport, Judgment

BASE = """
name: jury
work_dir: run
seed: 3
questions: {{set: mt_bench, limit: {limit}}}
models:
  alpha: {{provider: fake, fake: {{seed: 1}}}}
  beta: {{provider: fake, fake: {{seed: 2}}}}
  gamma: {{provider: fake, fake: {{seed: 3}}}}
judge: {judge}
rating: {{bootstrap: 20{jury}}}
"""
LEFT = "{name: left, provider: fake, fake: {position_bias: 0.6, tie_rate: 0.1}}"
RIGHT = "{name: right, provider: fake, fake: {position_bias: -0.6, tie_rate: 0.1}}"


def _config(tmp_path: Path, judge: str, *, limit: int = 40, jury: str | None = None) -> Path:
    path = tmp_path / "arena.yaml"
    path.write_text(BASE.format(limit=limit, judge=judge, jury=f", jury: {jury}" if jury else ""), encoding="utf-8")
    return path


def test_two_fake_judges_biases_and_disagreement_recovered(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, f"[{LEFT}, {RIGHT}]"))
    result = run(cfg, progress=False)
    report = json.loads((cfg.work_dir / "judge_report.json").read_text())
    jury = report["jury"]
    games = 40 * 2 * 3 * 2  # questions x turns x pairs x orders
    assert jury["judges"] == ["left", "right"] and result.review is not None and result.review.judged == 2 * games
    # The fake judge's first answer wins with probability 0.5 + bias / 2 among decisive verdicts.
    assert jury["per_judge"]["left"]["first_position_win_rate"] == pytest.approx(0.8, abs=0.05)
    assert jury["per_judge"]["right"]["first_position_win_rate"] == pytest.approx(0.2, abs=0.05)
    # Both draw from the same content-seeded stream: they tie together (10%) and agree on a decisive game
    # when the draw falls below 0.2 or above 0.8 (40% of the rest): 0.1 + 0.9 * 0.4 = 0.46.
    pair = jury["agreement"]["pairwise"]["left | right"]
    assert pair["games"] == games and pair["agreement"] == pytest.approx(0.46, abs=0.05)
    assert pair["cohen_kappa"] < 0.3 and jury["agreement"]["fleiss_kappa"]["games"] == games
    # per-judge (default): the leaderboard rates the lead judge's battles; every juror's are kept.
    battles = [json.loads(x) for x in (cfg.work_dir / "battles.jsonl").read_text().splitlines()]
    pooled = [json.loads(x) for x in (cfg.work_dir / "jury_battles.jsonl").read_text().splitlines()]
    assert {b["judge"] for b in battles} == {"left"} and len(pooled) == 2 * len(battles)
    assert set(jury["leaderboards"]) == {"left", "right"}


def test_adding_a_judge_reuses_every_answer_and_judgment(tmp_path: Path) -> None:
    single = "{provider: fake, fake: {position_bias: 0.6, tie_rate: 0.1}}"
    first = run(load_config(_config(tmp_path, single, limit=3)), progress=False)
    games = 3 * 2 * 3 * 2
    assert first.review is not None and first.review.judged == games
    keys = {json.loads(x)["key"] for x in (tmp_path / "run" / "judgments.jsonl").read_text().splitlines()}
    # The same judge, now named in a jury with a second one: only the new judge is called.
    second = run(load_config(_config(tmp_path, f"[{LEFT}, {RIGHT}]", limit=3, jury="all")), progress=False)
    assert [g.generated for g in second.generation] == [0, 0, 0]
    assert second.reviews["left"].judged == 0 and second.reviews["left"].done_before == games
    assert second.reviews["right"].judged == games
    lines = (tmp_path / "run" / "judgments.jsonl").read_text().splitlines()
    assert len(lines) == 2 * games and keys <= {json.loads(x)["key"] for x in lines}
    battles = [json.loads(x) for x in (tmp_path / "run" / "battles.jsonl").read_text().splitlines()]
    assert {b["judge"] for b in battles} == {"left", "right"}  # reused judgments rated under the juror's name
    third = run(load_config(_config(tmp_path, f"[{LEFT}, {RIGHT}]", limit=3, jury="majority")), progress=False)
    assert third.review is not None and third.review.judged == 0
    board = json.loads((tmp_path / "run" / "leaderboard.json").read_text())
    assert sum(r["battles"] for r in board) == 2 * games  # one majority battle per game, two models each


def _b(game: str, a: str, b: str, winner: str, judge: str, swapped: bool = False) -> Battle:
    return Battle(question_id="q", model_a=a, model_b=b, winner=winner, judge=judge, game_key=game, swapped=swapped)  # type: ignore[arg-type]


def test_jury_battles_majority_all_and_per_judge() -> None:
    battles = [_b("g1", "x", "y", "model_a", "j1"), _b("g1", "x", "y", "model_a", "j2"), _b("g1", "x", "y", "model_b", "j3"),
               _b("g2", "y", "x", "model_a", "j1", True), _b("g2", "y", "x", "tie", "j2", True),
               _b("g2", "x", "y", "model_b", "j3", True)]  # j3 saw g2 the other way round: y won, as j1 says
    majority = jury_battles(battles, "majority")
    assert [(b.model_a, b.winner, b.judge) for b in majority] == [("x", "model_a", "jury-majority"), ("y", "model_a", "jury-majority")]
    assert len(jury_battles(battles, "all")) == 6
    assert {b.judge for b in jury_battles(battles, "per-judge")} == {"j1"}
    assert len(jury_battles(battles, "per-judge", "j3")) == 2
    split = [_b("g", "x", "y", "model_a", "j1"), _b("g", "x", "y", "model_b", "j2")]
    assert jury_battles(split, "majority")[0].winner == "tie"  # no strict majority
    with pytest.raises(UserError, match="per-judge, majority, all"):
        jury_battles(battles, "mean")
    with pytest.raises(UserError, match="j1, j2, j3"):
        jury_battles(battles, "per-judge", "nobody")


def test_kappas_by_hand() -> None:
    # Two raters, 2x2 table [[20, 5], [10, 15]]: p_o = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa 0.4.
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(["t"] * 3, ["t"] * 3) is None
    # Fleiss (1971) worked example as on Wikipedia: 10 items, 14 raters, 5 categories -> 0.210.
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    items = [[c for c, n in enumerate(row) for _ in range(n)] for row in table]
    assert fleiss_kappa(items) == pytest.approx(0.20993, abs=1e-4)
    # With two raters Fleiss' kappa is Scott's pi; all agreeing gives 1.
    agree = [_b(f"g{i}", "x", "y", w, j) for i, w in enumerate(["model_a", "model_b", "tie"]) for j in ("p", "q")]
    stats = inter_judge_agreement(agree)
    assert stats["pairwise"]["p | q"]["cohen_kappa"] == 1.0 and stats["fleiss_kappa"]["value"] == 1.0


def test_self_preference() -> None:
    # Judge "gpt" lets gpt-4o win 3 of 4; judge "llama" lets it win 1 of 4: +0.5 for gpt's own model.
    battles = ([_b(f"g{i}", "gpt-4o", "llama-3", "model_a" if i < 3 else "model_b", "gpt") for i in range(4)]
               + [_b(f"g{i}", "gpt-4o", "llama-3", "model_a" if i < 1 else "model_b", "llama") for i in range(4)])
    pref = self_preference(battles, {"gpt": {"gpt-4o"}, "llama": {"llama-3"}})
    assert pref["gpt"]["per_model"]["gpt-4o"]["difference"] == pytest.approx(0.5)
    assert pref["llama"]["mean_difference"] == pytest.approx(0.5)
    assert model_family("openai/GPT-4o-mini") == "gpt" and model_family("Llama-3-8B") == "llama"


def test_jury_config_errors_name_the_line(tmp_path: Path) -> None:
    nameless = "[{provider: fake}, {name: b, provider: fake, fake: {position_bias: 0.2}}]"
    with pytest.raises(ConfigError, match=r"needs a 'name'"):
        load_config(_config(tmp_path, nameless))
    with pytest.raises(ConfigError, match="empty list"):
        load_config(_config(tmp_path, "[]"))
    twice = f"[{LEFT}, {LEFT}]"
    with pytest.raises(ConfigError, match="given twice"):
        load_config(_config(tmp_path, twice))
    same = f"[{LEFT}, {LEFT.replace('name: left', 'name: other')}]"
    with pytest.raises(ConfigError, match="are the same judge"):
        load_config(_config(tmp_path, same))
    modes = f"[{LEFT}, {RIGHT.replace('provider: fake', 'provider: fake, mode: single')}]"
    with pytest.raises(ConfigError, match=r"judge\[1\].mode"):
        load_config(_config(tmp_path, modes))
    path = tmp_path / "multi.yaml"
    path.write_text(BASE.format(limit=2, judge=f"\n  - {LEFT}\n  - {{name: r, provider: fake, modle: x}}", jury=""))
    with pytest.raises(ConfigError, match=r"multi.yaml:12: unknown key 'judge.1.modle'. Did you mean 'mode'"):
        load_config(path)
    with pytest.raises(ConfigError, match="rating.jury"):
        load_config(_config(tmp_path, f"[{LEFT}, {RIGHT}]", jury="mean"))
    cfg = load_config(_config(tmp_path, f"[{LEFT}, {RIGHT}]", jury="all"))
    dumped = cfg.model_dump(mode="json")
    assert [j["name"] for j in dumped["jurors"]] == ["left", "right"] and dumped["rating"]["jury"] == "all"
    assert dumped["judge"]["name"] == "left" and dumped["judge"]["mode"] == "pairwise-all"  # manifest readers
    from arena.config import ArenaConfig

    again = ArenaConfig.model_validate(dumped)
    assert [j.name for j in again.jurors] == ["left", "right"] and again.jury == "all"
    with pytest.raises(ValueError, match="unknown key 'jurors'"):
        ArenaConfig.model_validate(dumped | {"judge": {"provider": "fake"}})
    single = load_config(_config(tmp_path, "{provider: fake}")).model_dump(mode="json")
    assert isinstance(single["judge"], dict) and "jury" not in single["rating"] and "jurors" not in single


def test_people_section_and_cli_print(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from arena.cli import main

    path = _config(tmp_path, f"[{LEFT}, {RIGHT}]", limit=3)
    cfg = load_config(path)
    run(cfg, progress=False)
    judgments = [Judgment.model_validate_json(x) for x in (cfg.work_dir / "judgments.jsonl").read_text().splitlines()]
    left = [j for j in judgments if j.judge == "left"]
    # People who side with the first-shown answer of the "left" judge's original-order judgments.
    votes = [HumanVote(game_key=j.game_key, question_id=j.question_id, turn=j.turn, model_a=j.model_a,
                       model_b=j.model_b or "", shown_left=j.model_a, annotator="ann", created=f"t{i}",
                       label={"A>B": "A", "B>A": "B", "A=B": "tie", "A>>B": "A", "B>>A": "B"}[j.verdict or "A=B"])
             for i, j in enumerate(left) if not j.swapped]
    (cfg.work_dir / "human_votes.jsonl").write_text("".join(v.model_dump_json() + "\n" for v in votes))
    try:
        main(["judge", "-c", str(path), "-q"])
    except SystemExit as exc:
        assert not exc.code
    out = capsys.readouterr().out
    report = JudgeReport.model_validate_json((cfg.work_dir / "judge_report.json").read_text())
    people = (report.model_extra or {})["people"]
    assert people["judge"] == "left" and people["matched_votes"] == len(votes)
    assert people["per_position"]["original"]["agreement_with_ties"]["value"] == 1.0
    direct = judge_vs_people(left, votes, {}, bootstrap=0)
    assert direct["agreement"]["agreement_with_ties"]["value"] == people["agreement"]["agreement_with_ties"]["value"]
    assert "judge vs people" in out and "Fleiss' kappa" in out and "left vs right" in out


def test_majority_is_invariant_to_order_and_juror_order() -> None:
    import random

    from arena.rating import RatingSettings, battles_frame, compute_leaderboard

    rng = random.Random(5)
    models = ["m1", "m2", "m3", "m4"]
    battles = []
    for g in range(60):
        a, b = rng.sample(models, 2)
        for judge in ("j1", "j2", "j3"):
            battles.append(_b(f"g{g}", a, b, rng.choice(["model_a", "model_a", "model_b", "tie"]), judge))
    shuffled = battles[:]
    rng.shuffle(shuffled)
    settings = RatingSettings(bootstrap=20, seed=0)

    def board(bs: list[Battle]) -> dict[str, float]:
        rows = compute_leaderboard(battles_frame(sorted(jury_battles(bs, "majority"), key=lambda x: x.game_key)),
                                   settings).rows
        return {r["model"]: r["rating"] for r in rows}

    assert board(shuffled) == pytest.approx(board(battles))
    assert inter_judge_agreement(shuffled)["fleiss_kappa"] == inter_judge_agreement(battles)["fleiss_kappa"]


def test_real_jury_on_a_stub_endpoint_costs_and_dry_run_per_judge(tmp_path: Path, stub_server: object) -> None:
    """Two OpenAI-compatible judges (one loopback stub, two model names) with their own prices: the dry run
    estimates each judge's calls and cost and sends nothing; the real run's cost is each judge's tokens at
    its own prices (10 prompt and 3 output tokens a call in the stub's replies)."""
    from tests.helpers.openai_stub import fixed

    server = stub_server(fixed("Both fine. [[A]]"))  # type: ignore[operator]
    judges = (f'[{{name: big, provider: openai, model: big-judge, base_url: "{server.url}", '
              "prices: {input_per_1m: 1000, output_per_1m: 2000}}, "
              f'{{name: small, provider: openai, model: small-judge, base_url: "{server.url}", '
              "prices: {input_per_1m: 100, output_per_1m: 0}}]")
    cfg = load_config(_config(tmp_path, judges, limit=2))
    games = 2 * 2 * 3 * 2
    dry = run(cfg, dry_run=True, progress=False)
    assert [e.judge_calls for e in dry.estimates] == [games, games] and len(server.requests) == 0
    assert dry.estimate is not None and dry.estimate.judge_calls == 2 * games
    costs = [e.cost_usd for e in dry.estimates]
    assert dry.estimate.cost_usd == pytest.approx(sum(c or 0.0 for c in costs)) and all(costs)
    real = run(load_config(_config(tmp_path, judges, limit=2)), progress=False)
    assert len(server.requests) == 2 * games and real.reviews["big"].judged == real.reviews["small"].judged == games
    assert real.report is not None
    expected = games * (10 * 1000 + 3 * 2000) / 1e6 + games * (10 * 100) / 1e6
    assert real.report.cost_usd == pytest.approx(expected)
    per = (real.report.model_extra or {})["jury"]["per_judge"]
    assert per["big"]["cost_usd"] == pytest.approx(games * (10 * 1000 + 3 * 2000) / 1e6)
    manifest = json.loads((cfg.work_dir / "dry-run" / "manifest.json").read_text())
    assert [e["judge"] for e in manifest["estimate"]["per_judge"]] == ["big", "small"]
