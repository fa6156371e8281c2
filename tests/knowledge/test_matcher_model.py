"""The matcher's model on questions nobody tuned for (issue 14 §4): confident wrong answers it no longer gives,
vague questions it asks about, identifiers and phrasal verbs it reads, words of the other language it discounts."""

from __future__ import annotations

import pytest

from knowledge.models import Match

FLOW_ENTRIES = {"cfg-flows-wont-turn-on", "run-flows-off-after-upgrade"}


def _offered(m: Match) -> set[str]:
    return {m.entry} if m.kind == "answer" and m.entry else set(m.alternatives)


def test_flows_off_after_an_import_are_flows_to_turn_on_not_crm_fields(knowledge) -> None:
    m = knowledge.match("flows are off after import, how do I turn them on?")
    assert m.kind == "answer" and m.entry in FLOW_ENTRIES, m


@pytest.mark.parametrize(
    "text",
    [
        "when do we get paid for the co-sell incentive",  # "paid" alone is no question of pricing
        "what do we need to become co-sell ready",  # "ready" alone is no Solution ID question
        "partner center account verification stuck pending",  # "verifica" of "si verifica l'errore" is Italian
        "verifica dell'account partner center bloccata da giorni",  # "si verifica" is "occurs", not a verification
    ],
)
def test_one_shared_word_or_a_word_of_the_other_language_is_no_answer(knowledge, text: str) -> None:
    assert knowledge.match(text).kind != "answer"


def test_a_pasted_salesforce_limit_error_reaches_the_api_limit_entry(knowledge) -> None:
    m = knowledge.match("Salesforce says REQUEST_LIMIT_EXCEEDED")
    assert "pre-trial" in _offered(m), m


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("what role do i need", {"pre-crm-role", "pre-pc-role", "run-access-denied"}),
        ("ruoli necessari?", {"pre-crm-role", "pre-pc-role", "run-access-denied"}),
        ("sync issue", {"run-not-synced", "run-pc-not-synced-to-crm"}),
        ("problema sincronizzazione", {"run-not-synced", "run-pc-not-synced-to-crm"}),
    ],
)
def test_a_vague_question_gets_a_choice_of_the_entries_it_could_mean(knowledge, text: str, entries: set[str]) -> None:
    m = knowledge.match(text)
    assert m.kind == "clarify" and 2 <= len(m.alternatives) <= 3 and set(m.alternatives) <= entries, m


def test_a_long_question_close_to_two_entries_is_answered_with_the_closer(knowledge) -> None:
    m = knowledge.match("switching on the Partner Center to Dynamics 365 flow fails: it says updates are required")
    assert m.kind == "answer" and m.entry == "cfg-activate-pc-to-crm", m


@pytest.mark.parametrize(
    ("pasted", "plain"),
    [
        ("REQUEST_LIMIT_EXCEEDED", "request limit exceeded"),
        ("ConnectionAuthorizationFailed", "connection authorization failed"),
        ("turn them on", "turn on"),
        ("switch it on", "switch on"),
    ],
)
def test_identifiers_and_split_phrasal_verbs_read_as_their_words(knowledge, pasted: str, plain: str) -> None:
    lexer = knowledge.index.lexer
    assert lexer.content(pasted) == lexer.content(plain)


def test_brand_names_in_camel_case_stay_whole(knowledge) -> None:
    assert knowledge.index.lexer.words("AppSource SaaS") == ["appsource", "saas"]
