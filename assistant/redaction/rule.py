"""A row of the redaction table: what to find, how to mask it, where the pattern comes from, and the trigger that
lets text without it skip the rule."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

MASK = "[REDACTED]"

Mask = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class Rule:
    """One row of the table: what to find, how to mask it, where the pattern comes from, and its trigger.

    The trigger is in every text `pattern` matches, so text without it can skip the rule: `words` (lowercase,
    matched case-insensitively), `needles` (case-sensitive), or, for a shape with no fixed substring, `sieve`: a
    regex that starts with a literal character (so `re` finds it with a fast scan). `redact` also skips the rule
    when a character in `requires` is missing (each is in every match: "=" for key=value).
    """

    name: str
    pattern: re.Pattern[str]
    mask: Mask
    source: str  # "detect-secrets <Plugin>" or "owned"
    words: tuple[str, ...] = ()
    needles: tuple[str, ...] = ()
    sieve: str | None = None
    requires: str = ""

    def may_apply(self, text: str, folded: str) -> bool:
        """Whether `text` (`folded`: casefolded, "ı" as "i") holds the trigger: a cheap test before `pattern`."""
        if not all(character in text for character in self.requires):
            return False
        return (
            any(word in folded for word in self.words)
            or any(needle in text for needle in self.needles)
            or (self.sieve is not None and _compiled(self.sieve).search(text) is not None)
        )


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


OWNED = "owned"
