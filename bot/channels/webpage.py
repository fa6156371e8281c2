"""The Web Chat page in the user's language, and the Web Chat bundle served compressed.

The page's language follows the bot's rules (`bot.handler.locale_lang`): `?locale=` when it names English or Italian,
else the browser's `Accept-Language` in order of preference, else `COSELL_DEFAULT_LOCALE`; the same locale goes to
Web Chat. The bundle (3.9 MB) is sent as the brotli or gzip file beside it (`webchat.js.br`, `webchat.js.gz`, written
once by `webchat/precompress.cjs` from scripts/bootstrap) through aiohttp's own precompressed-sibling support, and
as is to a client that accepts neither.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from string import Template

from aiohttp import web

from bot.channels.directline.protocol import valid_locale
from bot.handler import locale_lang
from knowledge.models import Lang

log = logging.getLogger(__name__)

_TAGS: dict[Lang, str] = {"en": "en-US", "it": "it-IT"}
PAGE_TEXTS: dict[Lang, dict[str, str]] = {
    "en": {
        "title": "Co-sell Connectors Assistant",
        "label": "Chat with the Co-sell Connectors Assistant",
        "noscript": "This page needs JavaScript to open the chat.",
    },
    "it": {
        "title": "Assistente connettori co-sell",
        "label": "Chat con l'Assistente connettori co-sell",
        "noscript": "Questa pagina richiede JavaScript per aprire la chat.",
    },
}
ENCODINGS = {"br": ".br", "gzip": ".gz"}  # the ones aiohttp's FileResponse looks for, in its order
_MAX_LANGUAGES = 32  # a longer Accept-Language is read no further


def accepted_languages(header: str) -> list[str]:
    """The tags of an `Accept-Language` header by preference (RFC 9110 §12.5.4): highest q first, then as listed;
    q=0, `*` and malformed entries left out."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:_MAX_LANGUAGES]):
        tag, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().casefold() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if valid_locale(tag) and quality > 0:  # NaN is not > 0 either
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def page_language(request: web.Request, default: Lang) -> tuple[Lang, str]:
    """The page's language and the locale handed to Web Chat (as asked for, e.g. `it-CH`, when it is one)."""
    asked = request.query.get("locale")
    candidates = [asked] if asked is not None and valid_locale(asked) else []
    for tag in [*candidates, *accepted_languages(request.headers.get("Accept-Language", ""))]:
        lang = locale_lang(tag)
        if lang is not None:
            return lang, tag
    return default, _TAGS[default]


def render_page(template: Template, lang: Lang, locale: str) -> str:
    """The page in `lang`, its `<html lang>` and Web Chat's locale filled in."""
    values = {key: html.escape(text) for key, text in PAGE_TEXTS[lang].items()}
    return template.substitute(values, lang=lang, locale=html.escape(locale))


def precompressed(bundle: Path) -> list[str]:
    """The encodings whose file beside `bundle` is there and no older than it (a stale one would be served)."""
    try:
        made = bundle.stat().st_mtime
    except OSError:
        return []
    fresh = []
    for encoding, suffix in ENCODINGS.items():
        sibling = bundle.with_name(bundle.name + suffix)
        if sibling.is_file() and sibling.stat().st_mtime >= made:
            fresh.append(encoding)
    return fresh


def bundle_response(bundle: Path) -> web.FileResponse:
    """The bundle, compressed when the client accepts it; ETag and Last-Modified per file (so per encoding)."""
    headers = {
        # the page asks for ?v=<version>, so a long cache cannot outlive an upgrade
        "Cache-Control": "public, max-age=31536000, immutable",
        "Content-Type": "text/javascript",
        "Vary": "Accept-Encoding",  # aiohttp adds it only to a compressed answer; a cache needs it on both
        "X-Content-Type-Options": "nosniff",
    }
    return web.FileResponse(bundle, headers=headers)
