"""Human votes as battles (votes_to_battles, arena rate on human_votes.jsonl, arena import votes) and the
judge compared with people (judge_vs_people), checked on LLMBar Natural's GPT-4 verdicts vs gold labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.cli import main
from arena.judging.meta_eval import read_verdicts, score_verdicts
from arena.judging.votes import format_people, judge_vs_people
from arena.rating.read import read_battles
from arena.records import HumanVote, Judgment
from arena.records.votes import UNKNOWN_ANNOTATOR, latest_votes, repeat_notes, votes_to_battles


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


LLMBAR = Path(__file__).resolve().parent / "data" / "llmbar" / "GPT-4_Vanilla_result.json"
VERDICT = {"1": "A>B", "2": "B>A", "tie": "A=B"}


def _vote(game: str, a: str, b: str, left: str, label: str, who: str = "ann", qid: str = "q1", **kw: object) -> HumanVote:
    return HumanVote(game_key=game, question_id=qid, model_a=a, model_b=b, shown_left=left, label=label,  # type: ignore[arg-type]
                     annotator=who, created=f"2026-01-01T00:00:{len(game) + len(who)}", **kw)


def _judgment(i: int, swapped: bool, winner: str | None, category: str = "general") -> Judgment:
    """LLMBar pair i judged with output_1 first (or swapped); ``winner`` in the original numbering."""
    a, b = ("output_2", "output_1") if swapped else ("output_1", "output_2")
    verdict = None
    if winner is not None:
        shown_first_won = (winner == "2") if swapped else (winner == "1")
        verdict = "A=B" if winner == "tie" else ("A>B" if shown_first_won else "B>A")
    return Judgment(key=f"{i}-{swapped}", game_key=f"g{i}", mode="pairwise-all", question_id=str(i), category=category,
                    model_a=a, model_b=b, answer_a=f"{a}-{i}", answer_b=f"{b}-{i}", swapped=swapped, judge="gpt-4",
                    prompt_set="llmbar", prompt_name="vanilla", prompt_version="1", verdict=verdict,
                    error=None if verdict else "no verdict")


def _llmbar() -> tuple[list[Judgment], list[HumanVote], dict[str, object]]:
    pairs, first, second = read_verdicts(LLMBAR)
    judgments = [_judgment(i, False, w) for i, w in enumerate(first)] + [_judgment(i, True, w) for i, w in enumerate(second)]
    votes = [_vote(f"g{i}", "output_1", "output_2", "output_1", "A" if p.label == "1" else "B", qid=str(i))
             for i, p in enumerate(pairs)]
    return judgments, votes, score_verdicts(pairs, first, second)


def test_llmbar_gpt4_vs_gold_labels_through_judge_vs_people() -> None:
    judgments, votes, stats = _llmbar()
    people = judge_vs_people(judgments, votes, {}, bootstrap=50, seed=0)
    assert people["games"] == 100 and people["comparisons"] == 200 and people["matched_votes"] == 100
    # LLMBar's published GPT-4 Vanilla accuracy on Natural: 95% in the original order, 96% swapped, 95.5% both.
    assert people["per_position"]["original"]["agreement_with_ties"]["value"] == pytest.approx(0.95)
    assert people["per_position"]["swapped"]["agreement_with_ties"]["value"] == pytest.approx(0.96)
    assert people["agreement"]["agreement_with_ties"]["value"] == pytest.approx(0.955)
    # Cohen's kappa per order equals the plain verdict-vs-label kappa of the meta-evaluation (0.8977 unswapped).
    assert people["per_position"]["original"]["cohen_kappa"]["value"] == pytest.approx(stats["kappa_label_False"])
    assert people["per_position"]["swapped"]["cohen_kappa"]["value"] == pytest.approx(stats["kappa_label_True"])
    assert people["per_position"]["original"]["cohen_kappa"]["value"] == pytest.approx(0.8977, abs=1e-4)
    lo, hi = people["agreement"]["agreement_with_ties"]["ci"]
    assert lo < 0.955 < hi and hi - lo < 0.15
    # Gold labels are "shown left" with output_1 always left: people's first-position rate is label 1's share.
    labels = [v.label for v in votes]
    assert people["position_bias"]["people_first_position_win_rate"]["value"] == pytest.approx(labels.count("A") / 100)
    assert "skipped" in people["rank_correlation"]  # two "models": no leaderboard correlation


def test_judge_vs_people_ties_categories_and_unmatched() -> None:
    js = [_judgment(0, False, "1", "math"), _judgment(1, False, "tie", "code"), _judgment(2, False, "2", "code")]
    votes = [_vote("g0", "output_1", "output_2", "output_2", "B", qid="0"),   # output_1 shown right, wins: agrees
             _vote("g1", "output_1", "output_2", "output_1", "tie", qid="1"),  # tie vs tie: agrees with ties only
             _vote("g2", "output_1", "output_2", "output_1", "A", qid="2"),    # disagrees
             _vote("g2", "output_1", "output_2", "output_1", "skip", qid="2", who="b"),
             _vote("g9", "output_1", "output_2", "output_1", "A", qid="9")]    # no judgment: unmatched
    people = judge_vs_people(js, votes, {}, bootstrap=0)
    assert (people["votes"], people["skipped_votes"], people["matched_votes"], people["games"]) == (5, 1, 3, 3)
    a = people["agreement"]
    assert a["agreement_with_ties"]["value"] == pytest.approx(2 / 3)
    assert a["agreement_without_ties"]["value"] == pytest.approx(1 / 2)
    assert people["per_category"]["math"]["agreement_with_ties"]["value"] == 1.0
    assert people["per_category"]["code"]["agreement_with_ties"]["value"] == 0.5
    assert a["agreement_with_ties"]["ci"] is None


@pytest.mark.parametrize(
    ("cast", "kept"),
    [
        ([("ann", "g", "A")], [0]),
        ([("ann", "g", "A"), ("ann", "g", "A")], [1]),  # a double submit
        ([("ann", "g", "A"), ("ann", "g", "B"), ("ann", "g", "tie")], [2]),  # changes of mind: the latest counts
        ([("ann", "g", "A"), ("bob", "g", "B")], [0, 1]),  # two people on one game: both count
        ([("ann", "g", "A"), ("ann", "h", "B")], [0, 1]),  # one person on two games
        ([("ann", "g", "A"), ("ann", "g", "skip")], [0, 1]),  # a later skip replaces nothing
        ([("ann", "g", "skip"), ("ann", "g", "B")], [0, 1]),  # a skip never counts: kept as seen
        ([("ann", "g", "B"), ("bob", "g", "A"), ("ann", "g", "A")], [1, 2]),  # file order kept
        ([(UNKNOWN_ANNOTATOR, "g", "A"), (UNKNOWN_ANNOTATOR, "g", "B")], [0, 1]),  # imported, nameless: not one person
    ],
)
def test_latest_votes_counts_one_annotators_vote_on_a_game_once(cast: list[tuple[str, str, str]], kept: list[int]) -> None:
    votes = [_vote(game, "x", "y", "x", label, who=who, qid=game) for who, game, label in cast]
    assert latest_votes(votes) == [votes[i] for i in kept]
    replaced = len(cast) - len(kept)
    assert repeat_notes(votes) == ([] if not replaced else [
        f"human_votes.jsonl: {replaced} repeated vote{'' if replaced == 1 else 's'} replaced by the same "
        "annotator's later vote on the same game (each annotator's vote on a game counts once: the latest)"])


def test_judge_vs_people_counts_a_repeated_vote_once() -> None:
    """LLMBar's gold labels as one annotator's votes, with repeats added: 30 earlier votes of the opposite label
    (changed minds) and 20 double submits. Only each annotator's latest vote counts, so every number equals
    that of the votes without the repeats; before, the repeats were matched as votes of their own."""
    judgments, votes, _ = _llmbar()
    base = judge_vs_people(judgments, votes, {}, bootstrap=20, seed=1)
    flip = {"A": "B", "B": "A"}
    changed = [HumanVote.model_validate(v.model_dump(exclude={"winner", "vote_id"}) | {"label": flip[v.label]})
               for v in votes[:30]]
    doubled = [HumanVote.model_validate(v.model_dump()) for v in votes[40:60]]
    repeated = [*changed, *votes, *doubled]
    assert len(latest_votes(repeated)) == len(votes)
    people = judge_vs_people(judgments, repeated, {}, bootstrap=20, seed=1)
    assert (people["votes"], people["replaced_votes"], people["matched_votes"]) == (150, 50, 100)
    assert people["comparisons"] == base["comparisons"] == 200
    for key in ("agreement", "per_category", "per_position", "position_bias", "rank_correlation", "games"):
        assert people[key] == base[key], key
    assert "50 repeats replaced by a later vote" in format_people(people)
    assert "repeats" not in format_people(base)


def test_votes_to_battles_positions_and_skips() -> None:
    votes = [_vote("g", "x", "y", "y", "A"), _vote("g", "x", "y", "x", "bothbad", who="b"),
             _vote("g", "x", "y", "x", "skip", who="c")]
    battles = votes_to_battles(votes)
    assert len(battles) == 2
    first = battles[0]
    assert (first.model_a, first.model_b, first.winner, first.swapped, first.judge) == ("y", "x", "model_a", True, "human")
    assert battles[1].winner == "tie (bothbad)" and not battles[1].swapped


def _write_votes(path: Path) -> list[HumanVote]:
    votes = []
    for i in range(12):
        a, b = [("m1", "m2"), ("m1", "m3"), ("m2", "m3")][i % 3]
        votes.append(_vote(f"g{i}", a, b, a if i % 2 else b, ["A", "B", "tie", "skip"][i % 4], who=f"p{i}", qid=f"q{i}"))
    path.write_text("".join(json.dumps(v.model_dump()) + "\n" for v in votes) + '{"vote_id": "torn', encoding="utf-8")
    return votes


def test_rate_human_votes_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    votes = _write_votes(tmp_path / "human_votes.jsonl")
    frame = read_battles(tmp_path / "human_votes.jsonl")
    assert len(frame) == 9 and set(frame["judge"]) == {"human"}
    assert any("3 skipped votes" in n for n in frame.attrs["notes"])
    code, out, err = _cli(["rate", str(tmp_path / "human_votes.jsonl"), "--format", "json", "--bootstrap", "20"], capsys)
    assert code == 0, err
    rows = json.loads(out)
    assert sum(r["battles"] for r in rows) == 2 * len(votes_to_battles(votes))


def test_import_votes_jsonl_and_mapped_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_votes(tmp_path / "v.jsonl")
    code, out, err = _cli(["import", "votes", str(tmp_path / "v.jsonl"), str(tmp_path / "run")], capsys)
    assert code == 0, err
    assert "imported 12 human votes" in out
    kept = [json.loads(x) for x in (tmp_path / "run" / "human_votes.jsonl").read_text().splitlines()]
    assert len(kept) == 12 and sum(1 for r in json.loads((tmp_path / "run" / "leaderboard.json").read_text())) == 3
    assert len((tmp_path / "run" / "battles.jsonl").read_text().splitlines()) == 9
    csv = tmp_path / "crowd.csv"
    csv.write_text("left,right,choice,who\nm1,m2,left,ann\nm2,m3,right,bob\nm1,m3,tie,ann\nm3,m1,left,cy\n",
                   encoding="utf-8")
    code, out, err = _cli(["import", "votes", str(csv), str(tmp_path / "run2"), "--map",
                           "model_a=left,model_b=right,winner=choice,annotator=who",
                           "--winner-labels", "left=model_a,right=model_b,tie=tie"], capsys)
    assert code == 0, err
    kept = [HumanVote.model_validate_json(x) for x in (tmp_path / "run2" / "human_votes.jsonl").read_text().splitlines()]
    assert [v.winner for v in kept] == ["model_a", "model_b", "tie", "model_a"]
    assert [v.label for v in kept] == ["A", "B", "tie", "A"]
    code, out, err = _cli(["import", "votes", str(csv), str(tmp_path / "run3")], capsys)
    assert code == 2 and "--map" in err and err.strip().count("\n") == 0


def test_votes_invariances(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Shuffled votes give the same comparison; renamed models the same agreement; the vote file rates the same
    through `arena rate` and through `arena import votes`."""
    import random

    judgments, votes, _ = _llmbar()
    base = judge_vs_people(judgments, votes, {}, bootstrap=20, seed=1)
    shuffled = votes[:]
    random.Random(0).shuffle(shuffled)
    assert judge_vs_people(judgments[::-1], shuffled, {}, bootstrap=20, seed=1) == base
    rename = {"output_1": "zeta", "output_2": "alpha"}  # also flips the sorted order of the pair
    rj = [j.model_copy(update={"model_a": rename[j.model_a], "model_b": rename[j.model_b or ""]}) for j in judgments]
    rv = [HumanVote.model_validate(v.model_dump() | {"model_a": rename[v.model_a], "model_b": rename[v.model_b],
                                                     "shown_left": rename[v.shown_left], "vote_id": ""})
          for v in votes]
    renamed = judge_vs_people(rj, rv, {}, bootstrap=20, seed=1)
    for key in ("agreement_with_ties", "agreement_without_ties", "cohen_kappa"):
        assert renamed["agreement"][key]["value"] == pytest.approx(base["agreement"][key]["value"])
    _write_votes(tmp_path / "human_votes.jsonl")
    code, out, err = _cli(["rate", str(tmp_path / "human_votes.jsonl"), "--format", "json", "--bootstrap", "30"], capsys)
    assert code == 0, err
    code, _, err = _cli(["import", "votes", str(tmp_path / "human_votes.jsonl"), str(tmp_path / "run"),
                         "--bootstrap", "30"], capsys)
    assert code == 0, err
    rated = {r["model"]: r for r in json.loads(out)}
    imported = {r["model"]: r for r in json.loads((tmp_path / "run" / "leaderboard.json").read_text())}
    for model, row in rated.items():
        for key in ("rating", "ci_low", "ci_high", "battles", "wins", "losses", "ties"):
            assert imported[model][key] == pytest.approx(row[key]), (model, key)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"model_a": "a", "model_b": "b", "winner": "tie", "turn": "x"}, r"row 1: turn 'x' is not a whole number"),
        ({"model_a": "a", "model_b": "b", "winner": "tie", "turn": 2**63}, r"row 1: turn (9223372036854775808|9.22337\S+) is not a whole number from 0"),
        ({"model_a": "a", "model_b": "a", "winner": "tie"}, r"row 1: model_a and model_b are both 'a'; a vote"),
        ({"model_a": ["a"], "model_b": "b", "winner": "tie"}, r"row 1: model_a is a list \(\['a'\]\), not a name"),
    ],
)
def test_a_vote_row_that_is_not_a_vote_is_refused_in_one_line(tmp_path: Path, row: dict, message: str) -> None:
    """A bad turn crashed with a ValueError, a self-vote printed pydantic's help link instead of the reason,
    and a list became the model "['a']"."""
    from arena.errors import DataError
    from arena.interop import import_run

    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message):
        import_run("votes", path, tmp_path / "run")


def test_repeated_votes_count_once_through_rate_import_and_the_browser(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A vote file where people changed their minds and double-submitted rates as the file of their latest votes,
    through `arena rate`, `arena import votes` and the browser's people leaderboard, each with a note."""
    from arena import browse as vd
    from arena.browse.people import leaderboard_for
    from arena.browse.votes import load_votes

    votes = _write_votes(tmp_path / "clean.jsonl")
    repeats = [HumanVote.model_validate({k: x for k, x in v.model_dump().items() if k != "winner"}
                                        | {"vote_id": "", "label": "B" if v.label == "A" else "A"})
               for v in votes if v.label in ("A", "B")]  # earlier votes of the same people, then changed
    repeated = tmp_path / "human_votes.jsonl"
    repeated.write_text("".join(json.dumps(v.model_dump()) + "\n" for v in [*repeats, *votes]), encoding="utf-8")
    rows = {}
    for name, path in (("clean", tmp_path / "clean.jsonl"), ("repeated", repeated)):
        out = tmp_path / f"{name}.json"
        code, _, err = _cli(["rate", str(path), "--format", "json", "--bootstrap", "30", "--out", str(out)], capsys)
        assert code == 0, err
        rows[name] = json.loads(out.read_text())
    assert rows["repeated"] == rows["clean"]
    assert any(f"{len(repeats)} repeated votes replaced" in n for n in read_battles(repeated).attrs["notes"])
    code, out, err = _cli(["import", "votes", str(repeated), str(tmp_path / "run"), "--bootstrap", "30"], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "leaderboard.json").read_text()) == rows["clean"]
    assert len((tmp_path / "run" / "human_votes.jsonl").read_text().splitlines()) == len(repeats) + len(votes)
    data = vd.load_source(tmp_path / "run")
    board, warnings, _ = leaderboard_for(data, "humans", load_votes(data), bootstrap=30)
    assert board.to_dict(orient="records") == rows["clean"]
    assert any(f"{len(repeats)} repeated votes replaced" in w for w in warnings)
