"""assistant/analytics: the pure parts — grouping unanswered questions, what a shown question keeps, the text and
HTML renderings (inline SVG charts, everything escaped) — on hand-built windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assistant.analytics.figures import EXAMPLE_CHARS, build_report, group_questions, shown_text
from assistant.analytics.model import Turn, TurnFacts, Vote, Window
from assistant.analytics.page import report_html
from assistant.analytics.render import report_text
from assistant.analytics.svg import Bar, bar_chart

UNTIL = datetime(2026, 5, 8, 12, 0, tzinfo=UTC)
SINCE = UNTIL - timedelta(days=7)
HOSTILE = '<img src=x onerror="alert(1)"> & </svg><script>x()</script> token: ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'


def _turn(row: int, conversation: str, ago: timedelta, facts: TurnFacts) -> Turn:
    return Turn(row=row, conversation=("webchat", conversation), at=UNTIL - ago, message=True, facts=facts)


def _window() -> Window:
    hour = timedelta(hours=1)
    turns = [
        _turn(1, "a", hour, TurnFacts("none")),
        _turn(2, "b", hour, TurnFacts("answer", "cfg-a", (("flows-on", "power_automate", "error"),))),
        _turn(3, "c", hour, TurnFacts("clarify", checks=(("x", "graph", "skipped"),))),
        _turn(4, "c", hour - timedelta(minutes=1), TurnFacts(None, "cfg-a")),  # the clarifying question's pick
    ]
    votes = [Vote("c", UNTIL - timedelta(minutes=50), "cfg-a", False)]
    return Window(
        since=SINCE,
        until=UNTIL,
        turns=turns,
        last_activity={t.conversation: t.at for t in turns},
        votes=votes,
        texts={1: HOSTILE, 3: "flows are off after the upgrade"},
    )


def test_similar_questions_are_one_group_largest_first() -> None:
    items = [
        ("my flows are off after the solution upgrade", "unanswered"),
        ("what is the weather", "unanswered"),
        ("flows off after upgrade", "not_helpful"),
        ("Flows are OFF after the upgrade!", "unanswered"),
        ("", "unanswered"),
        ("", "unanswered"),
    ]
    groups = group_questions(items)

    assert [(g.count, g.unanswered, g.not_helpful) for g in groups] == [(3, 2, 1), (1, 1, 0), (1, 1, 0), (1, 1, 0)]
    assert groups[0].example == "my flows are off after the solution upgrade"  # the group's first question


def test_a_shown_question_is_redacted_masked_one_line_and_short() -> None:
    shown = shown_text("mail bob.smith+x@contoso.co.uk\n\npassword: Hunter2! " + "word " * 100)

    assert shown.startswith("mail [email] password: [REDACTED] word")
    assert len(shown) == EXAMPLE_CHARS and shown.endswith("…") and "\n" not in shown


def test_a_clarified_answer_and_its_vote() -> None:
    report = build_report(_window(), areas={"cfg-a": "configuration"}, days=7)

    [entry] = report.entries
    assert (entry.conversations, entry.answers, entry.not_helpful, entry.helpful_rate) == (2, 2, 1, 0.0)
    # the vote's question is the clarified message before it, not the pick (a card submit without text)
    assert [(g.example, g.not_helpful) for g in report.unanswered_groups][1] == ("flows are off after the upgrade", 1)
    # an error is counted apart, a skipped check not at all: no verdict, no failure rate
    assert [(c.key, c.results, c.errors, c.failure_rate) for c in report.checks] == [("flows-on", 1, 1, None)]
    assert report.outcomes.abandoned == 3 and report.questions == 3


def test_the_page_has_its_charts_and_escapes_the_questions() -> None:
    report = build_report(_window(), areas={"cfg-a": "configuration"}, days=7)
    page = report_html(report)

    assert (
        page.startswith("<!DOCTYPE html>") and page.count("<svg") == 5
    )  # sessions, areas, entries, unanswered, checks
    assert "<script" not in page and "<img" not in page and "&lt;script&gt;" in page and "&lt;/svg&gt;" in page
    assert "ghp_A1b2" not in page and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "A1b2C3" not in report_text(report) and "Sessions (conversations)" in report_text(report)


def test_a_chart_bar_is_scaled_and_labelled() -> None:
    svg = bar_chart("Rates <&>", [Bar("a<b", 50, "50%"), Bar("c", 100, "100%", 1)], maximum=100)

    assert "<title>Rates &lt;&amp;&gt;</title>" in svg and "a&lt;b" in svg
    assert 'width="170.0"' in svg and 'width="340.0"' in svg  # half and all of the bars' 340 px
