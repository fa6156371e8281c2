"""SupportDesk: what happens to a case, and who must hear of it. SDK-free; the dialogs, the Teams invoke handler and
the CLI all change cases through it, never through the store directly.

What users and staff write is redacted before it is stored or sent (`assistant.redaction`), as the bundle is.
Every change is one store transaction: the case, the event that changed it and the outbox items telling the others
(the support thread, the user, the webhook). Nothing is sent from here: `assistant.handoff.outbox.Outbox` delivers
the items, from whichever instance leases them, so a change made on one instance reaches a user served by another.
A change that races another (two engineers press **Take**) is re-read and applied again (`CaseConflict`), at most
`_TRIES` times.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from assistant.handoff import model as handoff_model
from assistant.handoff.bundle import CaseBundle
from assistant.handoff.model import TEAMS, USER, WEBHOOK, CaseEvent, EventKind, OutboxItem, SupportCase, new_ref
from assistant.ports import CaseConflict, CaseStore
from assistant.redaction.masking import redact
from assistant.telemetry import case_opened

log = logging.getLogger(__name__)

_TRIES = 5
TEAMS_CARD = "teams-card"  # fan-out alias: refresh the case card in the support thread (a TEAMS item, kind "card")
Mutation = Callable[[SupportCase], bool]  # changes the case in place; False: nothing to do (already so)


class CaseNotFound(LookupError):
    """No case has this reference."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no case {ref}")
        self.ref = ref


class SupportDesk:
    """Opens cases and records what users and staff do with them; `targets` are the enabled outbox targets on the
    support side (the user's own conversation, `USER`, is always told what concerns them, and never of the case)."""

    def __init__(self, store: CaseStore, targets: Sequence[str], *, wake: Callable[[], None] | None = None) -> None:
        self.store = store
        self.targets = tuple(target for target in targets if target != USER)
        self._wake = wake or (lambda: None)

    def on_change(self, wake: Callable[[], None]) -> None:
        """Call `wake` after each committed change (the outbox worker's nudge)."""
        self._wake = wake

    # --- the user's side -------------------------------------------------------------------------------------

    async def open(self, case: SupportCase, bundle: CaseBundle) -> SupportCase:
        """Store a new case with its bundle and queue its delivery to every enabled target."""
        for _ in range(_TRIES):
            items = [self._item(case.ref, target, "case", {"kind": "case.created"}) for target in self.targets]
            try:
                await self.store.create(case, bundle.to_json(), items)
            except CaseConflict:  # the reference exists already (about one in a billion): draw another
                ref = new_ref()
                case = case.model_copy(update={"ref": ref})
                bundle = bundle.model_copy(update={"ref": ref})
                continue
            log.info("case %s opened: channel=%s targets=%s", case.ref, case.channel_id, ",".join(self.targets))
            case_opened(case.lang)
            self._wake()
            return case
        raise RuntimeError("could not draw a free case reference")

    async def active_case(self, channel_id: str, conversation_id: str) -> SupportCase | None:
        """The conversation's open or taken case, if any."""
        return await self.store.active_for(channel_id, conversation_id)

    async def user_message(self, ref: str, author: str | None, text: str) -> SupportCase:
        """The user wrote to support: into the thread (and the webhook), redacted like the bundle."""
        text = redact(text)
        payload = {"kind": "case.user_message", "author": author, "text": text}
        return await self._change(ref, _keep, "user_message", author, text, self._fan_out(payload, TEAMS, WEBHOOK))

    async def rejoin(self, ref: str) -> SupportCase:
        """The user asked for a person again while the case is open: their messages go to support again (nothing
        to do when they already do, or when the case is resolved: resolving is final)."""
        mutate = lambda c: c.active and not c.with_support and _set(c, with_support=True)  # noqa: E731
        return await self._change(ref, mutate, "status", None, "rejoined", [])

    async def leave(self, ref: str) -> SupportCase:
        """ "Back to the assistant": the case stays open for support, the user's messages go to the bot again
        (nothing to do when they already do)."""
        mutate = lambda c: c.with_support and _set(c, with_support=False)  # noqa: E731
        return await self._change(ref, mutate, "returned", None, "", [])

    async def rate(self, ref: str, rating: int) -> SupportCase:
        """The user rated how support handled a resolved case (1-5)."""
        if not 1 <= rating <= 5:
            raise ValueError("a rating is 1 to 5")
        payload = {"kind": "case.rated", "rating": rating}
        mutate = lambda c: _set(c, rating=rating)  # noqa: E731
        return await self._change(ref, mutate, "rating", None, str(rating), self._fan_out(payload, WEBHOOK))

    # --- the support side ------------------------------------------------------------------------------------

    async def take(self, ref: str, by: str) -> SupportCase:
        """An engineer takes the case: the user is told who, the card shows it."""
        payload = {"kind": "case.taken", "author": by}

        def mutate(case: SupportCase) -> bool:
            if case.status == "resolved" or case.taken_by == by:
                return False
            return _set(case, status="taken", taken_by=by)

        return await self._change(ref, mutate, "taken", by, "", self._fan_out(payload, USER, TEAMS_CARD, WEBHOOK))

    async def staff_reply(self, ref: str, by: str, text: str) -> SupportCase:
        """An engineer answered: to the user's conversation (proactively) and the webhook."""
        text = redact(text)
        payload = {"kind": "case.staff_reply", "author": by, "text": text}
        mutate = lambda c: c.status != "resolved"  # noqa: E731
        return await self._change(ref, mutate, "staff_reply", by, text, self._fan_out(payload, USER, WEBHOOK))

    async def resolve(self, ref: str, by: str, note: str | None = None) -> SupportCase:
        """Close the case: the user is told (and asked for a rating), the card shows it."""
        note = redact(note) if note else note
        payload = {"kind": "case.resolved", "author": by, "text": note or ""}

        def mutate(case: SupportCase) -> bool:
            if case.status == "resolved":
                return False
            return _set(case, status="resolved", resolved_by=by, resolution=note, with_support=False)

        items = self._fan_out(payload, USER, TEAMS_CARD, WEBHOOK)
        return await self._change(ref, mutate, "resolved", by, note or "", items)

    async def hub_status(self, ref: str, state: str, message: str | None) -> SupportCase:
        """A `handoff.status` event from an agent hub: accepted → taken, completed → resolved, failed → noted."""
        if state == "accepted":
            return await self.take(ref, "agent hub")
        if state == "completed":
            return await self.resolve(ref, "agent hub", message)
        return await self._change(ref, _keep, "status", "agent hub", f"{state}: {message or ''}".strip(), [])

    async def set_thread(self, ref: str, thread: dict[str, Any]) -> SupportCase:
        """Remember the support thread the Teams target posted the case card in."""
        return await self._change(ref, lambda c: _set(c, support_thread=thread), None, None, "", [])

    # --- plumbing --------------------------------------------------------------------------------------------

    def _fan_out(self, payload: dict[str, Any], *targets: str) -> Callable[[str], list[OutboxItem]]:
        """The items telling `targets` (the enabled ones; the user always) about a change, keyed uniquely."""
        key = uuid.uuid4().hex[:12]

        def items(ref: str) -> list[OutboxItem]:
            out = []
            for target in targets:
                name, kind = (TEAMS, {"kind": "card"}) if target == TEAMS_CARD else (target, payload)
                if name == USER or name in self.targets:
                    out.append(self._item(ref, name, f"{payload['kind']}:{key}", kind))
            return out

        return items

    @staticmethod
    def _item(ref: str, target: str, key: str, payload: dict[str, Any]) -> OutboxItem:
        return OutboxItem(ref=ref, target=target, key=key, payload=payload, next_at=handoff_model.utcnow())

    async def _change(
        self,
        ref: str,
        mutate: Mutation,
        kind: EventKind | None,
        author: str | None,
        text: str,
        items: Callable[[str], list[OutboxItem]] | list[OutboxItem],
    ) -> SupportCase:
        for _ in range(_TRIES):
            case = await self.store.get(ref)
            if case is None:
                raise CaseNotFound(ref)
            read = case.updated
            if not mutate(case):
                return case
            case.updated = max(handoff_model.utcnow(), read + timedelta(microseconds=1))  # always moves on
            event = CaseEvent(ref=ref, at=case.updated, kind=kind, author=author, text=text) if kind else None
            queued = items(ref) if callable(items) else items
            try:
                await self.store.update(case, expect_updated=read, event=event, items=queued)
            except CaseConflict:
                continue
            if queued:
                self._wake()
            return case
        raise CaseConflict(ref)


def _keep(case: SupportCase) -> bool:
    return True


def _set(case: SupportCase, **changes: Any) -> bool:
    for name, value in changes.items():
        setattr(case, name, value)
    return True
