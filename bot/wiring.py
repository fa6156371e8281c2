"""Build the whole assistant from settings: knowledge, storage, dialogs, bot and adapter.

Shared by the web app, the terminal chat, `ask` and the benchmark, so every entry point runs the same
bot logic. The only place that picks concrete implementations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from botbuilder.core import MemoryStorage, Storage
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication

from assistant.trust import TrustPolicy
from bot.adapter import FixedCloudAdapter
from bot.channels.rendering import render_activity
from bot.errors import on_turn_error
from bot.handler import TroubleshootBot
from bot.journal import SqliteJournal
from bot.live import LiveChecks, build_live_checks
from bot.sdk.state import ConversationState, UserState
from bot.settings import Settings
from bot.storage import SqliteDatabase, SqliteStorage
from bot.transcripts import SqliteTranscriptStore, TranscriptMiddleware
from dialogs.main_dialog import MainDialog
from knowledge.loader import KnowledgeBase, load_kb
from knowledge.matcher import Index, Thresholds, index_kb, match
from knowledge.models import Lang, Match
from tenant.remediation import Remediator


@dataclass
class Knowledge:
    """The loaded knowledge base, its index and the thresholds in force."""

    kb: KnowledgeBase
    index: Index
    thresholds: Thresholds

    def match(self, text: str, lang: Lang | None = None) -> Match:
        """Match `text`, with `lang` as the language hint."""
        return match(self.index, text, self.thresholds, locale_hint=lang)

    def language(self, text: str, hint: Lang | None = None) -> Lang:
        """Guess the language of `text`."""
        return self.index.lexer.language(text, hint)


def load_knowledge(settings: Settings) -> Knowledge:
    """Load and index the knowledge base with the configured thresholds."""
    kb = load_kb()
    th = Thresholds(
        answer_at=settings.match_answer_at, suggest_at=settings.match_suggest_at, margin=settings.match_margin
    )
    return Knowledge(kb=kb, index=index_kb(kb), thresholds=th)


@dataclass
class Assistant:
    """Everything one running assistant is made of."""

    settings: Settings
    knowledge: Knowledge
    database: SqliteDatabase
    storage: Storage
    transcripts: SqliteTranscriptStore
    journal: SqliteJournal
    bot: TroubleshootBot
    adapter: FixedCloudAdapter
    live: LiveChecks
    closed: bool = field(default=False)

    async def close(self) -> None:
        """Release the adapter's HTTP session and the database."""
        if not self.closed:
            self.closed = True
            await self.adapter.close()
            await self.live.close()
            self.database.close()


def build_assistant(
    settings: Settings, *, knowledge: Knowledge | None = None, storage: Storage | None = None
) -> Assistant:
    """Wire an assistant; `storage` overrides the SQLite state storage (tests only)."""
    knowledge = knowledge or load_knowledge(settings)
    sqlite = SqliteStorage(settings.database_path)
    state_storage = storage if storage is not None else sqlite
    database = sqlite.database
    transcripts = SqliteTranscriptStore(database)
    journal = SqliteJournal(database)
    conversation_state = ConversationState(state_storage)
    user_state = UserState(state_storage)
    kb = knowledge.kb
    live = build_live_checks(settings, database)
    remediator = Remediator(live.clients, settings.admin_allowlist, checks=live) if live.configured else None
    dialog = MainDialog(
        kb,
        knowledge.match,
        journal,
        lambda spec, ctx: render_activity(kb, spec, ctx),
        live if live.configured else None,
        remediator,
    )
    trust = TrustPolicy(
        auth_enabled=settings.auth_enabled, loopback_only=settings.loopback_only, local_fixes=settings.local_fixes
    )
    bot = TroubleshootBot(
        conversation_state,
        user_state,
        dialog,
        knowledge.language,
        default_lang=settings.default_locale,
        kb=kb,
        trust=trust,
    )
    adapter = FixedCloudAdapter(
        ConfigurationBotFrameworkAuthentication(settings.bot_auth_config()),
        max_body_bytes=settings.max_body_bytes,
        max_id_chars=settings.max_id_chars,
        loopback_replies_only=not settings.auth_enabled,
    )
    adapter.on_turn_error = on_turn_error
    adapter.use(TranscriptMiddleware(transcripts))
    return Assistant(settings, knowledge, database, state_storage, transcripts, journal, bot, adapter, live)


__all__ = ["Assistant", "Knowledge", "MemoryStorage", "build_assistant", "load_knowledge"]
