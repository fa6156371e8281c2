"""`message_intent` (dialogs/base.py): a hand-over request, a whole-message command, small talk or a question."""

from __future__ import annotations

import pytest

from dialogs.base import AGENT, AREA_WORDS, CANCEL, DIAGNOSE, HELP, MENU, TO_ENGLISH, TO_ITALIAN, message_intent

COMMANDS = sorted(HELP | MENU | CANCEL | TO_ENGLISH | TO_ITALIAN | DIAGNOSE | frozenset().union(*AREA_WORDS.values()))


@pytest.mark.parametrize(
    ("text", "verdict", "intent"),
    [
        ("can I talk to someone from support?", "none", "handoff"),
        ("apritemi un ticket per favore", "clarify", "handoff"),
        ("Operator!!!", None, "handoff"),  # the AGENT command is a request for a person
        ("Help!", None, "command"),
        ("  Menu. ", None, "command"),
        ("in italiano", None, "command"),
        ("verifica tutto", None, "command"),
        ("prerequisiti", None, "command"),
        ("grazie mille", "smalltalk", "smalltalk"),
        ("which person needs the Referrals admin role?", "answer", "question"),
        ("does the connector support sandboxes?", "answer", "question"),
        ("chi ha vinto il campionato?", "none", "question"),
    ],
)
def test_message_intent(knowledge, text: str, verdict: str | None, intent: str) -> None:  # type: ignore[no-untyped-def]
    assert message_intent(text, knowledge.handoff, verdict) == intent


def test_every_agent_word_is_a_hand_over_and_no_other_command_is(knowledge) -> None:  # type: ignore[no-untyped-def]
    assert [w for w in sorted(AGENT) if not knowledge.handoff(w)] == []
    assert [w for w in COMMANDS if knowledge.handoff(w)] == []
    assert {message_intent(w, knowledge.handoff) for w in COMMANDS} == {"command"}


def test_agent_words_are_a_hand_over_even_without_the_recogniser() -> None:
    assert message_intent("talk to a person", lambda text: False) == "handoff"
    assert message_intent("talk to a person please", lambda text: False) == "question"
