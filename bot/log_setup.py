"""configure_logging(): one stderr handler, ids in every line, noisy libraries quietened, callers' text made harmless.

Many values in log lines come from whoever posted the activity: conversation, activity, user and channel ids,
invoke names, request paths. Logged raw, a "\\n" in one of them starts a forged record, an ANSI escape rewrites
the terminal, and a 200 KB id writes 200 KB per line. So:

- `safe_id()` wraps each such value where it is logged: cut to 128 characters (with an "…(+N)" marker saying
  how many were dropped) and its control characters escaped.
- `SafeFormatter`, which `configure_logging` puts on the handler it creates, escapes control characters in
  every formatted message (whatever slipped past `safe_id`) and bounds it, and prefixes each line of a
  traceback with "| ": exception messages quote callers' data too (a KeyError its key), and must not be
  able to start a line that reads as a record of its own.

Escaping writes `\\n`, `\\r`, `\\t`, `\\xNN` or `\\uNNNN`; a backslash is left as it is, so a caller can make a
line *look* escaped but never break it.
"""

from __future__ import annotations

import logging
import re

from assistant.redaction.masking import redact

ID_LIMIT = 128  # characters of one caller-supplied id kept in a log line
MESSAGE_LIMIT = 4096  # characters of one formatted message (or traceback line): a backstop, not the usual bound
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# C0, DEL and C1 controls (NEL, CSI among them), the Unicode line/paragraph separators, and the bidi controls
# that can make a line display as something else
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape_controls(text: str) -> str:
    """`text` with every control, line-separator and bidi character written as an escape sequence."""
    return _CONTROL.sub(_escape, text)


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with "…(+N)" saying how many were dropped."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…(+{len(text) - limit})"


def safe_id(value: object, limit: int = ID_LIMIT) -> str:
    """A caller-supplied value as it may appear in a log line: at most `limit` characters, controls escaped.

    Cut before escaping, so the work and the output stay bounded whatever the input (at most 6 × `limit`
    characters plus the marker). None gives "None", as `%s` would.
    """
    text = value if isinstance(value, str) else str(value)
    return escape_controls(truncate(text, limit))


def _fenced(text: str) -> str:
    """A traceback or stack: each line escaped, bounded and prefixed with "| " (only "\\n" separates lines)."""
    return "\n".join("| " + escape_controls(truncate(line, MESSAGE_LIMIT)) for line in text.rstrip("\n").split("\n"))


class SafeFormatter(logging.Formatter):
    """`logging.Formatter` whose output cannot be split into forged records or carry terminal escapes.

    The message (format string and arguments together) is bounded to `MESSAGE_LIMIT` characters and escaped;
    a traceback or stack keeps its line breaks, each line fenced by `_fenced`. The traceback is formatted
    afresh rather than read from `record.exc_text`, which another handler may have cached unescaped.
    """

    def format(self, record: logging.LogRecord) -> str:
        # credentials never reach the log, whatever a message or an exception quotes (assistant/redaction/)
        record.message = escape_controls(truncate(redact(record.getMessage()), MESSAGE_LIMIT))
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        parts = [self.formatMessage(record)]
        if record.exc_info:
            parts.append(_fenced(redact(self.formatException(record.exc_info))))
        elif record.exc_text:
            parts.append(_fenced(redact(record.exc_text)))
        if record.stack_info:
            parts.append(_fenced(self.formatStack(record.stack_info)))
        return "\n".join(parts)


def configure_logging(level: str = "INFO") -> None:
    """Configure the root logger once. httpx logs full URLs at INFO, so it is held at WARNING."""
    handler = logging.StreamHandler()  # stderr
    handler.setFormatter(SafeFormatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # azure: the telemetry exporter's HTTP pipeline logs every export's request and response at INFO
    for noisy in ("httpx", "httpcore", "msrest", "urllib3", "aiohttp.access", "azure"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
