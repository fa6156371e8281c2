"""`GET /admin/report` and `cosell-bot report` on a database filled by real turns (`bot.local.LocalConversation`:
the real adapter, transcript middleware, dialogs and stores): the turns' facts reach the report, the route refuses
without the token (401, nothing else), is off without one (404), answers JSON or HTML, and never shows a secret or an
e-mail address a user wrote."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.app import ASSISTANT, create_app
from bot.cli import main
from bot.local import LocalConversation
from bot.wiring import build_assistant

TOKEN = "report-token-" + "x" * 32
HOSTILE = "<script>alert(1)</script> how do I bake a cake? mail alice@contoso.com password: Hunter2!"
QUESTION = "WorkflowTriggerNotFound when I turn on a flow"


async def _talk(assistant: Any) -> None:
    """Four conversations: answered and helpful, answered and not helpful, abstained (hostile text), escalated."""
    for vote in ("yes", "no"):
        talk = LocalConversation(assistant)
        assert (await talk.say(QUESTION)).match.kind == "answer"
        await talk.say(vote)
    talk = LocalConversation(assistant, user_id="hostile-user")
    assert (await talk.say(HOSTILE)).match.kind == "none"
    talk = LocalConversation(assistant)
    await talk.say("talk to a person")
    await talk.say("The Partner Center to Dynamics flow fails since Monday")
    assert "CS-" in (await talk.say("send")).text


@pytest.fixture
async def client(aiohttp_client: Any, make_settings: Any, knowledge: Any) -> Any:
    app = create_app(make_settings(admin_report_token=TOKEN), knowledge=knowledge)
    client = await aiohttp_client(app)
    await _talk(app[ASSISTANT])
    return client


async def test_the_report_of_real_turns_as_json(client: Any) -> None:
    response = await client.get("/admin/report", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    report = await response.json()

    o = report["outcomes"]
    # the escalated conversation's first message asked for a person: no question for the matcher
    assert (o["engaged"], o["resolved"], o["escalated"], o["abandoned"], o["active"]) == (4, 1, 1, 0, 2)
    assert (report["questions"], report["answered"], report["unanswered"]) == (3, 2, 1)
    [entry] = report["entries"]
    assert (entry["key"], entry["area"], entry["conversations"]) == (
        "cfg-workflow-trigger-not-found",
        "configuration",
        2,
    )
    assert (entry["helpful"], entry["not_helpful"], entry["helpful_rate"]) == (1, 1, 0.5)
    groups = {(g["unanswered"], g["not_helpful"]): g["example"] for g in report["unanswered_groups"]}
    assert groups[(0, 1)] == QUESTION
    assert groups[(1, 0)] == "<script>alert(1)</script> how do I bake a cake? mail [email] password: [REDACTED]"
    body = await response.text()
    assert "Hunter2" not in body and "alice@contoso.com" not in body and TOKEN not in body


async def test_the_html_page_has_charts_and_escapes_everything(client: Any) -> None:
    for query, headers in (("?format=html", {}), ("", {"Accept": "text/html"})):
        response = await client.get(f"/admin/report{query}", headers={"Authorization": f"Bearer {TOKEN}", **headers})
        assert response.status == 200 and response.content_type == "text/html"
        page = await response.text()
        assert page.count("<svg") >= 3 and "<script" not in page and "&lt;script&gt;" in page
        assert "Hunter2" not in page and "alice@contoso.com" not in page
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer a.b.c"],
)
async def test_no_token_no_report(client: Any, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.get("/admin/report?format=html", headers=headers)
    assert response.status == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    body = await response.text()
    assert "engaged" not in body and "bake" not in body


async def test_off_without_a_token_setting(aiohttp_client: Any, settings: Any, knowledge: Any) -> None:
    client = await aiohttp_client(create_app(settings, knowledge=knowledge))
    response = await client.get("/admin/report", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 404 and "COSELL_ADMIN_REPORT_TOKEN" in (await response.json())["error"]


@pytest.mark.parametrize("days", ["0", "366", "x", "-1"])
async def test_days_out_of_range(client: Any, days: str) -> None:
    response = await client.get(f"/admin/report?days={days}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 400


async def test_a_failing_database_is_a_503(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*_args: Any) -> Any:
        raise RuntimeError("no database")

    monkeypatch.setattr(client.app[ASSISTANT].analytics, "window", broken)
    response = await client.get("/admin/report", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 503 and "no database" not in await response.text()


def test_a_short_token_is_refused(make_settings: Any) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="COSELL_ADMIN_REPORT_TOKEN"):
        make_settings(admin_report_token="short")


def test_the_command(
    make_settings: Any, knowledge: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    settings = make_settings()

    async def seed() -> None:
        assistant = build_assistant(settings, knowledge=knowledge)
        try:
            await _talk(assistant)
        finally:
            await assistant.close()

    asyncio.run(seed())
    monkeypatch.setenv("COSELL_DATABASE_PATH", str(settings.database_path))
    html = tmp_path / "report.html"

    assert main(["report", "--days", "3", "--html", str(html)]) == 0
    text = capsys.readouterr().out
    assert "engaged                      4" in text and "cfg-workflow-trigger-not-found" in text
    assert "[email]" in text and "Hunter2" not in text and "alice@contoso.com" not in text
    assert "<svg" in html.read_text() and "&lt;script&gt;" in html.read_text()

    assert main(["report", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outcomes"]["escalated"] == 1
    assert main(["report", "--days", "0"]) == 2
