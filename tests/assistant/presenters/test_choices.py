"""assistant/presenters/choices.py: the buttons a prompt offers and how a reply picks one."""

from __future__ import annotations

import pytest

from assistant.case import PromptSpec
from assistant.presenters.choices import (
    CONFIRM_CHOICES,
    FEEDBACK_CHOICES,
    FIX_CHOICES,
    ITEM_CHOICES,
    prompt_choices,
    recognize,
)
from knowledge.models import Area


@pytest.mark.parametrize(
    ("reply", "value", "keys", "picked"),
    [
        (None, {"choice": "done"}, ITEM_CHOICES, "done"),  # a card submit
        (None, {"choice": "unknown"}, ITEM_CHOICES, None),  # a forged submit names no key
        ("2", None, ITEM_CHOICES, "fixed"),  # a number
        ("9", None, ITEM_CHOICES, None),  # out of range
        ("Sì, fatto!", None, ITEM_CHOICES, "done"),
        ("non ancora", None, ITEM_CHOICES, "open"),
        ("salta", None, ITEM_CHOICES, "skip"),
        ("👍", None, FEEDBACK_CHOICES, "yes"),
        ("not really.", None, FEEDBACK_CHOICES, "no"),
        ("sistemalo tu", None, FIX_CHOICES, "fix"),
        ("procedi", None, CONFIRM_CHOICES, "confirm"),
        ("maybe later, how do I fix the webhook?", None, CONFIRM_CHOICES, None),  # free text: a new question
        ("", None, FEEDBACK_CHOICES, None),
        ("¹", None, ITEM_CHOICES, None),  # a digit to str.isdigit, not to int(): never a crash
        ("٣", None, ITEM_CHOICES, None),
        ("invialo", None, ("send", "cancel"), "send"),
        ("non inviare", None, ("send", "cancel"), "cancel"),
        ("★★★★", None, ("r1", "r2", "r3", "r4", "r5"), "r4"),
        ("5", None, ("r1", "r2", "r3", "r4", "r5"), "r5"),
    ],
)
def test_a_reply_picks_its_choice_or_none(reply, value, keys, picked) -> None:  # type: ignore[no-untyped-def]
    assert recognize(reply, value, keys) == picked


def test_clarify_buttons_name_the_entries_and_offer_none_of_these(knowledge) -> None:  # type: ignore[no-untyped-def]
    spec = PromptSpec(kind="clarify", alternatives=["run-country-code", "run-not-synced"])
    for lang in ("en", "it"):
        choices = prompt_choices(knowledge.kb, spec, lang)
        assert [k for k, _ in choices] == ["run-country-code", "run-not-synced", "none"]
        assert all(len(title) <= 60 for _, title in choices)


def test_item_and_answer_prompts_offer_their_fixed_choices(knowledge) -> None:  # type: ignore[no-untyped-def]
    item = prompt_choices(knowledge.kb, PromptSpec(kind="item", area=Area.configuration), "it")
    assert [k for k, _ in item] == list(ITEM_CHOICES)
    answer = prompt_choices(knowledge.kb, PromptSpec(kind="answer", entry_id="pre-trial"), "en")
    assert [k for k, _ in answer] == list(FEEDBACK_CHOICES)
