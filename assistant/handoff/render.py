"""A case bundle for people: a full HTML page for support staff and short Markdown for cards and chat.

Every value is escaped (HTML) or stripped of Markdown control characters, so nothing a user typed can inject markup
into the support engineer's page or card. The texts are in English: the audience is the support team.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from assistant.handoff.bundle import CaseBundle, Finding
from assistant.presenters.marks import labelled, mark

_MD_CONTROL = re.compile(r"([\\`*_\[\]<>#|])")
MAX_CARD_FINDINGS = 5


def _md(text: str) -> str:
    return _MD_CONTROL.sub(r"\\\1", " ".join(text.split()))


def _when(at: datetime | None) -> str:
    """In UTC, whatever offset the timestamp came with (a naive one is taken as UTC already)."""
    if at is None:
        return "-"
    return (at.astimezone(UTC) if at.tzinfo else at).strftime("%Y-%m-%d %H:%M UTC")


def _who(bundle: CaseBundle) -> str:
    user = bundle.user
    name = user.name or user.id or "unknown user"
    return f"{name} (verified)" if user.verified else f"{name} (not verified by the channel)"


def finding_line(finding: Finding) -> str:
    """One finding as a Markdown bullet: mark and status word, title, summary (support reads English)."""
    return f"- {labelled(finding.status, 'en')} — **{_md(finding.title)}**: {_md(finding.summary)}"


def bundle_markdown(bundle: CaseBundle, *, link: str | None = None) -> str:
    """The case in a few lines for a support card: who, where, the user's words, the failing checks, the link."""
    lines = [
        # the locale comes from the user's activity: escaped like everything else a caller sent
        f"**Case {_md(bundle.ref)}** · {bundle.status} · {_md(bundle.channel)} · {_md(bundle.locale)}",
        f"**From:** {_md(_who(bundle))}",
        f"**Summary:** {_md(bundle.summary)}",
        f"**In their words:** {_md(bundle.description) or '-'}",
    ]
    failing = bundle.failing
    if failing:
        lines.append("**Checks that need attention:**")
        lines.extend(finding_line(f) for f in failing[:MAX_CARD_FINDINGS])
        if len(failing) > MAX_CARD_FINDINGS:
            lines.append(f"- … and {len(failing) - MAX_CARD_FINDINGS} more in the bundle")
    elif bundle.findings:
        lines.append(f"**Live checks:** all {len(bundle.findings)} passed or could not look")
    else:
        lines.append("**Live checks:** none ran in this conversation")
    if bundle.remediations:
        tried = ", ".join(f"{_md(r.action)} ({_md(r.result)})" for r in bundle.remediations[-3:])
        lines.append(f"**Fixes:** {tried}")
    if link:
        lines.append(f"[Open the full diagnostic bundle]({link})")
    return "\n\n".join(lines)


def _rows(cells: Iterable[Iterable[object]]) -> str:
    return "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in cells)


def _table(head: Iterable[str], rows: Iterable[Iterable[object]], empty: str) -> str:
    body = _rows(rows)
    if not body:
        return f"<p class=empty>{html.escape(empty)}</p>"
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value else ""


_STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.3rem .5rem;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}.empty{color:#666}.user{background:#eef5ff}"
    ".support{background:#fff6e0}code{font-size:12px;word-break:break-all}"
)


def bundle_html(bundle: CaseBundle) -> str:
    """The full bundle as a self-contained HTML page (no scripts, no external resources)."""
    e = html.escape
    tenant = bundle.tenant
    facts = [
        ("Case", bundle.ref),
        ("Status", bundle.status),
        ("Created", _when(bundle.created)),
        ("Channel", bundle.channel),
        ("Conversation", bundle.conversation_id),
        ("Language", bundle.locale),
        ("User", _who(bundle)),
        ("AAD object id", bundle.user.aad_object_id or "-"),
        ("Tenant", tenant.tenant_id or "-"),
        ("Environment", tenant.environment or "-"),
        ("CRM", tenant.crm or "-"),
        ("Summary", bundle.summary),
        ("In their words", bundle.description or "-"),
    ]
    sections = [
        f"<h1>Co-sell connectors case {e(bundle.ref)}</h1>",
        _table(("Field", "Value"), facts, ""),
        "<h2>Live checks</h2>",
        _table(
            ("Status", "Check", "System", "Found", "Evidence", "Checked"),
            (
                (f"{mark(f.status)} {f.status}", f.title, f.system, f.summary, _json(f.evidence), _when(f.checked_at))
                for f in bundle.findings
            ),
            "No live check ran in this conversation.",
        ),
        "<h2>Fixes offered, refused, done</h2>",
        _table(
            ("When", "Action", "Result", "Detail", "Before", "After"),
            (
                (_when(r.at), r.action, r.result, r.detail or "", _json(r.before), _json(r.after))
                for r in bundle.remediations
            ),
            "No fix was offered.",
        ),
        "<h2>Answers the assistant gave</h2>",
        _table(
            ("When", "Entry", "Title", "Confidence", "How"),
            ((_when(m.at), m.entry, m.title, f"{m.confidence:.2f}", m.via) for m in bundle.matched),
            "No FAQ answer was given.",
        ),
        "<h2>Checklists</h2>",
        _table(
            ("Area", "Check", "Outcome"),
            ((c.area, i.check, f"{mark(i.outcome)} {i.outcome}") for c in bundle.checklists for i in c.items),
            "No checklist was walked.",
        ),
        "<h2>Feedback</h2>",
        _table(
            ("When", "Entry", "Helpful"),
            ((_when(v.at), v.entry, "yes" if v.helpful else "no") for v in bundle.feedback),
            "No votes.",
        ),
        "<h2>Conversation</h2>",
    ]
    if bundle.transcript_truncated:
        sections.append(f"<p class=empty>{bundle.transcript_truncated} older messages are left out.</p>")
    rows = "".join(
        f"<tr class={line.role}><td>{e(_when(line.at))}</td><td>{e(line.role)}</td>"
        f"<td>{e(line.text).replace(chr(10), '<br>')}</td></tr>"
        for line in bundle.transcript
    )
    sections.append(f"<table><tbody>{rows}</tbody></table>" if rows else "<p class=empty>No messages.</p>")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Case {e(bundle.ref)}</title>'
        f'<meta name="robots" content="noindex"><style>{_STYLE}</style></head><body>{"".join(sections)}</body></html>'
    )
