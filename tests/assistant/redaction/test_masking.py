"""Redaction applied (assistant/redaction/masking.py): secrets masked in free text and in activities, ordinary text
and ids left alone, the pre-check that lets text skip the table missing nothing a rule could change, and linear time
on hostile text. The corpus of credentials and look-alikes is tests/security/test_redaction_corpus.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.redaction import masking
from assistant.redaction.context import is_secret_key as _is_secret_key
from assistant.redaction.masking import _RULES, _TRIGGER, redact, redact_activity
from assistant.redaction.masking import may_hold_secret as _may_hold_secret
from assistant.redaction.masking import redacted_json as _redacted_json
from assistant.redaction.rule import MASK

JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcGk6Ly9ib3QiLCJpc3MiOiJodHRwcyJ9.c2lnbmF0dXJlX2J5dGVz"
GUID = "4f3c2a1e-9b8d-4c7e-a1b2-0123456789ab"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"token is {JWT} please check", JWT),
        (f"Authorization: Bearer {JWT}", JWT),
        ("curl -H 'Authorization: Basic dXNlcjpwYXNz' https://api.example.com", "dXNlcjpwYXNz"),
        ("header was Bearer 0.AXkAabcdEFGH-ijkl_mnop", "0.AXkAabcdEFGH-ijkl_mnop"),
        ("my password is Hunter2!", "Hunter2"),
        ("password: Summer2024", "Summer2024"),
        ("la mia password è Ciao2024!", "Ciao2024"),
        ("il segreto è Xk9#pq77, non dirlo", "Xk9#pq77"),
        (
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFy+/baz==;EndpointSuffix=core.windows.net",
            "Zm9vYmFy+/baz==",
        ),
        ("https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&sp=r&sig=AbC%2Bdef%3D", "AbC%2Bdef%3D"),
        (
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=abc+def=",
            "abc+def=",
        ),
        ("client_secret=7Q8~abcdefg.hijk_LMNOP&grant_type=client_credentials", "7Q8~abcdefg.hijk_LMNOP"),
        ('{"access_token": "ya29.a0AfH6SMB", "expires_in": 3599}', "ya29.a0AfH6SMB"),
        ("{'refreshToken': 'xyz123456'}", "xyz123456"),
        ("api_key=sk-live-1234 and pwd=letmein", "letmein"),
        ("connect to https://svc:p4ssw0rd@db.example.com/x", "p4ssw0rd"),
        ('{"client_secret": "ab\\"cd\\\\ef", "x": 1}', "cd\\\\ef"),  # escaped quote and backslash inside
        ('{"token": "abc\\"}', "abc"),  # a lone backslash before the closing quote
    ],
)
def test_redact_masks_secrets(text: str, secret: str) -> None:
    redacted = redact(text)

    assert secret not in redacted
    assert MASK in redacted


@pytest.mark.parametrize(
    "text",
    [
        f"WorkflowTriggerNotFound: The workflow trigger 'manual' was not found. clientRequestId: {GUID}",
        "https://learn.microsoft.com/en-us/partner-center/referrals/co-sell-connectors?tabs=workspaces",
        "Solution ID is required",
        "password expired for user anna@contoso.com",
        "la password è scaduta",
        "use a Bearer token from Entra ID",
        f"client secret AADSTS7000215 for app {GUID}",
        "error 0x80070005 access denied; tokenExpired at 2024-05-01T10:00:00Z",
        "the secret is out",
    ],
)
def test_redact_leaves_ordinary_text_ids_and_urls(text: str) -> None:
    assert redact(text) == text


def test_redact_activity_drops_secret_keys_deeply_and_copies() -> None:
    activity = {
        "type": "invoke",
        "text": "my password is Hunter2!",
        "value": {"id": GUID, "connectionName": "aad", "token": JWT},
        "channelData": {"items": [{"clientSecret": "x", "note": f"Bearer {JWT}"}], "count": 2},
        "Authorization": "Basic abc",
    }

    redacted = redact_activity(activity)

    assert redacted == {
        "type": "invoke",
        "text": f"my password is {MASK}",
        "value": {"id": GUID, "connectionName": "aad"},
        "channelData": {"items": [{"note": f"Bearer {MASK}"}], "count": 2},
    }
    assert activity["value"]["token"] == JWT  # type: ignore[index]


# --- the pre-check: cheap, and missing nothing ------------------------------------------------------------------


def _every_rule(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def _corpus() -> list[str]:
    """Every FAQ data line (YAML "key: value" lines included) and a grid of near-secret phrasings."""
    data = Path(__file__).resolve().parents[3] / "knowledge" / "data"
    lines = [line for path in sorted(data.rglob("*")) if path.is_file() for line in path.read_text().splitlines()]
    words = ["PASSWORD", "Passphrase", "segreto", "Chiave segreta", "api-key", "ACCESS_TOKEN", "sig", "Bearer"]
    forms = ["{w}: Xy7#abcd", "{w}=Zm9vYmFy+/baz==", "'{w}': 'v4lue99'", "my {w} is Hunter2!", "{w} abcdefgh12345"]
    return lines + [form.format(w=w) for w in words for form in forms] + [f"x://u:p@h {JWT}", "Authorization:x"]


def test_redaction_skips_only_text_that_no_rule_could_change() -> None:
    corpus = _corpus()

    assert len(corpus) > 500
    assert [redact(text) for text in corpus] == [_every_rule(text) for text in corpus]


KEY_SPELLINGS = [
    "client_secret",
    "Pass-Word",
    "pa\u00dfword",
    "X-API-Key",
    "s_i_g",
    "S-I-G",
    "accessToken",
    "p_w_d",
    "AUTHORI\u017eATION",
    "authorization",
    "refresh_tok_en",
    "sigma",
    "signal",
    "design",
    "keyword",
]
TRICKY = [
    "sig\n= abc",
    'sig"=x',
    "s\u0131g= x",
    'x://a"b:c@d',
    "\u017fecret: Abc123!",
    "Authorı-zation: x",
    "\u212aey=abc123",
    "TOKEN\t=\tabc123",
    "sign in, then signature=AbC123",
    "paſsword is Hunter2!",
]


def test_the_json_precheck_misses_no_string_a_rule_could_change() -> None:
    texts = [t for t in _corpus() + TRICKY + [w + ": Xy7#abcd" for w in KEY_SPELLINGS] if _TRIGGER.search(t)]

    assert len(texts) > 50
    missed = [t for t in texts if not _may_hold_secret(json.dumps({"text": t}, ensure_ascii=False))]
    assert missed == []  # dumped as _redacted_json dumps


@pytest.mark.parametrize("key", KEY_SPELLINGS)
def test_the_json_precheck_misses_no_secret_key(key: str) -> None:
    if _is_secret_key(key):
        assert _may_hold_secret(json.dumps({"channelData": {key: 1}}, ensure_ascii=False))


def test_an_api_in_prose_is_no_artifactory_password() -> None:
    # "API" shares only "AP" with an Artifactory password ("AP", a hex digit, 8 more): FAQ answers skip the walk
    raw = {"type": "message", "text": "The paid version gives you 10K API calls per day (Referrals API)."}

    assert not _may_hold_secret(json.dumps(raw, ensure_ascii=False))
    assert redact("use AP3aB5cD7eF9 for the feed, not the API") == f"use {MASK} for the feed, not the API"


def test_a_text_the_table_leaves_is_remembered_by_its_digest_only() -> None:
    answer = "Check whether the username or password of the Partner Center user changed, then repeat the steps."
    secret = "Check the user: the password is Hunter2! then repeat the steps."

    assert redact(answer) == redact(answer) == answer  # the second from the memo
    assert redact(secret) == redact(secret) == f"Check the user: the password is {MASK} then repeat the steps."
    assert masking._digest(answer) in masking._CLEAN and masking._digest(secret) not in masking._CLEAN
    assert all(type(key) is bytes and len(key) == 16 for key in masking._CLEAN)  # no text is kept


def test_the_memo_of_clean_texts_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(masking, "_CLEAN", {})
    monkeypatch.setattr(masking, "_CLEAN_MAX", 3)
    for n in range(10):
        text = f"step {n}: ask for a new password in Partner Center"
        assert redact(text) == text
        assert len(masking._CLEAN) <= 3


def test_redacted_json_is_the_redacted_activity_either_way() -> None:
    raws = [{"type": "message", "text": text, "channelData": {"note": text, "x_api-key": "v"}} for text in _corpus()]
    raws += [{"type": "message", "text": "How do I turn on the flows?", "value": {"a": [1, 2.5, None, True]}}]

    for raw in raws:
        assert json.loads(_redacted_json(raw)) == redact_activity(raw)
    assert not _may_hold_secret(json.dumps(raws[-1]))  # the common case skips the walk


@pytest.mark.parametrize(
    "text",
    [
        '"token": "' + "a\\" * 5_000,  # unclosed, backslash after backslash: exponential before the fix
        "'password': '" + "\\'" * 5_000,
        "password: " * 5_000,
        "authorization: " * 5_000,
    ],
)
def test_redaction_takes_linear_time_on_hostile_text(text: str) -> None:
    """User text reaches these patterns on every turn. Each input takes milliseconds; one that backtracks
    exponentially would run for ages (holding the GIL), so it runs in a child process and the check is only that
    it finishes at all: 30 s is no timing budget."""
    code = "import sys; from assistant.redaction.masking import redact; redact(sys.stdin.read())"
    try:
        subprocess.run([sys.executable, "-c", code], input=text, text=True, check=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("redaction did not finish: a pattern backtracks exponentially")
