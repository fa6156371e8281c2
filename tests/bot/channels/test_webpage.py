"""The Web Chat page in the user's language (`?locale=`, Accept-Language, the default) and the Web Chat bundle sent
brotli- or gzip-compressed, over real HTTP (bot/channels/webpage.py)."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest

import bot.channels.webchat as webchat
from bot.app import create_app
from bot.channels.webpage import accepted_languages, precompressed


def _attrs(html: str) -> dict[str, str]:
    found = {
        "lang": re.search(r'<html lang="([^"]*)"', html),
        "title": re.search(r"<title>([^<]*)</title>", html),
        "label": re.search(r'id="webchat" aria-label="([^"]*)"', html),
        "locale": re.search(r'data-locale="([^"]*)"', html),
    }
    return {key: match.group(1) for key, match in found.items() if match}


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("?locale=it-IT", "", ("it", "Assistente connettori co-sell", "it-IT")),
        ("?locale=it-IT", "en-US,en;q=0.9", ("it", "Assistente connettori co-sell", "it-IT")),
        ("?locale=en-GB", "it-IT,it;q=0.9", ("en", "Co-sell Connectors Assistant", "en-GB")),
        ("", "it-IT,it;q=0.9,en;q=0.8", ("it", "Assistente connettori co-sell", "it-IT")),
        ("", "fr-FR, en;q=0.5, it;q=0.8", ("it", "Assistente connettori co-sell", "it")),
        ("", "it;q=0, en-AU;q=0.1", ("en", "Co-sell Connectors Assistant", "en-AU")),
        ("?locale=fr-FR", "de-DE, it-CH;q=0.7", ("it", "Assistente connettori co-sell", "it-CH")),
        ("", "", ("en", "Co-sell Connectors Assistant", "en-US")),
    ],
)
async def test_page_speaks_the_users_language(client, query: str, accept: str, expected: tuple[str, ...]) -> None:
    page = await client.get(f"/{query}", headers={"Accept-Language": accept} if accept else {})
    html = await page.text()
    lang, title, locale = expected
    assert page.status == 200 and page.headers["Content-Language"] == lang
    assert "Accept-Language" in page.headers["Vary"]
    italian = lang == "it"
    label = "Chat con l'Assistente connettori co-sell" if italian else "Chat with the Co-sell Connectors Assistant"
    assert _attrs(html) == {"lang": lang, "title": title, "label": label.replace("'", "&#x27;"), "locale": locale}
    assert f"<h1>{title}</h1>" in html and "$" not in html
    assert ("richiede JavaScript" in html) is italian and ("Chat with" in html) is not italian


async def test_default_locale_decides_when_nothing_else_does(aiohttp_client, make_settings, knowledge) -> None:
    client = await aiohttp_client(create_app(make_settings(default_locale="it"), knowledge=knowledge))
    assert _attrs(await (await client.get("/")).text())["locale"] == "it-IT"
    english = await client.get("/", headers={"Accept-Language": "en"})
    assert _attrs(await english.text())["lang"] == "en"


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("?locale=%3Cscript%3E", "<script>alert(1)</script>"),
        ("?locale=" + "it-" * 40, "it;q=abc, ;;;, =, " + "x," * 500),
        ("?locale=&locale=it", "*;q=1, en;q=nan"),
    ],
)
async def test_hostile_locales_are_ignored_not_echoed(client, query: str, accept: str) -> None:
    page = await client.get(f"/{query}", headers={"Accept-Language": accept})
    html = await page.text()
    assert page.status == 200 and "<script>alert" not in html and _attrs(html)["locale"] in {"en-US", "it"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("it-IT,it;q=0.9,en-US;q=0.8,en;q=0.7", ["it-IT", "it", "en-US", "en"]),
        ("en;q=0.2, it", ["it", "en"]),
        ("en;q=0.5, it;q=0.5", ["en", "it"]),  # a tie keeps the listed order
        ("*, it;q=0, en;q=x, fr-FR; q=0.3", ["fr-FR"]),
        ("", []),
    ],
)
def test_accept_language_is_read_by_preference(header: str, expected: list[str]) -> None:
    assert accepted_languages(header) == expected


async def _get_raw(client, path: str, **headers: str) -> tuple[aiohttp.ClientResponse, bytes]:
    # auto_decompress off: the test sees the bytes on the wire, as the browser receives them
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.get(client.make_url(path), headers=headers) as resp:
            return resp, await resp.read()


def _brotli_decompress(data: bytes) -> bytes:
    node = shutil.which("node")
    assert node, "Node.js is needed to check the brotli bytes (Python has no brotli library here)"
    script = "process.stdout.write(require('zlib').brotliDecompressSync(require('fs').readFileSync(0)))"
    return subprocess.run([node, "-e", script], input=data, capture_output=True, check=True, timeout=60).stdout


async def test_bundle_is_sent_compressed_to_clients_that_accept_it(client) -> None:
    assert webchat.BUNDLE.is_file(), "run scripts/bootstrap (npm ci in webchat/, then webchat/precompress.cjs)"
    original = webchat.BUNDLE.read_bytes()
    path = "/webchat/webchat.js?v=4.18.1"
    br, br_body = await _get_raw(client, path, **{"Accept-Encoding": "gzip, deflate, br"})
    gz, gz_body = await _get_raw(client, path, **{"Accept-Encoding": "gzip, deflate"})
    plain, plain_body = await _get_raw(client, path, **{"Accept-Encoding": "identity"})
    print(f"\nwebchat.js on the wire: {len(plain_body)} B as is, {len(gz_body)} B gzip, {len(br_body)} B brotli")
    assert (br.headers["Content-Encoding"], gz.headers["Content-Encoding"]) == ("br", "gzip")
    assert "Content-Encoding" not in plain.headers and plain_body == original
    assert gzip.decompress(gz_body) == original and _brotli_decompress(br_body) == original
    assert len(br_body) < len(gz_body) < len(original) // 3
    for resp in (br, gz, plain):
        assert resp.status == 200 and resp.headers["Vary"] == "Accept-Encoding"
        assert resp.headers["Content-Type"].startswith("text/javascript")
        assert "immutable" in resp.headers["Cache-Control"] and resp.headers["Last-Modified"]
    etags = {resp.headers["ETag"] for resp in (br, gz, plain)}
    assert len(etags) == 3  # one representation, one ETag
    again, body = await _get_raw(client, path, **{"Accept-Encoding": "br", "If-None-Match": br.headers["ETag"]})
    assert again.status == 304 and body == b""


def test_precompressed_files_count_only_when_fresh(tmp_path: Path) -> None:
    bundle = tmp_path / "webchat.js"
    bundle.write_bytes(b"x" * 100)
    assert precompressed(bundle) == [] and precompressed(tmp_path / "missing.js") == []
    for suffix in (".br", ".gz"):
        (tmp_path / f"webchat.js{suffix}").write_bytes(b"z")
    assert precompressed(bundle) == ["br", "gzip"]
    stat = bundle.stat()
    os.utime(tmp_path / "webchat.js.gz", ns=(stat.st_atime_ns, stat.st_mtime_ns - 10**9))  # older than the bundle
    assert precompressed(bundle) == ["br"]
