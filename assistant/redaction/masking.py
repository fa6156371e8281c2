"""The redaction table applied: `redact(text)`, `redact_activity(raw)`, `redacted_json(raw)`, and the pre-check
`may_hold_secret` that lets text no rule could change skip the table."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Iterable
from typing import Any

from assistant.redaction.context import CONTEXT, KEY_NAME_WORDS, is_secret_key
from assistant.redaction.rule import MASK, Mask, Rule
from assistant.redaction.shapes import PRIVATE_KEY, SHAPES

# the private key block first: its body must go whole, not as pieces other rules found in it
RULES: tuple[Rule, ...] = (PRIVATE_KEY, *SHAPES, *CONTEXT)
_RULES: list[tuple[re.Pattern[str], Mask]] = [(rule.pattern, rule.mask) for rule in RULES]


# --- the pre-checks ---------------------------------------------------------------------------------------------

_WORD_TAILS = {"sig": "(?!n(?!ature))"}  # "sig" (and "signature") is a key name; "sign in" is not
# characters seldom in an activity's JSON: a literal holding one is searched from it (lookbehind for the rest),
# and `in`, a memchr, often tells it is absent before any regex runs
_RARE = "_~!kxJ"


def _minimal(literals: Iterable[str]) -> list[str]:
    """The literals no other one is part of: text holding a dropped literal holds the one inside it."""
    unique = sorted(set(literals))
    return [w for w in unique if not any(other != w and other in w for other in unique)]


def _anchored(literal: str) -> str:
    """`literal` as a regex starting with its rarest character: "sk-" as "k(?<=sk)-"."""
    for rare in _RARE:
        at = literal.find(rare)
        if at > 0:
            return re.escape(rare) + f"(?<={re.escape(literal[: at + 1])})" + re.escape(literal[at + 1 :])
    return re.escape(literal)


def _scans(triggers: Iterable[str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One regex per first character, "g(?:lpat|r1348941|…)", paired with that character.

    `re` finds a literal first character with a tight loop (about 0.5 µs over a 1.5 KB activity) and tries the
    branches only there; one alternation of all the words tests every position against every branch (10-15 µs),
    and one `in` per word adds up to as much. `triggers` are regexes that start with a literal character.
    """
    groups: dict[str, list[str]] = {}
    for trigger in sorted(set(triggers)):
        first, rest = (trigger[1], trigger[2:]) if trigger.startswith("\\") else (trigger[0], trigger[1:])
        groups.setdefault(first, []).append(rest)
    return tuple(
        (first, re.compile(re.escape(first) + "(?:" + "|".join(rests) + ")")) for first, rests in groups.items()
    )


def _stripped(word: str) -> str:
    return word.replace("_", "").replace("-", "")


_WORDS = _minimal([w for rule in RULES for w in rule.words] + list(KEY_NAME_WORDS))
_NEEDLES = _minimal(n for rule in RULES for n in rule.needles)
_SIEVES = sorted({rule.sieve for rule in RULES if rule.sieve})
# words in the casefolded text without "_" and "-"; needles and sieves in the text as it is
_WORD_SCANS = _scans(_anchored(_stripped(w)) + _WORD_TAILS.get(w, "") for w in _WORDS)
_TEXT_SCANS = _scans([*map(_anchored, _NEEDLES), *_SIEVES])

# the trigger as one regex: what `may_hold_secret` implements with the scans above, and tests hold it to
_TRIGGER = re.compile(
    "|".join(
        [
            "(?i:" + "|".join(re.escape(w) + _WORD_TAILS.get(w, "") for w in _WORDS) + ")",
            *map(re.escape, _NEEDLES),
            *_SIEVES,
        ]
    )
)


def may_hold_secret(text: str) -> bool:
    """False only if no rule could change `text`, nor could any key in it be secret (`text` being an activity's
    JSON); false positives are allowed, misses are not.

    Escaping text as JSON keeps every trigger (it only adds backslashes), so searching an activity's JSON answers
    for every key and string in it. Words are searched in the text casefolded ("ı" aside, casefold maps every
    letter `re.I` matches to these ASCII ones) and without "_" and "-" (so key names show as `is_secret_key` folds
    them).
    """
    folded = text.casefold().replace("ı", "i")
    stripped = folded.replace("_", "").replace("-", "")
    for first, scan in _WORD_SCANS:
        if first in stripped and scan.search(stripped):
            return True
    for first, scan in _TEXT_SCANS:
        if first in text and scan.search(text):
            return True
    return False


# --- redaction -------------------------------------------------------------------------------------------------


# Texts the table left as they were, by a keyed digest, never the text (it may be a user's message). The same FAQ
# answer is logged on every turn that shows it, and "password", "passaggi" or "accesso" in it send it through the
# table each time: about 0.19 ms for a rendered answer, against 3 µs for its digest. Only a text that holds no
# secret is remembered, and only as 16 bytes; emptied when full (bounded, and any thread may use it: each step is
# one dict operation, and a lost entry only costs its next redaction).
_CLEAN: dict[bytes, None] = {}
_CLEAN_MAX = 4096
_DIGEST_KEY = os.urandom(16)


def _digest(text: str) -> bytes:
    # surrogatepass: a lone surrogate (JSON may carry one) encodes too, and distinct texts stay distinct
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16, key=_DIGEST_KEY).digest()


_TWICE = MASK + MASK


def redact(text: str) -> str:
    """Mask tokens, passwords, keys and signatures in free text with `MASK`."""
    if not may_hold_secret(text):
        return text
    digest = _digest(text)
    if digest in _CLEAN:
        return text
    original, folded = text, text.casefold().replace("ı", "i")
    for rule in RULES:
        # masking only takes text away (and writes MASK): a trigger absent before is absent after
        if rule.may_apply(original, folded):
            text = rule.pattern.sub(rule.mask, text)
    if text == original:
        if len(_CLEAN) >= _CLEAN_MAX:
            _CLEAN.clear()
        _CLEAN[digest] = None
        return text
    # two rules can split one token between them (an "AP0…" Artifactory shape inside an "sk-proj-…" key, masked
    # first): masks that touch are one secret, and read as one
    while _TWICE in text:
        text = text.replace(_TWICE, MASK)
    return text


_ATOMS = (int, float, bool)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if not (isinstance(k, str) and is_secret_key(k))}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if value is None or type(value) in _ATOMS:
        return value  # what deepcopy returns for them, without its dispatch
    return copy.deepcopy(value)


def redact_activity(activity_dict: dict[str, Any]) -> dict[str, Any]:
    """Deep copy of a serialised activity with secret-named keys dropped and string values redacted."""
    scrubbed: dict[str, Any] = _scrub(activity_dict)
    return scrubbed


# built once: `json.dumps` with any option builds an encoder per call. Serialised activities are trees (msrest
# output), so the circular-reference bookkeeping is skipped: it was an eighth of the no-secret path.
_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def redacted_json(raw: dict[str, Any]) -> str:
    """`json.dumps(redact_activity(raw), ensure_ascii=False)`, skipping the walk when no key or string could hold
    a secret."""
    text = _ENCODER.encode(raw)
    return _ENCODER.encode(redact_activity(raw)) if may_hold_secret(text) else text
