"""Off-topic neighbours (payouts, partner ids, co-sell readiness, account verification, marketplace offers) get a
polite pointer to Microsoft's page for them, in the question's language, and never an FAQ entry."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.local import LocalConversation
from bot.wiring import build_assistant
from knowledge.loader import KnowledgeError, load_kb
from knowledge.models import LANGS
from knowledge.neighbours import DATA, load_neighbours
from knowledge.text import fold

QUESTIONS = [
    ("en", "Why hasn't my incentive payout arrived yet?", "payouts"),
    ("en", "Where can I see my earnings from Microsoft incentives?", "payouts"),
    ("it", "Quando arriva il pagamento degli incentivi?", "payouts"),
    ("it", "Dove vedo i guadagni del programma partner?", "payouts"),
    ("en", "How do I associate my MPN ID with Partner Center?", "partner-id"),
    ("en", "Where do I find our PartnerID?", "partner-id"),
    ("it", "Come associo il mio ID MPN a Partner Center?", "partner-id"),
    ("it", "Dove trovo il nostro partner ID?", "partner-id"),
    ("en", "How does our solution become co-sell ready?", "co-sell-readiness"),
    ("en", "What are the requirements for Azure IP co-sell eligibility?", "co-sell-readiness"),
    ("it", "Quali sono i requisiti per il co-selling IP di Azure?", "co-sell-readiness"),
    ("it", "Come diventa la nostra soluzione idonea al co-selling?", "co-sell-readiness"),
    ("en", "My Partner Center account verification is stuck on pending", "account-verification"),
    ("en", "Employment verification was rejected, what now?", "account-verification"),
    ("it", "La verifica dell'account di Partner Center è bloccata da giorni", "account-verification"),
    ("it", "Lo stato di verifica risulta rifiutato, cosa faccio?", "account-verification"),
    ("en", "How do I list a new SaaS offer on AppSource?", "marketplace-publishing"),
    ("it", "Come faccio a pubblicare un'offerta su AppSource?", "marketplace-publishing"),
]


@pytest.mark.parametrize(("lang", "text", "neighbour"), QUESTIONS, ids=[q[1][:40] for q in QUESTIONS])
def test_a_neighbour_question_gets_no_entry(knowledge, lang, text, neighbour) -> None:  # type: ignore[no-untyped-def]
    verdict = knowledge.match(text, lang)
    assert (verdict.kind, verdict.entry, verdict.alternatives) == ("none", None, ())
    assert verdict.neighbour == neighbour


@pytest.mark.parametrize(("lang", "text", "neighbour"), QUESTIONS[::3], ids=[q[1][:40] for q in QUESTIONS[::3]])
async def test_the_reply_is_a_polite_pointer_with_the_docs_link_in_the_users_language(
    settings, knowledge, lang, text, neighbour
) -> None:  # type: ignore[no-untyped-def]
    assistant = build_assistant(settings, knowledge=knowledge)
    try:
        outcome = await LocalConversation(assistant, locale="it-IT" if lang == "it" else "en-US").say(text)
    finally:
        await assistant.close()
    topic = knowledge.neighbours.get(neighbour)
    assert outcome.match is not None and outcome.match.entry is None
    assert topic.pointer[lang] in outcome.text and str(topic.link[lang].url) in outcome.text
    assert ("co-sell referrals connectors" if lang == "en" else "connettori delle segnalazioni") in outcome.text


def test_no_entry_text_is_taken_for_a_neighbour() -> None:
    """The cues never fire on what the knowledge base itself says is a connector question."""
    neighbours = load_neighbours()
    for entry in load_kb().entries:
        for lang in LANGS:
            c = entry.content(lang)
            for text in (c.title, *c.phrasings, *c.keywords):
                assert neighbours.recognise(text) is None, (entry.id, text)


def test_the_one_search_over_all_cues_finds_what_the_topics_find() -> None:
    """`recognise` searches every cue at once first: it must say "none" exactly when no topic's own pattern matches,
    and leave which topic wins to the data's order (a message naming two topics gets the first)."""
    neighbours = load_neighbours()
    both = (
        "Our MPN ID is fine but the incentive payout is missing"  # partner ids first in the text, payouts in the data
    )
    texts = [text for _, text, _ in QUESTIONS] + [both]
    for entry in load_kb().entries:
        for lang in LANGS:
            texts += [entry.content(lang).title, *entry.content(lang).phrasings]
    for text in texts:
        folded = fold(text)
        first = next((n for n in neighbours.neighbours if n.recognises(folded)), None)
        assert neighbours.recognise(text) == first, text
    assert neighbours.recognise(both) == neighbours.get("payouts")


def test_a_pasted_error_still_gets_its_entry(knowledge) -> None:  # type: ignore[no-untyped-def]
    verdict = knowledge.match("Solution ID is required — our solution is not co-sell ready yet?", "en")
    assert verdict.entry == "run-solution-id"


def test_every_pointer_links_microsoft_docs_in_its_language() -> None:
    for topic in load_neighbours().neighbours:
        assert str(topic.link["en"].url).startswith("https://learn.microsoft.com/en-us/")
        assert str(topic.link["it"].url).startswith("https://learn.microsoft.com/it-it/")


def test_a_bad_cue_stops_loading_naming_the_file(tmp_path: Path) -> None:
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    raw["neighbours"][0]["cues"].append("payouts (")
    bad = tmp_path / "neighbours.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"neighbours\.yaml: .*bad cue"):
        load_neighbours(bad)
