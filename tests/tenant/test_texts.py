"""The shared words of the live checks (tenant/texts.py): rendered in both languages from the data, loaded once."""

from __future__ import annotations

import pytest

from knowledge.messages import Bilingual, MessageError, phrase
from tenant.base import LiveCheckFailed, System
from tenant.texts import book, has_message, said


def test_said_renders_a_shared_message_in_english_and_italian() -> None:
    assert said("no-credential", names=["dataverse", "salesforce"]) == Bilingual(
        "No credential configured for dataverse, salesforce: check skipped.",
        "Nessuna credenziale configurata per dataverse, salesforce: verifica saltata.",
    )
    answered = phrase("answered", system="Dataverse", status=403, code=phrase("parenthesised", text="Forbidden"))
    assert said("refused", answered=answered, reason=phrase("refused-403")).it == (
        "Dataverse ha risposto 403 (Forbidden): all'account connesso manca l'autorizzazione o il ruolo richiesto da "
        "questa chiamata."
    )
    with pytest.raises(MessageError, match="no value given for {names}"):
        said("no-credential")


def test_an_error_raised_with_shared_words_carries_both_languages() -> None:
    error = LiveCheckFailed(System.dataverse, said("not-json", system="Dataverse"), status=200)
    assert (str(error), error.message_it, error.status) == (
        "Dataverse answered with a body that is not JSON.",
        "Dataverse ha risposto con un contenuto che non è JSON.",
        200,
    )


def test_the_data_are_loaded_once_and_known_words_can_be_asked_for() -> None:
    assert book() is book()
    assert has_message("refused-404") and not has_message("refused-418")
