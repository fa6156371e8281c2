"""Bearer tokens on `/api/messages`: refused on their shape alone, before any signing key is looked up, and the short
reason a 401 gives for any refused token (never the token, nor botbuilder's message, which may quote claims)."""

from __future__ import annotations

import base64
import json
import re

import jwt

from bot.sdk import openid


class BadToken(Exception):
    """A bearer token refused on its shape alone, before any signing key is looked up."""


_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_DEFAULT_AUTH_REASON = "missing or invalid Authorization header"
# What a client is told, first match wins; the default covers PermissionError and botbuilder's bare Exceptions.
_AUTH_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidSignatureError, "token signature does not verify"),
    (openid.UnknownSigningKey, "token signed by an unknown key"),
    (openid.SigningKeysUnavailable, "signing keys unavailable"),
    (jwt.InvalidTokenError, "invalid token"),
)


def check_token_shape(auth_header: str) -> None:
    """Refuse, at no network cost, a header that cannot carry a Bot Framework token; an empty one passes.

    botbuilder decides about an empty header (anonymous when auth is off). Otherwise the token must be three
    base64url segments whose header says RS256 (botbuilder verifies with nothing else, whatever its allowed list
    says) and names a key: alg none, HS256 (alg confusion) and garbage never reach the key lookup.

    Raises:
        BadToken: with the short reason the client gets.
    """
    if not auth_header:
        return
    scheme, _, token = auth_header.partition(" ")
    if scheme != "Bearer":  # botbuilder's own test, case and all
        raise BadToken("Authorization scheme must be Bearer")
    segments = token.split(".")
    if len(segments) != 3 or not all(_BASE64URL.fullmatch(segment) for segment in segments):
        raise BadToken("token is not a signed JWT")
    try:
        header = json.loads(base64.urlsafe_b64decode(segments[0] + "=" * (-len(segments[0]) % 4)))
    except (ValueError, RecursionError):  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise BadToken("token header is not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "RS256":
        raise BadToken("token algorithm must be RS256")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise BadToken("token names no signing key")


def auth_failure_reason(exc: Exception) -> str:
    """The short reason for a 401: never the token, nor botbuilder's message (it may quote claims)."""
    if isinstance(exc, BadToken):
        return str(exc)
    return next((reason for kind, reason in _AUTH_REASONS if isinstance(exc, kind)), _DEFAULT_AUTH_REASON)
