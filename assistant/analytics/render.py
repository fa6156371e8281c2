"""The report as plain text, for `cosell-bot report` (columns aligned, rates as percentages, "-" where a rate has
no denominator)."""

from __future__ import annotations

from assistant.analytics.model import CheckFigures, Figures, Report


def pct(rate: float | None) -> str:
    """A rate (0-1) as a percentage with one decimal; "-" when there was nothing to divide by."""
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], left: frozenset[int] = frozenset({0})) -> list[str]:
    """Aligned columns: those in `left` to the left, numbers to the right."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        padded = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return ("  " + "  ".join(padded)).rstrip()

    return [line(header), *(line(row) for row in rows)]


FIGURES_HEADER = ("", "conversations", "answers", "helpful", "not helpful", "helpful %", "escalated", "escalation rate")


def figures_row(f: Figures) -> tuple[str, ...]:
    """One entry's or area's cells, under `FIGURES_HEADER`."""
    return (
        f.key,
        str(f.conversations),
        str(f.answers),
        str(f.helpful),
        str(f.not_helpful),
        pct(f.helpful_rate),
        str(f.escalated),
        pct(f.escalation_rate),
    )


def checks_header(*, per_system: bool) -> tuple[str, ...]:
    """The header of the live checks' table (per check, or per system)."""
    return (*(("system",) if per_system else ("check", "system")), "results", "failed", "errors", "failure rate")


def checks_row(c: CheckFigures, *, per_system: bool) -> tuple[str, ...]:
    """One check's (or system's) cells, under `checks_header`."""
    names = (c.key,) if per_system else (c.key, c.system)
    return (*names, str(c.results), str(c.failed), str(c.errors), pct(c.failure_rate))


def _figures(rows: list[Figures]) -> list[str]:
    return _table(FIGURES_HEADER, [figures_row(f) for f in rows])


def _checks(rows: list[CheckFigures], *, per_system: bool) -> list[str]:
    rows_ = [checks_row(c, per_system=per_system) for c in rows]
    return _table(checks_header(per_system=per_system), rows_, left=frozenset({0} if per_system else {0, 1}))


def report_text(report: Report) -> str:
    """The whole report as text."""
    o = report.outcomes
    lines = [
        f"Co-sell Connectors Assistant: usage report, last {report.days} day(s)",
        f"  {report.since.isoformat(timespec='minutes')} to {report.until.isoformat(timespec='minutes')} (UTC)",
        "",
        "Sessions (conversations)",
        *_table(
            ("", "count", "rate"),
            [
                ("engaged", str(o.engaged), ""),
                ("resolved", str(o.resolved), pct(o.resolution_rate)),
                ("escalated", str(o.escalated), pct(o.escalation_rate)),
                ("abandoned", str(o.abandoned), pct(o.abandon_rate)),
                ("active (no outcome yet)", str(o.active), ""),
            ],
        ),
        "",
        f"Questions: {report.questions}, answered {report.answered}, unanswered {report.unanswered} "
        f"({pct(report.unanswered_rate)}); helpful votes {pct(report.helpful_rate)}",
        "",
        "Per area",
        *(_figures(report.areas) if report.areas else ["  (no answers)"]),
        "",
        "Per entry",
        *(_figures(report.entries) if report.entries else ["  (no answers)"]),
        "",
        "Unanswered questions, grouped (redacted examples)",
        *(
            _table(
                ("count", "abstained", "not helpful", "example"),
                [(str(g.count), str(g.unanswered), str(g.not_helpful), g.example) for g in report.unanswered_groups],
                left=frozenset({3}),
            )
            if report.unanswered_groups
            else ["  (none)"]
        ),
        "",
        "Live checks",
        *(_checks(report.checks, per_system=False) if report.checks else ["  (no live check shown)"]),
        *(["", "Live checks per system", *_checks(report.systems, per_system=True)] if report.systems else []),
        "",
        "Definitions",
        *(f"  {name}: {text}" for name, text in report.definitions.items()),
    ]
    return "\n".join(lines) + "\n"
