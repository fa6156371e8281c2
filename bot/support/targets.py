"""The outbox targets that go through the Bot Connector (botbuilder's `CloudAdapter`), and the error mapping they
share.

- `TeamsTarget` ("teams"): posts a new case as a new thread in the support channel (`create_conversation` with the
  channel in `channelData`, as FAQ Plus does), then the user's messages as replies in that thread, and refreshes the
  case card in place (`update_activity`) after Take / Resolve. The thread's reference is returned and stored with
  the case, so any instance can post to it later. A 403 means the bot is not installed in the support team: said
  plainly, in the log and in the item's last error, and retried (installing the app fixes it).
- `UserTarget` ("user"): proactive messages in the user's conversation (who took the case, staff replies, the
  resolution with a rating), from the conversation reference stored with the case — never from memory.
- `HandoffEventTarget` ("handoff_event"): the Bot Framework `handoff.initiate` event in the user's conversation, for
  an agent hub behind Azure Bot Service: value = the case's summary variables, attachment `Transcript`
  (`application/json`, the conversation's redacted activities). Python botbuilder has no EventFactory; the shape
  mirrors botbuilder-dotnet's `EventFactory.CreateHandoffInitiation`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from assistant import messages
from assistant.case import PromptSpec
from assistant.handoff.bundle import CaseBundle
from assistant.handoff.card import case_card
from assistant.handoff.model import HANDOFF_EVENT, TEAMS, USER, DeliveryFailed, OutboxItem, SupportCase, utcnow
from assistant.ports import TranscriptStore
from bot.adapter import ConnectorError, FixedCloudAdapter
from bot.channels.rendering import renderer_for
from knowledge.loader import KnowledgeBase

log = logging.getLogger(__name__)

LinkMaker = Callable[[str], "str | None"]  # case ref → a signed link to its bundle, or None


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(exc, "status", None)
    return int(status) if isinstance(status, int) else None


async def through_connector(what: str, call: Awaitable[Any]) -> Any:
    """Run a Bot Connector call; its failures become `DeliveryFailed` with a reason fit for the log (no body)."""
    try:
        return await call
    except (HttpOperationError, ConnectorError) as exc:
        status = _status(exc)
        if status == 403:
            reason = (
                f"{what}: the Bot Connector answered 403 — the bot is not installed in that team or conversation "
                "(install the app in the support team)"
            )
            raise DeliveryFailed(reason, retry=True) from None
        retry = status is None or status in (408, 425, 429) or status >= 500
        raise DeliveryFailed(f"{what}: Bot Connector HTTP {status}", retry=retry) from None
    except (ClientRequestError, OSError, TimeoutError) as exc:
        raise DeliveryFailed(f"{what}: Bot Connector unreachable ({type(exc).__name__})") from None


def _reference(raw: dict[str, Any]) -> ConversationReference:
    reference = ConversationReference().deserialize(raw)
    if not reference.service_url or reference.conversation is None:
        raise DeliveryFailed("the stored conversation reference has no service URL or conversation", retry=False)
    return reference


class ProactiveSender:
    """Sends into a stored conversation through the adapter (`continue_conversation`), as the bot's app id."""

    def __init__(self, adapter: FixedCloudAdapter, app_id: str) -> None:
        self._adapter = adapter
        self._app_id = app_id

    async def send(
        self, what: str, reference: ConversationReference, activity: Activity, *, update: bool = False
    ) -> str:
        """Send (or, with `update`, replace the activity `activity.id`); return the activity id the channel gave."""
        sent: dict[str, str] = {}
        failed: list[BaseException] = []

        async def callback(ctx: TurnContext) -> None:
            # caught here, raised below: inside the pipeline the adapter's turn-error handler would swallow it (and
            # try to apologise to a conversation nobody is in), and the outbox would count the item delivered
            try:
                if update:
                    await ctx.update_activity(activity)
                    sent["id"] = activity.id or ""
                else:
                    response = await ctx.send_activity(activity)
                    sent["id"] = getattr(response, "id", None) or ""
            except Exception as exc:
                failed.append(exc)

        async def proactive() -> None:
            await self._adapter.continue_conversation(reference, callback, self._app_id)
            if failed:
                raise failed[0]

        await through_connector(what, proactive())
        return sent.get("id", "")


class TeamsTarget:
    """The support channel in Teams (see the module docstring)."""

    name = TEAMS

    def __init__(
        self,
        adapter: FixedCloudAdapter,
        app_id: str,
        *,
        channel_id: str,
        service_url: str,
        tenant_id: str,
        link: LinkMaker,
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._sender = ProactiveSender(adapter, app_id)
        self._channel_id = channel_id
        self._service_url = service_url
        self._tenant_id = tenant_id
        self._link = link

    def _card(self, case: SupportCase, bundle: dict[str, Any] | None) -> Activity:
        model = CaseBundle.model_validate(bundle) if bundle else None
        card = case_card(case, model, link=self._link(case.ref))
        activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
        activity.summary = f"Case {case.ref}: {case.summary}"
        return activity

    async def deliver(self, item: OutboxItem, case: SupportCase, bundle: dict[str, Any] | None) -> dict[str, Any]:
        kind = item.payload.get("kind")
        if kind == "case.created":
            if case.support_thread:  # posted before a crash kept the item from being settled: never twice
                return {"thread_exists": True}
            return await self._post_case(case, bundle)
        thread = case.support_thread
        if not thread:
            raise DeliveryFailed("the case is not in the support channel yet")
        reference = _reference(thread)
        if kind == "card":
            activity = self._card(case, bundle)
            activity.id = str(thread.get("card_id", ""))
            await self._sender.send("refreshing the case card", reference, activity, update=True)
            return {"updated": activity.id}
        text = f"**{item.payload.get('author') or 'The user'}** (user): {item.payload.get('text', '')}"
        sent = await self._sender.send("posting in the support thread", reference, MessageFactory.text(text))
        return {"id": sent}

    async def _post_case(self, case: SupportCase, bundle: dict[str, Any] | None) -> dict[str, Any]:
        channel_data = {"channel": {"id": self._channel_id}, "tenant": {"id": self._tenant_id}}
        parameters = ConversationParameters(
            is_group=True,
            bot=ChannelAccount(id=self._app_id or "cosell-bot"),
            channel_data=channel_data,
            activity=self._card(case, bundle),
            tenant_id=self._tenant_id,
        )
        created: dict[str, str] = {}

        async def callback(ctx: TurnContext) -> None:
            created["conversation"] = ctx.activity.conversation.id
            created["activity"] = ctx.activity.id or ""

        await through_connector(
            "posting the case to the support channel",
            self._adapter.create_conversation(self._app_id, callback, parameters, "msteams", self._service_url, None),
        )
        thread = {
            "channelId": "msteams",
            "serviceUrl": self._service_url,
            "conversation": {"id": created["conversation"], "isGroup": True, "tenantId": self._tenant_id},
            "bot": {"id": self._app_id or "cosell-bot"},
            "activityId": created["activity"],
            "card_id": created["activity"],
        }
        log.info("case %s posted to the support channel", case.ref)
        return {"thread": thread}


class UserTarget:
    """The user's own conversation (see the module docstring)."""

    name = USER

    def __init__(self, adapter: FixedCloudAdapter, app_id: str, kb: KnowledgeBase) -> None:
        self._sender = ProactiveSender(adapter, app_id)
        self._kb = kb

    def _activity(self, item: OutboxItem, case: SupportCase) -> Activity:
        lang, kind, who = case.lang, item.payload.get("kind"), str(item.payload.get("author") or "")
        if kind == "case.taken":
            return MessageFactory.text(messages.text("case_taken_note", lang, who=who, ref=case.ref))
        if kind == "case.staff_reply":
            return MessageFactory.text(messages.text("case_reply", lang, who=who, text=item.payload.get("text", "")))
        if kind == "case.resolved":
            note = str(item.payload.get("text") or "").strip()
            said = messages.text("case_resolved_note", lang, who=who, ref=case.ref, note=f" {note}" if note else "")
            spec = PromptSpec(kind="handoff_rate", case_ref=case.ref, finding=said)
            return renderer_for(self._kb, case.channel_id).render(spec, lang)
        raise DeliveryFailed(f"nothing to tell the user for {kind!r}", retry=False)

    async def deliver(self, item: OutboxItem, case: SupportCase, bundle: dict[str, Any] | None) -> dict[str, Any]:
        activity = self._activity(item, case)
        activity.locale = "it-IT" if case.lang == "it" else "en-US"
        sent = await self._sender.send("messaging the user", _reference(case.user_reference), activity)
        return {"id": sent}


class HandoffEventTarget:
    """The `handoff.initiate` event (see the module docstring)."""

    name = HANDOFF_EVENT

    def __init__(self, adapter: FixedCloudAdapter, app_id: str, transcripts: TranscriptStore) -> None:
        self._sender = ProactiveSender(adapter, app_id)
        self._transcripts = transcripts

    async def deliver(self, item: OutboxItem, case: SupportCase, bundle: dict[str, Any] | None) -> dict[str, Any]:
        reference = _reference(case.user_reference)
        rows = await self._transcripts.get_transcript(case.channel_id, case.conversation_id)
        event = Activity(
            type=ActivityTypes.event,
            name="handoff.initiate",
            id=str(uuid.uuid4()),
            timestamp=utcnow(),
            value=handoff_context(case, bundle),
            attachments=[
                Attachment(
                    content_type="application/json",
                    name="Transcript",
                    content={"activities": [row["activity"] for row in rows]},
                )
            ],
            relates_to=reference,
            conversation=ConversationAccount(id=case.conversation_id),
        )
        sent = await self._sender.send("sending handoff.initiate", reference, event)
        return {"id": sent}


def handoff_context(case: SupportCase, bundle: dict[str, Any] | None) -> dict[str, Any]:
    """The event's value: the case's summary variables (strings, numbers and short lists an agent hub can route on)."""
    findings = (bundle or {}).get("findings") or []
    failing = [f.get("check") for f in findings if isinstance(f, dict) and f.get("status") == "fail"]
    tenant = (bundle or {}).get("tenant") or {}
    return {
        "caseRef": case.ref,
        "summary": case.summary,
        "description": case.description,
        "language": case.lang,
        "channel": case.channel_id,
        "crm": tenant.get("crm"),
        "failingChecks": failing,
        "matchedEntries": [m.get("entry") for m in (bundle or {}).get("matched") or [] if isinstance(m, dict)],
        "schema": "cosell.case.v1",
    }
