"""`build_report`: the report's figures from a window of turns, votes, checklists and cases (`model.Window`), pure.

The rules, near Copilot Studio's analytics (sessions engaged, then resolved, escalated or abandoned; sessions time
out after 30 minutes), are `DEFINITIONS`: the report carries them, the README repeats them. A session is a
conversation (channel and conversation id) with activity in the window.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import timedelta

from rapidfuzz import fuzz, process, utils

from assistant.analytics.model import CheckFigures, Figures, Outcomes, QuestionGroup, Report, Turn, Window
from assistant.redaction.masking import redact

ABANDON_AFTER = timedelta(minutes=30)  # Copilot Studio's session timeout
SIMILAR = 70  # rapidfuzz token_set_ratio at which two questions are one group
MAX_GROUPS = 20
MAX_QUESTIONS = 5000  # grouped at most (the most recent), so a flood of questions costs bounded time
EXAMPLE_CHARS = 160
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

DEFINITIONS = {
    "window": "the last N days up to now; transcripts are kept COSELL_RETENTION_DAYS, so no window sees further back",
    "engaged": "a conversation with at least one user message in the window",
    "escalated": "an engaged conversation in which a support case was opened in the window",
    "resolved": "an engaged conversation, not escalated, in which the user said an answer helped or a checklist "
    "ended with no open item, in the window",
    "abandoned": "an engaged conversation, neither resolved nor escalated, with no activity in the last {minutes} "
    "minutes of the window (Copilot Studio's session timeout)",
    "active": "an engaged conversation, neither resolved nor escalated, active in the last {minutes} minutes: no "
    "outcome yet",
    "questions": "user messages the matcher judged (small talk and off-topic questions pointed to Microsoft's page "
    "for them not counted)",
    "unanswered": "a question the matcher found no entry for (it abstained), or whose answer the user said did not "
    "help; grouped by similar words, one redacted example each",
    "helpful": "helpful votes / votes on an entry's answers (an area: its entries') in the window",
    "escalation rate": "of the conversations an entry (an area: any of its entries) answered, the share escalated",
    "live-check failure rate": "failed results / results that reached a verdict (pass, warn, fail), per check and "
    "system; errors (could not check) counted apart, skipped checks not at all; every result shown counts",
}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def shown_text(text: str) -> str:
    """A question as the report shows it: redacted (again), e-mail addresses masked, one line, truncated."""
    line = " ".join(_EMAIL.sub("[email]", redact(text)).split())
    return line if len(line) <= EXAMPLE_CHARS else line[: EXAMPLE_CHARS - 1] + "…"


def _outcomes(window: Window, abandon_after: timedelta) -> tuple[Outcomes, set[tuple[str, str]]]:
    engaged = {t.conversation for t in window.turns if t.message}
    escalated = engaged & window.escalated
    helped = {v.conversation_id for v in window.votes if v.helpful} | window.clean_checklists
    resolved = {c for c in engaged - escalated if c[1] in helped}
    rest = engaged - escalated - resolved
    idle = {c for c in rest if window.until - window.last_activity.get(c, window.since) >= abandon_after}
    n = len(engaged)
    outcomes = Outcomes(
        engaged=n,
        resolved=len(resolved),
        escalated=len(escalated),
        abandoned=len(idle),
        active=len(rest - idle),
        resolution_rate=_rate(len(resolved), n),
        escalation_rate=_rate(len(escalated), n),
        abandon_rate=_rate(len(idle), n),
    )
    return outcomes, escalated


class _Tally:
    """One entry's or area's counts while the window is read."""

    def __init__(self) -> None:
        self.conversations: set[tuple[str, str]] = set()
        self.answers = 0
        self.helpful = 0
        self.not_helpful = 0

    def figures(self, key: str, area: str, escalated: set[tuple[str, str]]) -> Figures:
        votes = self.helpful + self.not_helpful
        hit = len(self.conversations & escalated)
        return Figures(
            key=key,
            area=area,
            conversations=len(self.conversations),
            answers=self.answers,
            helpful=self.helpful,
            not_helpful=self.not_helpful,
            helpful_rate=_rate(self.helpful, votes),
            escalated=hit,
            escalation_rate=_rate(hit, len(self.conversations)),
        )


def _per_entry(
    window: Window, areas: Mapping[str, str], escalated: set[tuple[str, str]]
) -> tuple[list[Figures], list[Figures]]:
    entries: dict[str, _Tally] = defaultdict(_Tally)
    by_area: dict[str, _Tally] = defaultdict(_Tally)
    for turn in window.turns:
        entry = turn.facts.entry_id
        if entry is not None:
            for tally in (entries[entry], by_area[areas.get(entry, "unknown")]):
                tally.conversations.add(turn.conversation)
                tally.answers += 1
    for vote in window.votes:
        for tally in (entries[vote.entry_id], by_area[areas.get(vote.entry_id, "unknown")]):
            if vote.helpful:
                tally.helpful += 1
            else:
                tally.not_helpful += 1

    def ranked(figures: Iterable[Figures]) -> list[Figures]:
        return sorted(figures, key=lambda f: (-f.conversations, -(f.helpful + f.not_helpful), f.key))

    return (
        ranked(t.figures(e, areas.get(e, "unknown"), escalated) for e, t in entries.items()),
        ranked(t.figures(a, a, escalated) for a, t in by_area.items()),
    )


def _unanswered(window: Window) -> list[tuple[str, str]]:
    """(text, "unanswered" | "not_helpful"), oldest first. A not-helpful vote's question is the text of its
    conversation's latest answered or clarified message before the vote (a clarifying question's pick has none)."""
    items = [
        (window.texts[t.row], "unanswered", t.at)
        for t in window.turns
        if t.facts.verdict == "none" and t.row in window.texts
    ]
    asked: dict[str, list[Turn]] = defaultdict(list)
    for t in window.turns:
        if t.facts.verdict in ("answer", "clarify") and t.row in window.texts:
            asked[t.conversation[1]].append(t)
    for vote in window.votes:
        before = [t for t in asked.get(vote.conversation_id, ()) if t.at <= vote.at]
        if not vote.helpful and before:
            items.append((window.texts[before[-1].row], "not_helpful", vote.at))
    items.sort(key=lambda item: item[2])
    return [(text, kind) for text, kind, _at in items[-MAX_QUESTIONS:]]


def group_questions(items: list[tuple[str, str]], similar: int = SIMILAR) -> list[QuestionGroup]:
    """Greedy grouping: each question joins the first group whose first question it resembles (token_set_ratio at
    least `similar`, on lower-cased words), else opens one; the largest `MAX_GROUPS` groups, largest first."""
    keys: list[str] = []
    members: list[Counter[str]] = []
    examples: list[str] = []
    for raw, kind in items:
        text = shown_text(raw)  # grouped on what is shown: masked addresses and secrets weigh one word each
        key = utils.default_process(text)
        found = process.extractOne(key, keys, scorer=fuzz.token_set_ratio, score_cutoff=similar) if key else None
        if found is None:
            keys.append(key or f"\0{len(keys)}")  # an empty key (all masked) never matches another
            members.append(Counter())
            examples.append(text)
            at = len(keys) - 1
        else:
            at = found[2]
        members[at][kind] += 1
    groups = [
        QuestionGroup(count=sum(c.values()), unanswered=c["unanswered"], not_helpful=c["not_helpful"], example=ex)
        for c, ex in zip(members, examples, strict=True)
    ]
    return sorted(groups, key=lambda g: -g.count)[:MAX_GROUPS]


def _checks(window: Window) -> tuple[list[CheckFigures], list[CheckFigures]]:
    by_check: dict[str, Counter[str]] = defaultdict(Counter)
    by_system: dict[str, Counter[str]] = defaultdict(Counter)
    system_of: dict[str, str] = {}
    for turn in window.turns:
        for check, system, status in turn.facts.checks:
            if status == "skipped":
                continue
            system_of[check] = system
            by_check[check][status] += 1
            by_system[system][status] += 1

    def figures(key: str, system: str, counts: Counter[str]) -> CheckFigures:
        judged = counts["pass"] + counts["warn"] + counts["fail"]
        return CheckFigures(
            key=key,
            system=system,
            results=judged + counts["error"],
            failed=counts["fail"],
            errors=counts["error"],
            failure_rate=_rate(counts["fail"], judged),
        )

    def ranked(items: Iterable[CheckFigures]) -> list[CheckFigures]:
        return sorted(items, key=lambda f: (-(f.failure_rate or 0), -f.results, f.key))

    return (
        ranked(figures(c, system_of[c], n) for c, n in by_check.items()),
        ranked(figures(s, s, n) for s, n in by_system.items()),
    )


def build_report(
    window: Window, *, areas: Mapping[str, str], days: int, abandon_after: timedelta = ABANDON_AFTER
) -> Report:
    """The report of `window`; `areas` maps entry ids to their area."""
    outcomes, escalated = _outcomes(window, abandon_after)
    entries, by_area = _per_entry(window, areas, escalated)
    checks, systems = _checks(window)
    verdicts = Counter(t.facts.verdict for t in window.turns if t.facts.verdict is not None)
    questions = verdicts["answer"] + verdicts["clarify"] + verdicts["none"]
    helpful = sum(v.helpful for v in window.votes)
    minutes = int(abandon_after.total_seconds() // 60)
    return Report(
        since=window.since,
        until=window.until,
        days=days,
        abandon_after_minutes=minutes,
        definitions={k: v.format(minutes=minutes) for k, v in DEFINITIONS.items()},
        outcomes=outcomes,
        questions=questions,
        answered=verdicts["answer"],
        unanswered=verdicts["none"],
        unanswered_rate=_rate(verdicts["none"], questions),
        helpful_rate=_rate(helpful, len(window.votes)),
        entries=entries,
        areas=by_area,
        unanswered_groups=group_questions(_unanswered(window)),
        checks=checks,
        systems=systems,
    )
