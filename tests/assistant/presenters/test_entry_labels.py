"""Every entry has a short label per language, and every choice that names an entry uses it: clarify buttons (cards
and text), the handoff preview, the card a used button leaves behind."""

from __future__ import annotations

import pytest

from assistant.case import HandoffPreview, PromptSpec
from assistant.presenters.choices import prompt_choices
from assistant.presenters.handoff import preview_markdown
from bot.channels.rendering import CardRenderer, TextRenderer, refreshed_card
from knowledge.models import LANGS
from tests.harness import DialogHarness


@pytest.mark.parametrize("lang", LANGS)
def test_every_clarify_choice_is_short_and_distinct(knowledge, lang) -> None:
    kb = knowledge.kb
    spec = PromptSpec(kind="clarify", alternatives=[e.id for e in kb.entries])
    titles = [title for key, title in prompt_choices(kb, spec, lang) if key != "none"]
    assert len(titles) == len(kb.entries)
    assert all(len(t) <= 40 for t in titles), [t for t in titles if len(t) > 40]
    assert len({t.casefold() for t in titles}) == len(titles)
    assert not any(t.endswith("…") for t in titles)


def test_italian_country_code_clarify_shows_two_different_labels(knowledge) -> None:
    spec = PromptSpec(kind="clarify", alternatives=["run-country-code", "run-solution-id"])
    card, _ = CardRenderer(knowledge.kb, execute=False).build(spec, "it")
    titles = [a["title"] for a in card["actions"] if a["data"]["choice"] != "none"]
    assert titles == ["Codice paese mancante", "ID soluzione obbligatorio"]
    text = TextRenderer(knowledge.kb, "test").render(spec, "it").text
    assert "Codice paese mancante" in text and "ID soluzione obbligatorio" in text


@pytest.mark.parametrize("lang", LANGS)
def test_a_used_clarify_button_names_the_entry_by_its_label(knowledge, lang) -> None:
    data = {"card": "clarify", "choice": "run-country-code"}
    card = refreshed_card(knowledge.kb, data, lang)
    label = knowledge.kb.get("run-country-code").content(lang).label
    assert card["fallbackText"].endswith(label)


def test_the_handoff_preview_names_matched_entries_by_label(knowledge) -> None:
    preview = HandoffPreview(description="x", summary="y", matched=["run-country-code", "run-solution-id"])
    text = preview_markdown(knowledge.kb, preview, "it")
    assert "Codice paese mancante; ID soluzione obbligatorio" in text


@pytest.mark.parametrize("lang", LANGS)
async def test_typing_a_label_at_a_clarifying_question_picks_that_entry(knowledge, lang) -> None:
    harness = DialogHarness(knowledge, locale="it-IT" if lang == "it" else "en-US")
    verdict = knowledge.match("crm id")
    assert verdict.kind == "clarify", verdict
    await harness.send("crm id")
    second = knowledge.kb.get(verdict.alternatives[1]).content(lang)
    replies = await harness.send(second.label)  # the answer (then, for an entry naming <CRM>, "which CRM?")
    assert second.lead[:30] in replies[0]
