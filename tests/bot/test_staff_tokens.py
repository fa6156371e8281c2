"""`GET /cases/{ref}` for support staff: a signed, expiring link, or an Entra ID bearer token of the support group
(keys from a local OpenID metadata server, tokens signed here); every refusal is a 401 that says nothing about the
case."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from assistant.handoff.bundle import BundleUser, build_bundle
from assistant.handoff.model import SupportCase
from bot.sdk.openid import OpenIdMetadataCache
from bot.support.links import CaseLinks, add_case_routes
from bot.support.staff_tokens import StaffTokens
from stores.sql.cases import SqlCaseStore
from stores.sqlite.database import SqliteDatabase

GROUP = "0b5c1a8e-0000-4000-8000-00000000beef"
AUDIENCE = "5f0c2a77-0000-4000-8000-0000000000aa"
ISSUER = "https://login.microsoftonline.com/tenant-1/v2.0"
SECRET = "case-link-secret-for-tests-0123456789abcdef"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _token(key: Any = KEY, kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    body = {"aud": AUDIENCE, "iss": ISSUER, "exp": now + 600, "iat": now, "groups": [GROUP], "name": "Giulia"}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
async def client(aiohttp_client, aiohttp_server, tmp_path):  # type: ignore[no-untyped-def]
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    keys = {"keys": [{**jwk, "kid": "k1", "use": "sig", "kty": "RSA"}]}
    idp = web.Application()
    idp.router.add_get("/jwks", lambda r: web.json_response(keys))
    idp.router.add_get("/meta", lambda r: web.json_response({"jwks_uri": f"http://{r.host}/jwks"}))
    server = await aiohttp_server(idp)
    idp_url = str(server.make_url(""))
    database = SqliteDatabase(tmp_path / "cases.db")
    store = SqlCaseStore(database)
    now = datetime.now(UTC)
    case = SupportCase(ref="CS-TOKEN2", created=now, updated=now, channel_id="msteams", conversation_id="c1")
    bundle = build_bundle(
        ref="CS-TOKEN2", channel="msteams", conversation_id="c1", locale="en-US", user=BundleUser(name="Mario"),
        description="flows are off",
    )  # fmt: skip
    await store.create(case, bundle.to_json())
    tokens = StaffTokens(
        group_id=GROUP,
        audience=AUDIENCE,
        tenant_id="tenant-1",
        openid_url=idp_url.rstrip("/") + "/meta",
        issuer=ISSUER,
        cache=OpenIdMetadataCache(),
    )
    app = web.Application()
    links = CaseLinks(SECRET, "http://127.0.0.1:3978", 7)
    add_case_routes(app, store, links, tokens)
    test_client = await aiohttp_client(app)
    test_client.links = links
    yield test_client
    database.close()


async def _get(client: Any, token: str | None, path: str = "/cases/CS-TOKEN2") -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return (await client.get(path, headers=headers)).status


async def test_a_support_group_member_reads_the_bundle(client) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/cases/CS-TOKEN2", headers={"Authorization": f"Bearer {_token()}"})
    assert resp.status == 200 and "CS-TOKEN2" in await resp.text()
    assert (
        resp.headers["Cache-Control"] == "no-store" and "default-src 'none'" in resp.headers["Content-Security-Policy"]
    )


@pytest.mark.parametrize(
    "token",
    [
        None,
        _token(groups=["some-other-group"]),
        _token(groups=None),
        _token(aud="another-app"),
        _token(iss="https://login.microsoftonline.com/other-tenant/v2.0"),
        _token(exp=int(time.time()) - 10),
        _token(key=OTHER_KEY),  # signed by a key the tenant does not publish
        _token(kid="unknown-kid"),
        jwt.encode({"aud": AUDIENCE, "iss": ISSUER, "groups": [GROUP]}, "x" * 32, algorithm="HS256"),
        "not-a-jwt",
    ],
)
async def test_anyone_else_gets_401(client, token) -> None:  # type: ignore[no-untyped-def]
    assert await _get(client, token) == 401


async def test_the_signed_link_works_and_expires(client) -> None:  # type: ignore[no-untyped-def]
    link = client.links.link("CS-TOKEN2")
    path = link.removeprefix("http://127.0.0.1:3978")
    assert await _get(client, None, path) == 200
    stale = client.links.link("CS-TOKEN2", now=time.time() - 8 * 86400).removeprefix("http://127.0.0.1:3978")
    assert await _get(client, None, stale) == 401
    other = path.replace("CS-TOKEN2", "CS-OTHER2")  # a link signs one case only
    assert await _get(client, None, other) == 401
    assert await _get(client, _token(), "/cases/CS-NOPE22") == 404  # only an authorised caller learns it is absent
