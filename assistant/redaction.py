"""Secret redaction: the one module that decides what transcripts, the journal and the log may not keep.

`redact(text)` masks credentials in free text with `MASK`; `redact_activity(raw)` drops secret-named keys from a
serialised activity and redacts every string in it; `redacted_json(raw)` is `json.dumps(redact_activity(raw))`,
skipping the walk when `may_hold_secret` finds nothing any rule could match in the activity's JSON.

`RULES` is the table. Credential *shapes* are recognisable on their own (ghp_…, AKIA…, sk-…, JWTs, private key
blocks): the token shapes come from detect-secrets' regex plugins where those fit, with owned patterns (each saying
why) for what they lack or get wrong for masking. *Context* rules mask what a key, header or sentence announces:
key=value and "key": "value" pairs, Authorization headers, bearer tokens, URL userinfo, "my password is …",
"la password è …". What must survive are the identifiers support needs: GUIDs, flow run ids, AADSTS codes,
0x8007… HRESULTs, and sentences that only mention a password ("I forgot my password", "la password è scaduta").
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

__all__ = ["MASK", "RULES", "Rule", "is_secret_key", "may_hold_secret", "redact", "redact_activity", "redacted_json"]

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

# --- token shapes --------------------------------------------------------------------------------------------------

# detect-secrets only has to find a token, so its fixed lengths ({36}, {24}) may stop short of a longer one: the
# rest of the token is masked too (only when the plugin's match ends inside a token, not on a delimiter)
_TAIL = r"(?:(?<=[A-Za-z0-9_-])[A-Za-z0-9_-]*+)?"
_LABEL = re.compile(r"[A-Za-z]++=")  # AzureStorageKeyDetector matches "AccountKey=" with the key: keep the label


def _imported(detector: type[RegexBasedDetector], index: int = 0) -> re.Pattern[str]:
    """The plugin's `index`th denylist regex (its own compiled pattern and flags) followed by `_TAIL`."""
    found: re.Pattern[str] = list(vars(detector)["denylist"])[index]  # a class attribute in each regex plugin
    return re.compile(f"(?:{found.pattern}){_TAIL}", found.flags)


def _masker(group: int = 0, check: Callable[[str], bool] | None = None) -> Callable[[re.Match[str]], str]:
    """Mask the token in a match: `group`, or the whole match but a leading "Name=" label; `check` may veto."""

    def mask(m: re.Match[str]) -> str:
        whole, base = m.group(0), m.start()
        start, end = (s - base for s in m.span(group))
        label = _LABEL.match(whole) if group == 0 else None
        start = label.end() if label else start
        if start >= end or (check is not None and not check(whole[start:end])):
            return whole
        return whole[:start] + MASK + whole[end:]

    return mask


def _random_enough(token: str) -> bool:
    """A digit, or both upper and lower case: a key, not a hyphenated slug like "sk-learn-tutorial-notes"."""
    return any(c.isdigit() for c in token) or (token.lower() != token and token.upper() != token)


_DS = "detect-secrets "
_TOKEN = _masker()
# GitLabTokenDetector's denylist, regex by regex: what it finds, and its prefixes
_GITLAB = [
    ("personal, deploy, feed, OAuth, runner", ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-")),
    ("runner registration, GR1348941", ("gr1348941",)),
    ("CI/CD job, glcbt-", ("glcbt-",)),
    ("incoming mail, glimt-", ("glimt-",)),
    ("trigger, glptt-", ("glptt-",)),
    ("agent, glagent-", ("glagent-",)),
    ("OAuth application secret, gloas-", ("gloas-",)),
]
_SHAPES = [
    Rule("GitHub token (ghp_, gho_, ghu_, ghs_, ghr_)", _imported(GitHubTokenDetector), _TOKEN,
         _DS + "GitHubTokenDetector", needles=("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    # GitHubTokenDetector predates fine-grained personal access tokens (github_pat_ + 82 characters)
    Rule("GitHub fine-grained token (github_pat_)", re.compile(r"github_pat_[A-Za-z0-9_]{22,}+"), _TOKEN,
         OWNED, needles=("github_pat_",)),
    Rule("AWS access key id (AKIA, ASIA, ...)", _imported(AWSKeyDetector, 0), _TOKEN,
         _DS + "AWSKeyDetector", needles=("A3T", "ABIA", "ACCA", "AKIA", "ASIA")),
    Rule("AWS secret key, quoted after aws…key", _imported(AWSKeyDetector, 1), _masker(1),
         _DS + "AWSKeyDetector", words=("key", "pw", "pass", "token")),
    Rule("Azure storage AccountKey (88 characters)", _imported(AzureStorageKeyDetector), _TOKEN,
         _DS + "AzureStorageKeyDetector", words=("key",)),
    Rule("Slack token (xox?-)", _imported(SlackDetector, 0), _TOKEN, _DS + "SlackDetector", words=("xox",)),
    Rule("Slack webhook URL", _imported(SlackDetector, 1), _TOKEN, _DS + "SlackDetector", words=("hooks.slack.com",)),
    Rule("Stripe live key (sk_live_, rk_live_)", _imported(StripeDetector), _TOKEN,
         _DS + "StripeDetector", needles=("k_live_",)),
    # StripeDetector only knows live keys; a test-mode secret key still opens the account's test data
    Rule("Stripe test key (sk_test_, rk_test_)", re.compile(r"[rs]k_test_[0-9a-zA-Z]{24,}+"), _TOKEN,
         OWNED, needles=("k_test_",)),
    Rule("Twilio account SID (AC…)", _imported(TwilioKeyDetector, 0), _TOKEN,
         _DS + "TwilioKeyDetector", needles=("AC",)),
    Rule("Twilio API key (SK…)", _imported(TwilioKeyDetector, 1), _TOKEN, _DS + "TwilioKeyDetector", needles=("SK",)),
    Rule("SendGrid API key (SG.)", _imported(SendGridDetector), _TOKEN, _DS + "SendGridDetector", needles=("SG.",)),
    # NpmDetector needs the .npmrc line around the token, runs to the end of the line ("(npm_.+).*", so the rest of
    # the message would go) and backtracks quadratically on "////…"; the token alone is npm_ + 36 characters
    Rule("npm token (npm_)", re.compile(r"npm_[A-Za-z0-9]{36,}+"), _TOKEN, OWNED, needles=("npm_",)),
    Rule("PyPI token (pypi-AgE…)", _imported(PypiTokenDetector, 0), _TOKEN,
         _DS + "PypiTokenDetector", words=("pypi-",)),
    Rule("TestPyPI token (pypi-AgE…)", _imported(PypiTokenDetector, 1), _TOKEN,
         _DS + "PypiTokenDetector", words=("pypi-",)),
    # no fixed substring: sieved by the "." + 6 characters + "." between its parts
    Rule("Discord bot token", _imported(DiscordBotTokenDetector), _TOKEN, _DS + "DiscordBotTokenDetector",
         sieve=r"\.[\w-]{6}\."),
    # no fixed substring: sieved by the ":" between the bot id's digits and the token (a character after it first:
    # most colons in an activity's JSON are followed by a space)
    Rule("Telegram bot token", _imported(TelegramBotTokenDetector), _TOKEN, _DS + "TelegramBotTokenDetector",
         sieve=r":[0-9A-Za-z_-](?<=\d{8}:.)"),
    Rule("Mailchimp API key (…-us1)", _imported(MailchimpDetector), _TOKEN, _DS + "MailchimpDetector",
         sieve=r"-us[0-9]"),
    Rule("Square OAuth secret (sq0csp-)", _imported(SquareOAuthDetector), _TOKEN,
         _DS + "SquareOAuthDetector", words=("sq0csp-",)),
    *(Rule(f"GitLab token ({kind})", _imported(GitLabTokenDetector, i), _TOKEN, _DS + "GitLabTokenDetector",
           words=prefixes) for i, (kind, prefixes) in enumerate(_GITLAB)),
    # ArtifactoryDetector's two patterns want whitespace, a double quote or the end right after the token: one
    # followed by "&" (a query string), "'" or a full stop would stay. The same shapes, ended by any non-alphanumeric
    Rule("Artifactory API token (AKC…)", re.compile(r"(?<![A-Za-z0-9])AKC[a-zA-Z0-9]{10,}+"), _TOKEN,
         OWNED, needles=("AKC",)),
    Rule("Artifactory password (AP…)", re.compile(r"(?<![A-Za-z0-9])AP[0-9A-F][a-zA-Z0-9]{8,}+"), _TOKEN,
         OWNED, needles=("AP",)),
    # OpenAIDetector only knows legacy keys (the "T3BlbkFJ" marker), and its "sk-[A-Za-z0-9-_]*…T3BlbkFJ" backtracks
    # quadratically (20 s on 100 KB of "sk-"). This covers legacy keys, project (sk-proj-), service account and
    # admin keys, and Anthropic's (sk-ant-api03-). The left boundary keeps "task-list" and "risk-based";
    # `_random_enough` keeps slugs
    Rule("OpenAI-style key (sk-, sk-proj-, sk-ant-)", re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}+"),
         _masker(check=lambda token: _random_enough(token[3:])), OWNED, needles=("sk-",)),
    # no plugin: an Entra ID client secret is 3 characters, a digit, "Q~", then 31 or more
    Rule("Azure AD client secret (…8Q~…)", re.compile(r"[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,}+"), _TOKEN,
         OWNED, needles=("~",)),
    # no plugin: a Salesforce session id (the sid cookie, an access token) is the org id, "!", the session part.
    # Sieved on the "!", seldom in an activity, and the org id before it
    Rule("Salesforce session id (00D…!…)", re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}+"), _TOKEN,
         OWNED, sieve="!(?:" + "|".join(f"(?<=00D[A-Za-z0-9]{{{n}}}!)" for n in range(12, 16)) + ")"),
    # JwtTokenDetector ends in a lazy "*?", so its match stops before the signature. The left boundary (or a
    # %-escape, as in "Bearer%20eyJ…") keeps the search linear: without it "eyJeyJeyJ…" restarts at every "eyJ"
    Rule("JWT (eyJ….eyJ….…)", re.compile(
        r"(?:(?<![A-Za-z0-9_-])|(?<=%[0-9A-Fa-f]{2}))eyJ[A-Za-z0-9_-]{4,}+\.eyJ[A-Za-z0-9_-]{4,}+\.[A-Za-z0-9_-]*+"
    ), MASK, OWNED, needles=("eyJ",)),
]  # fmt: skip

# PrivateKeyDetector's header regexes find a key; the mask takes the whole block, header to END line (or to the end
# of the text when the paste was cut short). Owned headers: PKCS#8 "ENCRYPTED PRIVATE KEY" and PuTTY's version 3.
_KEY_HEADERS = [p.pattern for p in vars(PrivateKeyDetector)["denylist"]]
_KEY_HEADERS += [r"BEGIN ENCRYPTED PRIVATE KEY", r"PuTTY-User-Key-File-3"]
_PRIVATE_KEY = Rule(
    "private key block (PEM, OpenSSH, PGP, PuTTY)",
    re.compile(
        rf"(?:-----)?(?:{'|'.join(_KEY_HEADERS)})(?:(?!-----END |Private-MAC:)[\s\S])*+"
        r"(?:-----END [A-Z0-9 ]{1,40}-----|Private-MAC: *+[0-9A-Fa-f]*+)?"
    ),
    MASK,
    _DS + "PrivateKeyDetector (headers)",
    words=("key",),  # every header says KEY or Key
)

# --- secret key names -------------------------------------------------------------------------------------------

# compared casefolded and without "_" and "-": dropped from activities, masked in pasted JSON
_SECRET_KEY_NAMES = frozenset({"authorization", "apikey", "xapikey", "passwd", "pwd", "pw", "sig"})
_SECRET_KEY_SUFFIXES = (
    "token", "password", "secret", "passphrase", "passcode", "authorization", "accesskey", "accountkey", "apikey",
    "privatekey", "secretkey", "subscriptionkey", "signature",
)  # fmt: skip
_KEY_NAME_WORDS = ("authorization", "key", "pw", "pass", "token", "secret", "sig")  # in every secret key name


@functools.lru_cache(maxsize=4096)  # activities reuse a few dozen key names
def is_secret_key(name: str) -> bool:
    """True for a key whose value is a credential ("client_secret", "accessToken", "X-API-Key", "sig", ...)."""
    folded = name.casefold().replace("_", "").replace("-", "")
    return folded in _SECRET_KEY_NAMES or folded.endswith(_SECRET_KEY_SUFFIXES)


# --- context: what a key, header or sentence says is a secret -----------------------------------------------------

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


_CONTEXT = [
    # detect-secrets' BasicAuthDetector refuses !$&'()*+,;= in the password, characters people do paste unencoded
    Rule("URL userinfo (https://user:pass@host)", re.compile(r"(?<=://)[^\s/?#@:]+:[^\s/?#@]+@"), f"{MASK}@", OWNED,
         sieve=_USERINFO.pattern),
    Rule("Authorization header", _AUTH_HEADER, rf"\1: {MASK}", OWNED, words=("authorization",), requires=":"),
    Rule("bearer token", _BEARER, _mask_bearer, OWNED, words=("bearer",)),
    # the key names `is_secret_key` drops from an activity, in JSON (or Python) pasted as text: "x-api-key": "…"
    Rule('"key": "value" with a secret key name', _QUOTED_KEY_VALUE, _mask_quoted, OWNED, words=_KEY_NAME_WORDS,
         requires=":"),
    Rule("key=value with a secret key name (connection strings, SAS sig=, query strings)", _KEY_VALUE,
         rf"\1\2{MASK}", OWNED, words=_KEY_WORDS, requires="="),
    Rule("password given in prose (EN, IT)", _PASSWORD_PROSE, _mask_password, OWNED, words=("pass", "pw", "accesso")),
    Rule("secret-looking value after a secret word", _PROSE, _mask_prose, OWNED,
         words=("pass", "pw", "secret", "segret", "chiave", "key")),
]  # fmt: skip

# the private key block first: its body must go whole, not as pieces other rules found in it
RULES: tuple[Rule, ...] = (_PRIVATE_KEY, *_SHAPES, *_CONTEXT)
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


_WORDS = _minimal([w for rule in RULES for w in rule.words] + list(_KEY_NAME_WORDS))
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


def redact(text: str) -> str:
    """Mask tokens, passwords, keys and signatures in free text with `MASK`."""
    if not may_hold_secret(text):
        return text
    original, folded = text, text.casefold().replace("ı", "i")
    for rule in RULES:
        # masking only takes text away (and writes MASK): a trigger absent before is absent after
        if rule.may_apply(original, folded):
            text = rule.pattern.sub(rule.mask, text)
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
