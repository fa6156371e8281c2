"""`<CRM>` never vanishes: every entry, in every channel's rendering, for every CRM (known or not) and language, reads
with a name where the data say `<CRM>` — and so do the fixes' by-hand instructions."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from assistant import messages
from assistant.case import ConversationData, PromptSpec
from bot.channels.rendering import render_activity
from dialogs.state import LANG_KEY, set_conversation_data
from knowledge.crm import CRM_NAMES, PLACEHOLDER, crm_in_text, crm_name, crm_words, needs_crm
from knowledge.loader import load_kb

KB = load_kb()
CRMS = [*CRM_NAMES, None]
# an empty slot: "Partner Center to last", "to (Insider Preview)", "Create Co-sell Referral -  to Partner Center"
EMPTY_SLOT = re.compile(r"\bto[ \t]+(\(|[.,;:]|last\b|per ultimo\b|$)|-[ \t]+to\b| {2,}to\b|<\s*/?\s*CRM\s*>", re.M)


def _ctx(channel: str, lang: str, crm: str | None) -> SimpleNamespace:
    ctx = SimpleNamespace(activity=SimpleNamespace(channel_id=channel), turn_state={LANG_KEY: lang})
    set_conversation_data(ctx, ConversationData(crm=crm))  # type: ignore[arg-type]
    return ctx


def test_entries_name_flows_after_the_crm() -> None:
    assert {e.id for e in KB.entries if needs_crm(e)} >= {"cfg-flows-wont-turn-on", "run-pc-not-synced-to-crm"}


@pytest.mark.parametrize("channel", ["test", "webchat", "msteams"])
@pytest.mark.parametrize("lang", ["en", "it"])
@pytest.mark.parametrize("crm", CRMS)
def test_every_entry_reads_with_a_crm_name_in_every_rendering(channel, lang, crm) -> None:
    for entry in KB.entries:
        activity = render_activity(KB, PromptSpec(kind="answer", entry_id=entry.id), _ctx(channel, lang, crm))
        shown = "\n".join(
            [activity.text or "", activity.summary or ""]
            + [json.dumps(a.content, ensure_ascii=False) for a in activity.attachments or ()]
        )
        assert PLACEHOLDER not in shown, entry.id
        assert not EMPTY_SLOT.search(shown), (entry.id, EMPTY_SLOT.search(shown))
        if needs_crm(entry):
            assert f"Partner Center to {crm_name(crm, lang)}" in shown, entry.id  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["en", "it"])
@pytest.mark.parametrize("crm", CRMS)
@pytest.mark.parametrize("action", sorted(messages.FIX_ACTIONS))
def test_every_fix_by_hand_names_the_crm(action, lang, crm) -> None:
    spec = PromptSpec(kind="fix_offer", action=action, finding="Finding: found.", fix_offered=False)
    for channel in ("test", "webchat"):
        activity = render_activity(KB, spec, _ctx(channel, lang, crm))
        shown = (activity.text or "") + json.dumps([a.content for a in activity.attachments or ()], ensure_ascii=False)
        assert PLACEHOLDER not in shown and not EMPTY_SLOT.search(shown), shown
    manual = crm_words(messages.fix_text(action, "manual", lang), crm, lang)  # type: ignore[arg-type]
    assert PLACEHOLDER not in manual and not EMPTY_SLOT.search(manual)


@pytest.mark.parametrize(
    ("text", "crm"),
    [
        ("referrals never reach Dynamics", "dynamics"),
        ("usiamo D365", "dynamics"),
        ("we use SalesForce", "salesforce"),
        ("moved from Dynamics 365 to Salesforce", None),  # both: not one
        ("the flows don't turn on", None),
        (None, None),
    ],
)
def test_the_crm_a_message_names(text, crm) -> None:
    assert crm_in_text(text) == crm
