"""Build the whole assistant from settings: knowledge, storage, dialogs, bot and adapter.

Shared by the web app, the terminal chat, `ask` and the benchmark, so every entry point runs the same
bot logic. The only place that picks concrete implementations, and the only product module that imports `stores`
(an import-linter contract): the CLI and the developer tools get the database and the live checks from here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botbuilder.core import MemoryStorage, Storage
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication

from assistant.directline_port import DirectLineStore
from assistant.handoff.desk import SupportDesk
from assistant.handoff.intake import Escalation
from assistant.handoff.model import HANDOFF_EVENT, TEAMS, USER, WEBHOOK
from assistant.handoff.outbox import Outbox
from assistant.ports import Analytics, CaseStore, DeliveryTarget, Retention, TranscriptStore
from assistant.trust import TrustPolicy
from bot.adapter import FixedCloudAdapter
from bot.channels.rendering import ChannelRenderer
from bot.errors import on_turn_error
from bot.handler import TroubleshootBot
from bot.live import LiveChecks, live_checks
from bot.sdk.state import ConversationState, UserState
from bot.sdk.storage import StateStorage
from bot.settings import Settings
from bot.support.links import CaseLinks
from bot.support.staff import StaffSide
from bot.support.staff_tokens import StaffTokens
from bot.support.targets import HandoffEventTarget, TeamsTarget, UserTarget
from bot.telemetry import record_match
from bot.transcripts import TranscriptMiddleware
from dialogs.main_dialog import MainDialog
from knowledge import snapshot
from knowledge.intent import HandoffRecognizer
from knowledge.learned import Model
from knowledge.loader import KnowledgeBase
from knowledge.matcher import Index, Thresholds, match
from knowledge.models import Lang, Match
from knowledge.neighbours import Neighbours
from stores.sql.analytics import SqlAnalytics
from stores.sql.cases import SqlCaseStore
from stores.sql.counters import SqlCallCounter
from stores.sql.database import Database, DatabaseError
from stores.sql.directline import SqlDirectLineStore
from stores.sql.journal import SqlJournal
from stores.sql.retention import SqlRetention
from stores.sql.state import SqlStateStore
from stores.sql.token_cache import SqlTokenCacheStore
from stores.sql.transcripts import SqlTranscriptStore
from stores.sqlite.database import SqliteDatabase, file_bytes
from tenant.remediation import Remediator

if TYPE_CHECKING:
    import httpx

    from support.webhook import WebhookTarget


@dataclass
class Knowledge:
    """The loaded knowledge base, its index, the thresholds in force, the hand-over recogniser and the off-topic
    neighbours."""

    kb: KnowledgeBase
    index: Index
    thresholds: Thresholds
    handoff: HandoffRecognizer
    neighbours: Neighbours
    model: Model | None = None  # the learned model (`knowledge.learned`); None: the hand-built scores alone

    def match(self, text: str, lang: Lang | None = None) -> Match:
        """Match `text`, with `lang` as the language hint. A question about a neighbouring topic (payouts, partner
        ids, ...) is answered by no entry, whatever words it shares with one, unless an entry's fingerprint
        recognised a pasted error. The verdict is recorded (`bot.telemetry.record_match`), never the text."""
        started = time.time_ns()
        verdict = self._match(text, lang)
        record_match(verdict, started)
        return verdict

    def _match(self, text: str, lang: Lang | None) -> Match:
        verdict = match(self.index, text, self.thresholds, locale_hint=lang, model=self.model)
        if verdict.via in ("fingerprint", "smalltalk"):
            return verdict
        if not (neighbour := self.neighbours.recognise(text)):
            return verdict
        if verdict.kind == "none":
            return verdict.model_copy(update={"neighbour": neighbour.id})  # keeps why (e.g. out of scope)
        return Match(kind="none", lang=verdict.lang, via="neighbour", neighbour=neighbour.id)

    def wants_person(self, text: str) -> bool:
        """True when `text` asks for a person (support staff) rather than an answer."""
        return self.handoff(text)

    def language(self, text: str, hint: Lang | None = None) -> Lang:
        """Guess the language of `text`."""
        return self.index.lexer.language(text, hint)


def load_knowledge(settings: Settings, *, learned: bool = True) -> Knowledge:
    """The knowledge base, its index and the learned model (from the snapshot `scripts/bootstrap` and the image
    write, when it matches the sources, else built: `knowledge.snapshot`) with the configured thresholds; without
    the learned model when `learned` is False (training it)."""
    built = snapshot.load_or_build() if learned else snapshot.build(learned=False)
    th = Thresholds(
        answer_at=settings.match_answer_at, suggest_at=settings.match_suggest_at, margin=settings.match_margin
    )
    return Knowledge(
        kb=built.kb, index=built.index, thresholds=th, handoff=built.handoff, neighbours=built.neighbours,
        model=built.model,
    )  # fmt: skip


@dataclass
class Support:
    """Escalation: the case store, the desk that changes cases, the outbox that delivers, the bundle links."""

    cases: CaseStore
    desk: SupportDesk
    escalation: Escalation
    outbox: Outbox
    links: CaseLinks
    staff: StaffSide
    staff_tokens: StaffTokens
    webhook: WebhookTarget | None = None

    async def close(self) -> None:
        """Release the webhook's HTTP client."""
        if self.webhook is not None:
            await self.webhook.aclose()


def build_support(
    settings: Settings,
    database: Database,
    adapter: FixedCloudAdapter,
    transcripts: TranscriptStore,
    knowledge: Knowledge,
    journal: SqlJournal,
) -> Support:
    """The escalation parts on `database`, with the delivery targets the settings enable."""
    cases = open_case_store(database)
    links = CaseLinks(settings.case_link_secret.get_secret_value(), settings.public_url, settings.case_link_days)
    app_id = settings.app_id
    targets: dict[str, DeliveryTarget] = {USER: UserTarget(adapter, app_id, knowledge.kb)}
    if settings.support_teams:
        targets[TEAMS] = TeamsTarget(
            adapter,
            app_id,
            channel_id=settings.support_teams_channel_id,
            service_url=settings.support_teams_service_url,
            tenant_id=settings.support_teams_tenant_id,
            link=links.link,
        )
    if settings.support_handoff_event:
        targets[HANDOFF_EVENT] = HandoffEventTarget(adapter, app_id, transcripts)
    webhook = None
    if settings.support_webhook_url and settings.support_webhook_secret is not None:
        from support.webhook import WebhookTarget  # httpx with it: loaded only when a webhook is set

        webhook = WebhookTarget(settings.support_webhook_url, settings.support_webhook_secret.get_secret_value())
        targets[WEBHOOK] = webhook
    desk = SupportDesk(cases, [name for name in targets if name != USER])
    outbox = Outbox(cases, desk, targets)
    escalation = Escalation(desk, transcripts, journal, knowledge.kb)
    tokens = StaffTokens(
        group_id=settings.support_group_id,
        audience=settings.support_token_audience or settings.app_id,
        tenant_id=settings.support_token_tenant_id or settings.support_teams_tenant_id or settings.app_tenant_id,
        openid_url=settings.support_openid_url,
    )
    return Support(cases, desk, escalation, outbox, links, StaffSide(desk, links), tokens, webhook)


@dataclass
class Assistant:
    """Everything one running assistant is made of."""

    settings: Settings
    knowledge: Knowledge
    database: Database
    storage: Storage
    transcripts: SqlTranscriptStore
    journal: SqlJournal
    bot: TroubleshootBot
    adapter: FixedCloudAdapter
    live: LiveChecks
    support: Support
    retention: Retention
    directline: DirectLineStore  # the embedded Direct Line's conversations, histories and tokens
    analytics: Analytics
    closed: bool = field(default=False)

    async def close(self) -> None:
        """Release the adapter's HTTP session and the database."""
        if not self.closed:
            self.closed = True
            await self.adapter.close()
            await self.live.close()
            await self.support.close()
            await self.database.aclose()


def build_assistant(
    settings: Settings, *, knowledge: Knowledge | None = None, storage: Storage | None = None
) -> Assistant:
    """Wire an assistant; `storage` overrides the database's state storage (tests only)."""
    knowledge = knowledge or load_knowledge(settings)
    database = open_database(settings)
    state_storage = storage if storage is not None else StateStorage(SqlStateStore(database))
    transcripts = SqlTranscriptStore(database)
    journal = SqlJournal(database)
    conversation_state = ConversationState(state_storage)
    user_state = UserState(state_storage)
    kb = knowledge.kb
    live = build_live_checks(settings, database)
    remediator = Remediator(live.clients, settings.admin_allowlist, checks=live) if live.configured else None
    adapter = FixedCloudAdapter(
        ConfigurationBotFrameworkAuthentication(settings.bot_auth_config()),
        max_body_bytes=settings.max_body_bytes,
        max_id_chars=settings.max_id_chars,
        loopback_replies_only=not settings.auth_enabled,
    )
    support = build_support(settings, database, adapter, transcripts, knowledge, journal)
    dialog = MainDialog(
        kb,
        knowledge.match,
        journal,
        ChannelRenderer(kb),
        live if live.configured else None,
        remediator,
        escalation=support.escalation,
        wants_person=knowledge.wants_person,
        neighbours=knowledge.neighbours,
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
        staff=support.staff,
    )
    adapter.on_turn_error = on_turn_error
    adapter.use(TranscriptMiddleware(transcripts))
    retention = open_retention(settings, database)
    directline = SqlDirectLineStore(database, max_history_bytes=settings.directline_max_history_bytes)
    return Assistant(
        settings,
        knowledge,
        database,
        state_storage,
        transcripts,
        journal,
        bot,
        adapter,
        live,
        support,
        retention,
        directline,
        open_analytics(database),
    )


def open_database(settings: Settings) -> Database:
    """The database every store of this instance shares: PostgreSQL when `database_url` is set (several instances on
    one server), else the embedded SQLite file at `database_path`. Either is migrated as it opens."""
    url = settings.database_url.get_secret_value()
    if not url:
        return SqliteDatabase(settings.database_path)
    from stores.postgres.database import PostgresDatabase  # psycopg is imported only when PostgreSQL is used

    return PostgresDatabase(
        url, pool_size=settings.database_pool_size, statement_timeout_ms=settings.database_statement_timeout_ms
    )


def build_live_checks(
    settings: Settings,
    database: Database,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    msal_http_client: Any | None = None,
) -> LiveChecks:
    """The live checks (`bot.live.live_checks`) with their stores on `database`: the API call counter and the
    encrypted msal token cache."""
    return live_checks(
        settings,
        counter=SqlCallCounter(database),
        token_cache=SqlTokenCacheStore(database),
        transport=transport,
        msal_http_client=msal_http_client,
    )


def open_retention(settings: Settings, database: Database) -> Retention:
    """The purge and the erasure (`cosell-bot purge`, `forget`, the periodic purge) on `database`, with the
    retention settings."""
    return SqlRetention(database, days=settings.retention_days, case_days=settings.case_retention_days)


def open_analytics(database: Database) -> Analytics:
    """The usage report's reads (`cosell-bot report`, `GET /admin/report`) on `database`."""
    return SqlAnalytics(database)


def open_case_store(database: Database) -> CaseStore:
    """The support cases' store (escalation) on `database`."""
    return SqlCaseStore(database)


__all__ = [
    "Assistant",
    "DatabaseError",
    "Knowledge",
    "MemoryStorage",
    "SqlTokenCacheStore",
    "SqliteDatabase",
    "build_assistant",
    "build_live_checks",
    "file_bytes",
    "load_knowledge",
    "open_analytics",
    "open_case_store",
    "open_database",
    "open_retention",
]
