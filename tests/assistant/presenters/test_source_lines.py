"""Answers show where they come from: a "Source:" line and link buttons; beyond-page entries say they are not from
the troubleshooting page, and from which doc, in English and Italian."""

from __future__ import annotations

import pytest

from assistant.presenters import cards
from assistant.presenters.markdown import entry_markdown

SOURCE_WORD = {"en": "Source", "it": "Fonte"}
NOT_FROM_PAGE = {"en": "Not from the troubleshooting page", "it": "Non dalla pagina di risoluzione dei problemi"}


@pytest.mark.parametrize("lang", ["en", "it"])
def test_a_page_answer_ends_with_its_source_line(knowledge, lang) -> None:  # type: ignore[no-untyped-def]
    entry = knowledge.kb.get("run-country-code")
    source = entry.sources.of(lang)[0]
    text = entry_markdown(entry, lang)
    assert f"{SOURCE_WORD[lang]}: [{source.title}]({source.url})" in text
    assert NOT_FROM_PAGE[lang] not in text
    for doc in entry.sources.of(lang)[1:]:
        assert str(doc.url) in text


@pytest.mark.parametrize("lang", ["en", "it"])
def test_a_beyond_page_answer_says_so_and_names_its_doc(knowledge, lang) -> None:  # type: ignore[no-untyped-def]
    entry = knowledge.kb.get("pre-availability")
    doc = entry.sources.of(lang)[0]
    text = entry_markdown(entry, lang)
    assert NOT_FROM_PAGE[lang] in text and doc.title in text
    assert text.index(NOT_FROM_PAGE[lang]) < text.index(entry.content(lang).lead)  # said before the answer


@pytest.mark.parametrize("lang", ["en", "it"])
def test_the_answer_card_opens_the_sources_and_marks_beyond_page(knowledge, lang) -> None:  # type: ignore[no-untyped-def]
    page = knowledge.kb.get("cfg-signin-error")
    card = cards.answer_card(page, lang, [("yes", "Yes"), ("no", "No")], execute=False)
    urls = [a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    assert str(page.sources.of(lang)[0].url) in urls and len(urls) == len(set(urls))
    beyond = knowledge.kb.get("run-get-help")
    card = cards.answer_card(beyond, lang, [("yes", "Yes"), ("no", "No")], execute=False)
    texts = [b["text"] for b in card["body"] if b.get("type") == "TextBlock"]
    assert any(NOT_FROM_PAGE[lang] in t for t in texts)
