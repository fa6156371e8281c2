"""The report as one self-contained HTML page (`cosell-bot report --html FILE`, `GET /admin/report?format=html`):
tables and inline SVG charts (`assistant.analytics.svg`), no script, no external resource, everything escaped."""

from __future__ import annotations

from html import escape

from assistant.analytics.model import CheckFigures, Figures, Report
from assistant.analytics.render import FIGURES_HEADER, checks_header, checks_row, figures_row, pct
from assistant.analytics.svg import Bar, bar_chart

_STYLE = (
    "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1a202c}table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #cbd5e0;padding:.2em .6em;text-align:right}th:first-child,td:first-child,td.text"
    "{text-align:left}svg.chart{display:block;margin:1em 0;font-size:12px}dt{font-weight:bold}dd{margin:0 0 .4em 1em}"
)
_TOP_ENTRIES = 12


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], text_columns: frozenset[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="text">{escape(c)}</td>' if i in text_columns else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figures_table(rows: list[Figures]) -> str:
    return _table(FIGURES_HEADER, [figures_row(f) for f in rows])


def _rates_chart(title: str, rows: list[Figures]) -> str:
    bars: list[Bar] = []
    for f in rows:
        bars.append(Bar(f.key, (f.helpful_rate or 0) * 100, f"helpful {pct(f.helpful_rate)}", 0))
        bars.append(Bar(f.key, (f.escalation_rate or 0) * 100, f"escalated {pct(f.escalation_rate)}", 1))
    return bar_chart(title, bars, maximum=100, legend=("helpful %", "escalation rate"))


def _checks_table(rows: list[CheckFigures], *, per_system: bool) -> str:
    return _table(checks_header(per_system=per_system), [checks_row(c, per_system=per_system) for c in rows])


def _sessions(report: Report) -> str:
    o = report.outcomes
    chart = bar_chart(
        "Sessions by outcome",
        [
            Bar("resolved", o.resolved, f"{o.resolved} ({pct(o.resolution_rate)})", 2),
            Bar("escalated", o.escalated, f"{o.escalated} ({pct(o.escalation_rate)})", 1),
            Bar("abandoned", o.abandoned, f"{o.abandoned} ({pct(o.abandon_rate)})", 3),
            Bar("active (no outcome yet)", o.active, str(o.active), 0),
        ],
        maximum=o.engaged,
    )
    return (
        f"<h2>Sessions</h2><p>{o.engaged} engaged conversation(s). Questions: {report.questions}, answered "
        f"{report.answered}, unanswered {report.unanswered} ({escape(pct(report.unanswered_rate))}); helpful votes "
        f"{escape(pct(report.helpful_rate))}.</p>{chart}"
    )


def _unanswered(report: Report) -> str:
    groups = report.unanswered_groups
    if not groups:
        return "<h2>Unanswered questions</h2><p>None.</p>"
    chart = bar_chart(
        "Unanswered questions, largest groups", [Bar(g.example, g.count, str(g.count)) for g in groups[:10]]
    )
    table = _table(
        ("count", "abstained", "not helpful", "example (redacted)"),
        [(str(g.count), str(g.unanswered), str(g.not_helpful), g.example) for g in groups],
        text_columns=frozenset({3}),
    )
    return f"<h2>Unanswered questions</h2>{chart}{table}"


def _checks(report: Report) -> str:
    if not report.checks:
        return "<h2>Live checks</h2><p>No live check was shown.</p>"
    chart = bar_chart(
        "Live-check failure rate per system",
        [Bar(s.key, (s.failure_rate or 0) * 100, f"{pct(s.failure_rate)} of {s.results}", 1) for s in report.systems],
        maximum=100,
    )
    return (
        f"<h2>Live checks</h2>{chart}{_checks_table(report.systems, per_system=True)}"
        f"{_checks_table(report.checks, per_system=False)}"
    )


def report_html(report: Report) -> str:
    """The whole report as an HTML document."""
    title = f"Usage report, last {report.days} day(s)"
    span = f"{report.since.isoformat(timespec='minutes')} to {report.until.isoformat(timespec='minutes')} (UTC)"
    definitions = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in report.definitions.items())
    entries = report.entries[:_TOP_ENTRIES]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Co-sell Connectors Assistant: {escape(title)}</h1><p>{escape(span)}</p>"
        f"{_sessions(report)}"
        f"<h2>Per area</h2>{_rates_chart('Helpful % and escalation rate per area', report.areas)}"
        f"{_figures_table(report.areas)}"
        f"<h2>Per entry</h2>{_rates_chart('Helpful % and escalation rate, most used entries', entries)}"
        f"{_figures_table(report.entries)}"
        f"{_unanswered(report)}{_checks(report)}"
        f"<h2>Definitions</h2><dl>{definitions}</dl></body></html>"
    )
