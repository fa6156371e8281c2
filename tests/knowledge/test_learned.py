"""The learned model (`knowledge.learned`): deterministic training, the shipped file is what training gives, its
file format and errors, and how it revises the hand-built scores' verdict in `knowledge.matcher.match`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.commands.evaluate import trained_model
from knowledge import learned
from knowledge.learned import NONE, Example, Model, ModelError, load_model, train
from knowledge.matcher import match, score

TOY = [
    Example(("checkbox", "share"), "run-bidirectional"),
    Example(("checkbox", "opportunity"), "run-bidirectional"),
    Example(("ticket", "support"), "run-get-help"),
    Example(("payout", "bank"), NONE),
    Example(("payout", "tax"), NONE),
]


def test_training_is_deterministic_and_learns_its_examples() -> None:
    a, b = train(TOY), train(TOY)
    assert a == b and a.to_text() == b.to_text()
    assert set(a.classes) == {"run-bidirectional", "run-get-help", NONE}
    p = a.probabilities(["checkbox"])
    assert max(p, key=p.__getitem__) == "run-bidirectional" and abs(sum(p.values()) - 1) < 1e-9
    q = a.probabilities(["payout"])
    assert max(q, key=q.__getitem__) == NONE
    assert a.probabilities(["never-seen"]) == a.probabilities([])  # an unknown feature moves nothing


def test_another_seed_or_order_changes_the_model_but_not_what_it_learned() -> None:
    a, b = train(TOY), train(TOY, seed=7)
    assert a.to_text() != b.to_text()
    p = b.probabilities(["ticket"])
    assert max(p, key=p.__getitem__) == "run-get-help"


def test_the_file_round_trips(tmp_path: Path) -> None:
    model = train(TOY, trained_on={"toy": 5})
    path = tmp_path / "model.tsv"
    path.write_text(model.to_text(), encoding="utf-8")
    assert load_model(path) == model


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read"),
        ("", "cannot read"),
        ('{"version": 99, "classes": [], "trained_on": {}}\n', "version 99"),
        ('{"version": 2, "classes": ["a", "b"], "trained_on": {}}\nf\t0.5 x\n', "cannot read"),
        ('{"version": 2, "classes": ["a", "b"], "trained_on": {}}\nf\t0.5\n', "model.tsv:2: needs a feature and 2"),
        ('{"version": 2, "classes": ["a", "b"], "trained_on": {}}\nno tab here\n', "model.tsv:2"),
        ("not json\n", "cannot read"),
    ],
)
def test_a_broken_model_file_is_a_clear_error_naming_it(tmp_path: Path, content: str | None, says: str) -> None:
    path = tmp_path / "model.tsv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError, match=says) as err:
        load_model(path)
    assert "model.tsv" in str(err.value)


def test_the_shipped_model_is_what_training_on_the_repository_gives(settings) -> None:
    """`cosell-bot train` regenerates the file; a change to the entries or the training sets without retraining
    fails here (training is seeded and pure Python, so the same data gives the same bytes)."""
    _, model, cases = trained_model(settings)
    assert learned.MODEL.read_text(encoding="utf-8") == model.to_text(), "run: cosell-bot train"
    shipped = json.loads(learned.MODEL.read_text(encoding="utf-8").splitlines()[0])
    assert shipped["trained_on"]["entry_examples"] > 0 and sum(shipped["trained_on"].values()) > len(cases)


def test_the_held_out_sets_are_never_trained_on() -> None:
    from bot.evaluation import HELDOUT_SETS, SHARED_DEV_SET, TRAINING_SETS, load_cases

    assert not {*HELDOUT_SETS, SHARED_DEV_SET} & set(TRAINING_SETS)
    trained = {c["text"].casefold() for path in TRAINING_SETS for c in load_cases(path)}
    for held in HELDOUT_SETS:
        assert not [c["id"] for c in load_cases(held) if c["text"].casefold() in trained], held.name


class _Fixed(Model):
    """A model that gives every question the same probabilities."""

    def __init__(self, probabilities: dict[str, float]) -> None:
        super().__init__(tuple(probabilities), {}, {})
        object.__setattr__(self, "fixed", probabilities)

    def probabilities(self, feats: Sequence[str]) -> dict[str, float]:
        return dict(self.fixed)  # type: ignore[attr-defined]


def _model_for(knowledge, probabilities: dict[str, float]) -> Model:
    return _Fixed({NONE: 0.0, **probabilities})


def test_what_the_model_takes_for_off_topic_is_not_answered_but_not_refused(knowledge) -> None:
    question = "how do I turn on the flows of the co-sell solution"
    th = dataclasses.replace(knowledge.thresholds, sure_at=1.1)  # no hand-built answer is sure enough to stand
    before = match(knowledge.index, question, th, locale_hint="en")
    assert before.kind == "answer"
    off = _model_for(knowledge, {NONE: 0.9, before.entry: 0.1})
    after = match(knowledge.index, question, th, locale_hint="en", model=off)
    assert after.kind == "clarify" and before.entry in after.alternatives and after.via == "learned"
    vague = "flows not working"  # the hand-built scores offer a choice: the model's "none" leaves it as it is
    assert match(knowledge.index, vague, th, model=off) == match(knowledge.index, vague, th)
    pasted = "WorkflowTriggerNotFound turning on flows"  # a fingerprinted error: the model is not asked
    assert match(knowledge.index, pasted, th, locale_hint="en", model=off).via == "fingerprint"


def test_the_model_decides_between_close_entries(knowledge) -> None:
    question = "flows not working"  # the hand-built scores ask which of two entries is meant
    th = knowledge.thresholds
    before = match(knowledge.index, question, th, locale_hint="en")
    assert before.kind == "clarify" and len(before.alternatives) >= 2
    second = before.alternatives[1]
    sure = _model_for(knowledge, {second: 0.99, NONE: 0.01})
    th2 = dataclasses.replace(th, learned_answer_at=0.0)  # the bar aside: the model's lead decides
    after = match(knowledge.index, question, th2, locale_hint="en", model=sure)
    assert after.kind == "answer" and after.entry == second and after.via == "learned"
    unsure = _model_for(knowledge, dict.fromkeys(before.alternatives, 0.5))
    again = match(knowledge.index, question, th, locale_hint="en", model=unsure)
    assert again.kind == "clarify" and set(before.alternatives[:2]) <= set(again.alternatives)


def test_what_the_words_do_not_place_in_the_domain_the_model_does_not_answer(knowledge) -> None:
    sure = _model_for(knowledge, {"pre-trial": 0.999})
    for question in ("reset my Outlook password", "what's the weather in Rome"):
        assert score(knowledge.index, question, "en", knowledge.thresholds) == []  # no evidence of this domain
        assert match(knowledge.index, question, knowledge.thresholds, model=sure).kind == "none"


def test_the_model_alone_answers_what_the_words_rank_low_unless_it_sees_an_off_topic_question(knowledge) -> None:
    question = "who won the game last night"  # in the domain by its words, too weak for the hand-built scores
    th = knowledge.thresholds
    before = match(knowledge.index, question, th, locale_hint="en")
    assert before.kind == "none" and score(knowledge.index, question, "en", th)
    sure = _model_for(knowledge, {"pre-trial": th.learned_alone + 0.05})
    after = match(knowledge.index, question, th, locale_hint="en", model=sure)
    assert after.kind == "answer" and after.entry == "pre-trial" and after.via == "learned"
    doubt = _model_for(knowledge, {"pre-trial": 0.8, NONE: th.learned_alone_none})
    assert match(knowledge.index, question, th, locale_hint="en", model=doubt) == before
    unsure = _model_for(knowledge, {"pre-trial": th.learned_alone - 0.05})
    assert match(knowledge.index, question, th, locale_hint="en", model=unsure) == before
    # and the real model takes it for what it is
    assert match(knowledge.index, question, th, locale_hint="en", model=knowledge.model).kind != "answer"


def test_a_sure_hand_built_answer_stands_unless_the_model_takes_it_for_off_topic(knowledge) -> None:
    question = "how do I turn on the flows of the co-sell solution"
    th = knowledge.thresholds
    before = match(knowledge.index, question, th, locale_hint="en")
    assert before.kind == "answer" and before.confidence >= th.sure_at
    other = next(e.id for e in knowledge.kb.entries if e.id != before.entry)
    elsewhere = _model_for(knowledge, {other: 0.99, NONE: 0.01})
    assert match(knowledge.index, question, th, locale_hint="en", model=elsewhere) == before
    below = _model_for(knowledge, {other: 0.51, NONE: th.learned_doubt - 0.01})
    assert match(knowledge.index, question, th, locale_hint="en", model=below) == before
    off = _model_for(knowledge, {NONE: th.learned_doubt})  # "private offer in the marketplace": a choice at most
    doubted = match(knowledge.index, question, th, locale_hint="en", model=off)
    assert doubted.kind == "clarify" and before.entry in doubted.alternatives and doubted.via == "learned"
