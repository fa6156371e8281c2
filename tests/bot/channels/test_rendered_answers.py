"""`ChannelRenderer`: an answer rendered once per entry, language, CRM and channel, the same reply as rendering it
afresh, each call its own activity, and one conversation's CRM never in another's answer."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from assistant.case import ConversationData, PromptSpec
from bot.channels.rendering import ChannelRenderer, render_activity
from bot.sdk.activity_json import serialize
from dialogs.state import LANG_KEY, set_conversation_data
from knowledge.crm import CRM_NAMES, needs_crm
from knowledge.loader import load_kb

KB = load_kb()
CHANNELS = ["test", "directline", "webchat", "msteams", "emulator"]


def _ctx(channel: str, lang: str, crm: str | None) -> SimpleNamespace:
    ctx = SimpleNamespace(activity=SimpleNamespace(channel_id=channel), turn_state={LANG_KEY: lang})
    set_conversation_data(ctx, ConversationData(crm=crm))  # type: ignore[arg-type]
    return ctx


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("lang", ["en", "it"])
@pytest.mark.parametrize("crm", [*CRM_NAMES, None])
def test_a_cached_answer_is_the_answer_rendered_afresh(channel, lang, crm) -> None:
    render = ChannelRenderer(KB)
    for entry in KB.entries:
        spec = PromptSpec(kind="answer", entry_id=entry.id)
        fresh = serialize(render_activity(KB, spec, _ctx(channel, lang, crm)))
        assert serialize(render(spec, _ctx(channel, lang, crm))) == fresh  # rendered now
        assert serialize(render(spec, _ctx(channel, lang, crm))) == fresh  # from the cache


def test_each_call_gets_its_own_activity() -> None:
    render, spec = ChannelRenderer(KB), PromptSpec(kind="answer", entry_id=KB.entries[0].id)
    first = render(spec, _ctx("webchat", "en", None))
    first.id, first.text, first.locale = "sent-1", "changed", "fr-FR"  # what addressing a reply does, and more

    again = render(spec, _ctx("webchat", "en", None))
    assert again is not first
    assert (again.id, again.text, again.locale) == (None, None, "en-US")


def test_one_conversations_crm_stays_out_of_anothers_answer() -> None:
    render = ChannelRenderer(KB)
    entry = next(e for e in KB.entries if needs_crm(e))
    spec = PromptSpec(kind="answer", entry_id=entry.id)

    salesforce = render(spec, _ctx("test", "en", "salesforce")).text or ""
    unknown = render(spec, _ctx("test", "en", None)).text or ""
    dynamics = render(spec, _ctx("test", "en", "dynamics")).text or ""

    assert "Partner Center to Salesforce" in salesforce
    assert "Partner Center to Salesforce" not in unknown and "Partner Center to your CRM" in unknown
    assert "Partner Center to Salesforce" not in dynamics and "Partner Center to Dynamics 365" in dynamics


def test_the_cache_is_bounded() -> None:
    render = ChannelRenderer(KB, maxsize=4)
    spec = PromptSpec(kind="answer", entry_id=KB.entries[0].id)
    for n in range(20):  # a channel id is whatever the client says
        render(spec, _ctx(f"client-{n}", "en", None))
    assert render._answer.cache_info().currsize == 4


def test_other_views_are_rendered_each_time() -> None:
    render, spec = ChannelRenderer(KB), PromptSpec(kind="crm_ask")
    assert serialize(render(spec, _ctx("webchat", "it", None))) == serialize(
        render_activity(KB, spec, _ctx("webchat", "it", None))
    )
    assert render._answer.cache_info().currsize == 0
