"""Judge rendering and keys: prompt choice, multi-turn context, references, truncation, braces."""

from __future__ import annotations

from arena.judging.plan import plan_games


def _game(plan, qid: str, turn: int, swapped: bool = False):
    return next(g for g in plan.games if g.question.question_id == qid and g.turn == turn and g.swapped == swapped)


def test_turn_one_default_prompt(questions, answers, make_judge) -> None:
    judge = make_judge()
    plan = plan_games(questions, answers, "pairwise-all")
    g = _game(plan, "w1", 1)
    r = judge.render(g)
    conv, prompt, notes = r.conversation, r.prompt, r.notes
    assert prompt.name == "pair-v2" and not notes
    assert conv[0]["role"] == "system" and conv[-1]["role"] == "user"
    user = conv[-1]["content"]
    assert "Write a haiku." in user
    assert g.answer_a.turns[0] in user and g.answer_b.turns[0] in user
    assert user.index(g.answer_a.turns[0]) < user.index(g.answer_b.turns[0])


def test_multi_turn_uses_turn_one_answers(questions, answers, make_judge) -> None:
    judge = make_judge()
    g = _game(plan_games(questions, answers, "pairwise-all"), "w1", 2)
    r = judge.render(g)
    conv, prompt = r.conversation, r.prompt
    assert prompt.name == "pair-v2-multi-turn"
    user = conv[-1]["content"]
    for text in ("Write a haiku.", "Now make it rhyme.", *g.answer_a.turns, *g.answer_b.turns):
        assert text in user


def test_reference_only_for_reference_categories(questions, answers, make_judge) -> None:
    judge = make_judge()
    plan = plan_games(questions, answers, "pairwise-all")
    r = judge.render(_game(plan, "m1", 1))
    conv, prompt = r.conversation, r.prompt
    assert prompt.name == "pair-math-v1" and "[The Start of Reference Answer]\n4" in conv[-1]["content"]
    prompt2 = judge.render(_game(plan, "m1", 2)).prompt
    assert prompt2.name == "pair-math-v1-multi-turn"
    # a writing question with a reference still gets the plain prompt
    questions[0] = questions[0].model_copy(update={"reference": ["ref"]})
    plan = plan_games(questions, answers, "pairwise-all")
    r = judge.render(_game(plan, "w1", 1))
    conv, prompt = r.conversation, r.prompt
    assert prompt.name == "pair-v2" and "ref" not in conv[-1]["content"].split("[User Question]")[0]


def test_single_mode_prompts(questions, answers, make_judge) -> None:
    judge = make_judge(mode="single")
    plan = plan_games(questions, answers, "single")
    g = next(g for g in plan.games if g.question.question_id == "s1")
    r = judge.render(g)
    conv, prompt = r.conversation, r.prompt
    assert prompt.name == "single-v1" and g.answer_a.turns[0] in conv[-1]["content"]
    assert judge.parser_name == "brackets-rating"


def test_truncation_note(questions, answers, make_judge) -> None:
    judge = make_judge(max_answer_chars=100)
    answers["alpha"]["s1"] = answers["alpha"]["s1"].model_copy(update={"turns": ["x" * 250]})
    g = _game(plan_games(questions, answers, "pairwise-all"), "s1", 1)
    r = judge.render(g)
    conv, notes = r.conversation, r.notes
    assert len(notes) == 1 and "truncated from 250 to 100" in notes[0]
    assert "x" * 101 not in conv[-1]["content"]
    assert "150 more characters" in conv[-1]["content"]


def test_braces_in_answers_survive(questions, answers, make_judge) -> None:
    judge = make_judge()
    tricky = "def f(): return {'a': 1} {answer_b} {0} {{x}}"
    answers["alpha"]["s1"] = answers["alpha"]["s1"].model_copy(update={"turns": [tricky]})
    g = _game(plan_games(questions, answers, "pairwise-all"), "s1", 1)
    conv = judge.render(g).conversation
    assert tricky in conv[-1]["content"]


def test_key_depends_on_order_answers_and_judge(questions, answers, make_judge) -> None:
    judge = make_judge()
    plan = plan_games(questions, answers, "pairwise-all")
    fwd, rev = _game(plan, "s1", 1), _game(plan, "s1", 1, swapped=True)
    assert judge.key(fwd) != judge.key(rev)
    assert judge.key(fwd) == make_judge().key(fwd)  # deterministic
    other = make_judge(max_answer_chars=500)
    assert other.key(fwd) != judge.key(fwd)
    assert make_judge(prompts="arena-hard").key(fwd) != judge.key(fwd)


def test_render_is_a_named_record(questions, answers, make_judge) -> None:
    from dataclasses import FrozenInstanceError

    import pytest

    from arena.judging.judge import RenderedPrompt

    r = make_judge().render(_game(plan_games(questions, answers, "pairwise-all"), "s1", 1))
    assert isinstance(r, RenderedPrompt)
    with pytest.raises(FrozenInstanceError):
        r.prompt = r.prompt  # type: ignore[misc]
    with pytest.raises(TypeError):
        _conv, _prompt, _notes = r  # type: ignore[misc]  # fields are read by name, never by position
