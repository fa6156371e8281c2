"""The one redaction module holds on every way out: the log (message and traceback) and the journal (remediation
before/after and detail, handoff summary), not only the transcript table."""

from __future__ import annotations

import logging
import random
import string

from bot.log_setup import SafeFormatter
from stores.sql.journal import SqlJournal
from stores.sqlite.database import SqliteDatabase

_RNG = random.Random(20261205)
GITHUB = "ghp_" + "".join(_RNG.choice(string.ascii_letters + string.digits) for _ in range(36))
AWS = "AKIA" + "".join(_RNG.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("bot.test", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_the_log_never_carries_a_credential() -> None:
    formatter = SafeFormatter("%(levelname)s %(name)s: %(message)s")
    try:
        raise RuntimeError(f"upstream said: Authorization: Bearer {GITHUB}")
    except RuntimeError as error:
        line = formatter.format(_record("call failed with key %s for run %s", AWS, "08585244263837383000000000000CU12",
                                        exc=error))  # fmt: skip
    assert GITHUB not in line and AWS not in line and "[REDACTED]" in line
    assert "08585244263837383000000000000CU12" in line  # ids support staff need survive


async def test_the_journal_never_carries_a_credential(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = SqliteDatabase(tmp_path / "journal.db")
    journal = SqlJournal(database)
    await journal.record_remediation(
        "convo-1", "aad-admin", "register-webhook",
        before={"url": f"https://prod.westeurope.logic.azure.com/workflows/x/triggers/manual?sig={GITHUB}"},
        after={"client_secret": "abc8Q~" + "x" * 34, "state": "Started"},
        result="failed", detail=f"the password is {AWS.lower()}9!",
    )  # fmt: skip
    await journal.record_feedback("convo-1", "run-not-synced", False, "en")
    database.close()
    stored = (tmp_path / "journal.db").read_bytes()
    for secret in (GITHUB, AWS.lower(), "abc8Q~"):
        assert secret.encode() not in stored
    assert b"Started" in stored
