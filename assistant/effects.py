"""What a turn did that cannot be taken back: a support case opened or changed, a journal row, a fix applied to the
tenant. The host retries a turn whose state save lost a race with another instance (`bot.handler`); it may do so only
when the turn did nothing of this kind, or the retry would do it twice (two cases, two votes, a fix applied twice).

The writers call `record` (a no-op outside a turn that `watch`es); the host asks `watch`'s list after the turn.
A context variable, so concurrent turns on one event loop each see only their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_DONE: ContextVar[list[str] | None] = ContextVar("cosell_effects", default=None)


def record(kind: str) -> None:
    """Note that the running turn did something lasting (`kind` names it for the log: "case", "journal", "fix")."""
    done = _DONE.get()
    if done is not None:
        done.append(kind)


@contextmanager
def watch() -> Iterator[list[str]]:
    """Collect what `record` notes inside the block: the kinds, in order."""
    done: list[str] = []
    token = _DONE.set(done)
    try:
        yield done
    finally:
        _DONE.reset(token)
