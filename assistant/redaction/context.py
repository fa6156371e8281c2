"""What a key, header or sentence announces as a secret: secret key names (dropped from activities, masked in pasted
JSON), key=value pairs, Authorization headers, bearer tokens, URL userinfo, and passwords given in English or
Italian prose; not the identifiers support needs (GUIDs, AADSTS codes, HRESULTs) nor sentences about a password."""

from __future__ import annotations

import functools
import re

from assistant.redaction.rule import MASK, OWNED, Rule

# compared casefolded and without "_" and "-": dropped from activities, masked in pasted JSON
_SECRET_KEY_NAMES = frozenset({"authorization", "apikey", "xapikey", "passwd", "pwd", "pw", "sig"})
_SECRET_KEY_SUFFIXES = (
    "token", "password", "secret", "passphrase", "passcode", "authorization", "accesskey", "accountkey", "apikey",
    "privatekey", "secretkey", "subscriptionkey", "signature",
)  # fmt: skip
KEY_NAME_WORDS = ("authorization", "key", "pw", "pass", "token", "secret", "sig")  # in every secret key name


@functools.lru_cache(maxsize=4096)  # activities reuse a few dozen key names
def is_secret_key(name: str) -> bool:
    """True for a key whose value is a credential ("client_secret", "accessToken", "X-API-Key", "sig", ...)."""
    folded = name.casefold().replace("_", "").replace("-", "")
    return folded in _SECRET_KEY_NAMES or folded.endswith(_SECRET_KEY_SUFFIXES)


# names whose value is a credential in key=value form (query strings, connection strings, .env lines); a bare
# "key=" too: "?key=AIza…" is how Google and many APIs take theirs
_KEY = (
    r"(?:client[_-]?secret|(?:aws[_-]?)?secret[_-]?(?:access[_-]?)?key|secret|password|passwd|passcode|passphrase"
    r"|pwd|pw|api[_-]?key|subscription[_-]?key|access[_-]?key|private[_-]?key|account[_-]?key|key"
    r"|(?:access|refresh|id|auth)[_-]?token|token|sig|signature|shared[_-]?access[_-]?(?:key|signature))"
)
_KEY_WORDS = ("secret", "pass", "pw", "key", "token", "sig")
# words after which a secret-looking value is masked in prose (English and Italian); "secret key" before "secret":
# the first alternative that matches is the one whose value is looked at
_PROSE_KEY = (
    r"(?:password|passwd|passphrase|passcode|pwd|pw|client[ _-]?secret"
    r"|(?:storage|primary|secondary|shared|subscription|private|account|access|api|secret(?:[ _-]?access)?)[ _-]?key"
    r"|secret|segreto|chiave(?: api| segreta| di accesso))"
)
# the string body: escaped characters, characters that are neither a backslash nor the quote, and a lone backslash
# right before the closing quote ('"token": "abc\\"' still ends there). When a backslash could be either an escape
# or a plain character anywhere, an unclosed '"token": "a\\a\\a…' took exponential time (ReDoS).
_QUOTED_KEY_VALUE = re.compile(r"([\"'])([A-Za-z0-9_-]{1,100}+)\1(\s*:\s*)([\"'])(?:\\.|(?!\4)[^\\]|\\(?=\4))*\4")
_KEY_VALUE = re.compile(rf"(?<![A-Za-z0-9])({_KEY})(\s*=\s*)(\"[^\"]*\"|'[^']*'|[^\s&;,\"'<>]+)", re.I)
_USERINFO = re.compile(r"://[^\s/?#@:]+:[^\s/?#@]+@")
_AUTH_HEADER = re.compile(
    r"\b((?:proxy-)?authorization)\s*:\s*"
    r"(?:(?:bearer|basic|digest|negotiate|ntlm|sharedkey|sharedaccesssignature)\s+)?[^\s,;\"']+",
    re.I,
)
_BEARER = re.compile(r"\b(bearer)\s+([A-Za-z0-9\-._~+/]+=*)", re.I)
# no "=" here: key=value is _KEY_VALUE's job, and \S+ would swallow the rest of a connection string
_PROSE = re.compile(rf"\b({_PROSE_KEY})(\s*:\s*|\s+(?:(?:is|was|è|e'|é|era)\s+)?)(\S+)", re.I)
# identifiers support needs, even right after "secret": GUIDs, AADSTS7000215-style codes, 0x80070005
# (case-sensitive codes: "Summer2024" is a password, "AADSTS7000215" is not)
_IDENTIFIER = re.compile(
    r"(?i:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|[A-Z]{2,}[0-9]{2,}|0x[0-9A-Fa-f]+"
)

# "my password is hunter2", "password: sunshine", "the password for the admin account is …", "la password
# dell'utente admin è …", "pwd: …", "il codice di accesso è …": after a password word and an explicit ":", "=",
# "is" or "è", the next word is the password, lowercase or not, unless it says something about the password
# ("expired", "scaduta", "the same"). Every part is possessive or bounded, and the gap words between the password
# word and "is" can't split one run of characters two ways: linear time on any input.
_PASSWORD_WORD = r"(?:password|passwd|passcode|passphrase|pwd|pw|codice (?:di |d['’])accesso)"
_GAP_WORD = r"[^\s:=,;!?\"'’][^\s:=,;!?\"]*+(?<!\.)"  # not the end of a sentence
_CONNECTOR = r"(?:for|of|on|per|di|del|dello|della|degli|delle|dell['’]|su|sul|sulla)"
_GAP = rf"(?:\s+{_CONNECTOR}(?:(?:\s+|(?<=['’])){_GAP_WORD}){{1,4}}?)?"
_PASSWORD_SEP = r"(?:\s*[:=]\s*|\s+(?:is|was|è|e'|é|era|sarà|resta|rimane)(?:\s*:)?\s+)"
_FILLER = r"(?:(?:now|still|just|ora|adesso|ancora|sempre|set to|changed to|impostata (?:a|su)|cambiata in)\s+)?"
_PASSWORD_PROSE = re.compile(
    rf"\b({_PASSWORD_WORD}{_GAP}{_PASSWORD_SEP}{_FILLER})(\"[^\"\n]{{1,100}}\"|'[^'\n]{{1,100}}'|[^\s\"']\S*+)", re.I
)
# what follows "password is" / "la password è" when it describes the password instead of giving it
_NOT_A_PASSWORD = frozenset(
    """
    a an the my your his her its our their this that same different new old current previous default temporary
    not no never still now just only also too very so being been set reset changed expired expiring wrong incorrect
    invalid valid correct right required mandatory optional missing empty blank unknown locked blocked disabled
    enabled weak strong long short simple complex ok okay fine good bad case case-sensitive sensitive stored saved
    encrypted hidden masked protected managed synced rotated updated working accepted rejected sufficient enough
    in on at for of to from with by about what which there here is are be expire change
    il lo la i gli le un una uno mio mia tuo tua suo sua nostra vostra loro questa quella stessa diversa nuova
    vecchia attuale precedente temporanea non sempre ancora ora già solo anche troppo molto scaduta scaduto errata
    errato sbagliata sbagliato corretta corretto giusta valida obbligatoria vuota mancante bloccata debole forte
    lunga corta semplice cambiata resettata impostata salvata stata stato di da con per su tra fra che quale
    """.split()
)


def _looks_secret(value: str) -> bool:
    """Random-looking enough to be a credential (not an ordinary word, id or error code)."""
    core = value.strip("\"'").rstrip(".,;:!?)\"'")
    if len(core) < 6 or _IDENTIFIER.fullmatch(core):
        return False
    word = core.replace("-", "").replace("'", "").replace("’", "")  # "case-sensitive", "dell'utente" are words
    return not word.isalpha() or word[1:] != word[1:].lower()


def _mask_bearer(m: re.Match[str]) -> str:
    token = m.group(2)
    is_token = len(token) >= 20 or (len(token) >= 8 and not token.isalpha())
    return f"{m.group(1)} {MASK}" if is_token else m.group(0)


def _mask_prose(m: re.Match[str]) -> str:
    return f"{m.group(1)}{m.group(2)}{MASK}" if _looks_secret(m.group(3)) else m.group(0)


_ELIDED = re.compile(r"(?:l|un|dell|all|dall|nell|sull|quell)['’]")  # "l'ultima", "un'altra": Italian prose


def _mask_password(m: re.Match[str]) -> str:
    value = m.group(2)
    word = value.strip("\"'").rstrip(".,;:!?)").casefold()
    prose = word in _NOT_A_PASSWORD or len(word) < 3 or _ELIDED.match(word)  # "is 8 characters", "è l'ultima"
    return m.group(0) if prose or value.startswith(MASK) else m.group(1) + MASK


def _mask_quoted(m: re.Match[str]) -> str:
    quote, key, colon, open_ = m.group(1, 2, 3, 4)
    return f"{quote}{key}{quote}{colon}{open_}{MASK}{open_}" if is_secret_key(key) else m.group(0)


CONTEXT = [
    # detect-secrets' BasicAuthDetector refuses !$&'()*+,;= in the password, characters people do paste unencoded
    Rule("URL userinfo (https://user:pass@host)", re.compile(r"(?<=://)[^\s/?#@:]+:[^\s/?#@]+@"), f"{MASK}@", OWNED,
         sieve=_USERINFO.pattern),
    Rule("Authorization header", _AUTH_HEADER, rf"\1: {MASK}", OWNED, words=("authorization",), requires=":"),
    Rule("bearer token", _BEARER, _mask_bearer, OWNED, words=("bearer",)),
    # the key names `is_secret_key` drops from an activity, in JSON (or Python) pasted as text: "x-api-key": "…"
    Rule('"key": "value" with a secret key name', _QUOTED_KEY_VALUE, _mask_quoted, OWNED, words=KEY_NAME_WORDS,
         requires=":"),
    Rule("key=value with a secret key name (connection strings, SAS sig=, query strings)", _KEY_VALUE,
         rf"\1\2{MASK}", OWNED, words=_KEY_WORDS, requires="="),
    Rule("password given in prose (EN, IT)", _PASSWORD_PROSE, _mask_password, OWNED, words=("pass", "pw", "accesso")),
    Rule("secret-looking value after a secret word", _PROSE, _mask_prose, OWNED,
         words=("pass", "pw", "secret", "segret", "chiave", "key")),
]  # fmt: skip
