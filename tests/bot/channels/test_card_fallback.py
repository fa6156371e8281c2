"""A client that cannot render Adaptive Cards still gets the whole answer: the card's `fallbackText` and the
activity's `summary` carry the lead, the numbered steps with their nested bullets, the note, the links, and the
choices as a numbered list that the dialogs accept as typed replies."""

from __future__ import annotations

import pytest

from assistant.case import PromptSpec
from assistant.presenters.choices import FEEDBACK_CHOICES, ITEM_CHOICES, recognize
from bot.channels.rendering import renderer_for
from knowledge.models import LANGS, Area
from tests.harness import DialogHarness


def _plain(knowledge, spec: PromptSpec, lang: str) -> str:  # type: ignore[no-untyped-def]
    activity = renderer_for(knowledge.kb, "webchat").render(spec, lang)
    card = activity.attachments[0].content
    assert card["fallbackText"] == activity.summary
    return str(activity.summary)


@pytest.mark.parametrize("lang", LANGS)
def test_an_answer_fallback_carries_the_whole_answer_and_numbered_choices(knowledge, lang) -> None:
    entry = knowledge.kb.get("run-access-denied")
    c = entry.content(lang)
    text = _plain(knowledge, PromptSpec(kind="answer", entry_id=entry.id), lang)
    assert c.title in text and c.lead in text
    for n, step in enumerate(c.steps, 1):
        assert f"{n}. {step.text}" in text
        for sub in step.substeps:
            assert f"\n    - {sub}" in text  # nested under its step
    for link in c.links:
        assert str(link.url).rstrip("/") in text and link.title in text
    assert "**" not in text and "](" not in text
    choices = "1. Yes, it helped\n2. No" if lang == "en" else "1. Sì, utile\n2. No"
    assert text.endswith(choices)
    assert recognize("1", None, FEEDBACK_CHOICES) == "yes"


@pytest.mark.parametrize("lang", LANGS)
def test_a_checklist_item_fallback_lists_its_choices_in_order(knowledge, lang) -> None:
    text = _plain(knowledge, PromptSpec(kind="item", area=Area.configuration, index=4), lang)
    entry = knowledge.kb.area(Area.configuration)[4]
    assert entry.content(lang).steps[-1].text in text
    numbered = [line for line in text.splitlines() if line[:1].isdigit()][-len(ITEM_CHOICES) :]
    assert [line.split(". ", 1)[0] for line in numbered] == ["1", "2", "3", "4"]


@pytest.mark.parametrize("lang", LANGS)
def test_a_clarify_fallback_numbers_the_labels_and_none(knowledge, lang) -> None:
    spec = PromptSpec(kind="clarify", alternatives=["run-country-code", "run-solution-id"])
    text = _plain(knowledge, spec, lang)
    labels = [knowledge.kb.get(e).content(lang).label for e in spec.alternatives]
    assert f"1. {labels[0]}\n2. {labels[1]}\n3. " in text


async def test_a_typed_number_answers_the_card_on_web_chat(knowledge) -> None:
    harness = DialogHarness(knowledge, channel_id="webchat")
    verdict = knowledge.match("crm id")
    assert verdict.kind == "clarify", verdict
    await harness.send("crm id")
    replies = await harness.send("2")  # the answer (then, for an entry naming <CRM>, "which CRM?")
    assert knowledge.kb.get(verdict.alternatives[1]).en.lead[:30] in replies[0]


def test_italian_text_choices_are_joined_in_italian(knowledge) -> None:
    activity = renderer_for(knowledge.kb, "test").render(PromptSpec(kind="answer", entry_id="pre-trial"), "it")
    assert " or " not in activity.text and "(1) Sì, utile o (2) No" in activity.text
