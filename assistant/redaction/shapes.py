"""Credential shapes, recognisable on their own: tokens from detect-secrets' regex plugins where those fit, owned
patterns (each saying why) for what they lack or get wrong for masking, and private key blocks."""

from __future__ import annotations

import re
from collections.abc import Callable

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

from assistant.redaction.rule import MASK, OWNED, Rule

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
SHAPES = [
    # First: a session part may hold what a shorter shape takes for a token of its own (an Artifactory
    # password "AP0…" after a "."), which, masked first, would leave the rest of the session id in the clear.
    # no plugin: a Salesforce session id (the sid cookie, an access token) is the org id, "!", the session part.
    # Sieved on the "!", seldom in an activity, and the org id before it
    Rule("Salesforce session id (00D…!…)", re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}+"), _TOKEN,
         OWNED, sieve="!(?:" + "|".join(f"(?<=00D[A-Za-z0-9]{{{n}}}!)" for n in range(12, 16)) + ")"),
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
    # sieved by "AP" and the hex digit after it: the bare needle "AP" is in every "API" of the FAQ's answers, and
    # sent the whole reply through the table (a tenth of a millisecond) for a rule that cannot match there
    Rule("Artifactory password (AP…)", re.compile(r"(?<![A-Za-z0-9])AP[0-9A-F][a-zA-Z0-9]{8,}+"), _TOKEN,
         OWNED, sieve="AP[0-9A-F]"),
    # OpenAIDetector only knows legacy keys (the "T3BlbkFJ" marker), and its "sk-[A-Za-z0-9-_]*…T3BlbkFJ" backtracks
    # quadratically (20 s on 100 KB of "sk-"). This covers legacy keys, project (sk-proj-), service account and
    # admin keys, and Anthropic's (sk-ant-api03-). The left boundary keeps "task-list" and "risk-based";
    # `_random_enough` keeps slugs
    Rule("OpenAI-style key (sk-, sk-proj-, sk-ant-)", re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}+"),
         _masker(check=lambda token: _random_enough(token[3:])), OWNED, needles=("sk-",)),
    # no plugin: an Entra ID client secret is 3 characters, a digit, "Q~", then 31 or more
    Rule("Azure AD client secret (…8Q~…)", re.compile(r"[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,}+"), _TOKEN,
         OWNED, needles=("~",)),
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
PRIVATE_KEY = Rule(
    "private key block (PEM, OpenSSH, PGP, PuTTY)",
    re.compile(
        rf"(?:-----)?(?:{'|'.join(_KEY_HEADERS)})(?:(?!-----END |Private-MAC:)[\s\S])*+"
        r"(?:-----END [A-Z0-9 ]{1,40}-----|Private-MAC: *+[0-9A-Fa-f]*+)?"
    ),
    MASK,
    _DS + "PrivateKeyDetector (headers)",
    words=("key",),  # every header says KEY or Key
)
