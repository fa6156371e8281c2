"""DialogHarness: the real bot and dialogs over botbuilder-core's TestAdapter, with MemoryStorage.

A small owned replacement for botbuilder-testing's DialogTestClient (whose pins break current pytest). Also
`SqliteStateStorage`: the bot's state storage on SQLite, as `bot.wiring` builds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botbuilder.core import ConversationState, MemoryStorage, Storage, UserState
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount, ConversationReference

from assistant import messages
from assistant.handoff.desk import SupportDesk
from assistant.handoff.intake import Escalation
from assistant.trust import TrustPolicy
from bot.channels.rendering import ChannelRenderer
from bot.errors import on_turn_error
from bot.handler import TroubleshootBot
from bot.sdk.storage import StateStorage
from bot.transcripts import TranscriptMiddleware
from bot.wiring import Knowledge
from dialogs.main_dialog import MainDialog
from stores.sql.cases import SqlCaseStore
from stores.sql.state import SqlStateStore
from stores.sql.transcripts import SqlTranscriptStore
from stores.sqlite.database import SqliteDatabase
from tests.fakes import FakeJournal


class SqliteStateStorage(StateStorage):
    """The `Storage` adapter over a `SqlStateStore` of its own (what `bot.wiring` builds), with the store's
    `database`, `ping` and `close` at hand."""

    def __init__(self, path: str | Path) -> None:
        self.database = SqliteDatabase(path)
        self.state_store = SqlStateStore(self.database)
        super().__init__(self.state_store)

    def ping(self) -> bool:
        return self.database.sync_ping()

    def close(self) -> None:
        self.database.close()


# "Checking your tenant…": sent right before live checks (dialogs/progress.py), like the typing indicator it goes
# with; the harness leaves it out of the replies (tests/dialogs/test_progress.py checks it) and counts it instead
PROGRESS_NOTES = frozenset(messages.text("checking_tenant", lang) for lang in ("en", "it"))


def is_reply(activity: Activity) -> bool:
    """A message the user reads as the bot's answer: typing indicators and the progress note aside."""
    return activity.type == ActivityTypes.message and activity.text not in PROGRESS_NOTES


# the operator's own machine with the local-demo setting: live findings shown, fixes against the allow-list
LOCAL_DEMO = TrustPolicy(auth_enabled=False, loopback_only=True, local_fixes=True)


class DialogHarness:
    """Send messages, card submits and conversation updates; get the bot's message replies back."""

    def __init__(
        self,
        knowledge: Knowledge,
        *,
        channel_id: str = "test",
        locale: str = "en-US",
        storage: Storage | None = None,
        journal: FakeJournal | None = None,
        conversation_id: str = "convo-1",
        live: Any = None,
        remediation: Any = None,
        user: ChannelAccount | None = None,
        trust: TrustPolicy = LOCAL_DEMO,
        database: SqliteDatabase | None = None,
        support_targets: tuple[str, ...] = (),
    ) -> None:
        self.storage = storage or MemoryStorage()
        self.progress_notes = 0  # "Checking your tenant…" notes sent so far
        self.journal = journal or FakeJournal()
        self.locale = locale
        kb = knowledge.kb
        render = ChannelRenderer(kb)  # as bot.wiring renders: answers from its cache
        escalation = None
        if database is not None:  # escalation on: cases and transcripts in this database, as bot.wiring builds them
            self.transcripts = SqlTranscriptStore(database)
            self.cases = SqlCaseStore(database)
            self.desk = SupportDesk(self.cases, support_targets)
            escalation = Escalation(self.desk, self.transcripts, self.journal, kb)
        dialog = MainDialog(
            kb,
            knowledge.match,
            self.journal,
            render,
            live,
            remediation,
            escalation=escalation,
            wants_person=knowledge.wants_person,
        )
        self.bot = TroubleshootBot(
            ConversationState(self.storage), UserState(self.storage), dialog, knowledge.language, kb=kb, trust=trust
        )
        reference = ConversationReference(
            channel_id=channel_id,
            service_url="https://test.invalid",
            user=user or ChannelAccount(id="user-1", name="User"),
            bot=ChannelAccount(id="bot-1", name="Bot"),
            conversation=ConversationAccount(id=conversation_id),
        )
        self.reference = reference
        self.adapter = TestAdapter(self.bot.on_turn, reference)
        self.adapter.on_turn_error = on_turn_error
        if database is not None:
            self.adapter.use(TranscriptMiddleware(self.transcripts))

    async def _run(self, activity: Activity) -> list[Activity]:
        # TestAdapter's template keeps its own ids; pin ours on every activity
        activity.channel_id = activity.channel_id or self.reference.channel_id
        activity.conversation = activity.conversation or self.reference.conversation
        activity.from_property = activity.from_property or self.reference.user
        activity.recipient = activity.recipient or self.reference.bot
        self.adapter.activity_buffer.clear()
        await self.adapter.receive_activity(activity)
        replies = [a for a in self.adapter.activity_buffer if is_reply(a)]
        self.progress_notes += sum(1 for a in self.adapter.activity_buffer if a.text in PROGRESS_NOTES)
        self.adapter.activity_buffer.clear()
        return replies

    async def send(self, text: str | None = None, *, value: Any = None, locale: str | None = None) -> list[str]:
        """Send a message (or card submit); return the reply texts (a card's plain-text summary for a card)."""
        activity = Activity(type=ActivityTypes.message, text=text, value=value, locale=locale or self.locale)
        return [a.text or a.summary or "" for a in await self._run(activity)]

    async def send_activity(self, activity: Activity) -> list[Activity]:
        """Send any activity; return the message replies."""
        return await self._run(activity)

    async def join(self) -> list[str]:
        """The user joins the conversation (conversationUpdate with the user and the bot)."""
        members = [ChannelAccount(id="user-1", name="User"), ChannelAccount(id="bot-1", name="Bot")]
        activity = Activity(type=ActivityTypes.conversation_update, members_added=members, locale=self.locale)
        return [a.text or "" for a in await self._run(activity)]
