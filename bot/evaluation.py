"""Score the assistant on an evaluation file (JSON lines: id, lang, kind, text, faq, alt, must_mention), each
question in a fresh in-process conversation, as `cosell-bot ask --json` runs it.

`kind` is `match` (top-1 on `faq`, then the answer's `must_mention` facts), `none` (no entry may be answered:
abstention) or `ambiguous` (full credit for a clarifying choice offering one of `alt`, half for answering one of
them). A case naming an entry the knowledge base does not have is scored apart as *pending* (its entry is still to
be written), never as a miss. Used by `cosell-bot eval` and by the tests.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from bot.wiring import Assistant

#: the project's own evaluation set, written from the source page only, and the shared dev set (scored when present)
REPO = Path(__file__).resolve().parents[1]
OWN_SET = REPO / "tests" / "data" / "eval" / "own.jsonl"
#: a second own set: long messages (context, pasted errors, then the question) and symptoms that name no topic
LONG_SET = REPO / "tests" / "data" / "eval" / "long.jsonl"
#: a third blind-written set (another writer, the same brief as the own set), and off-topic questions that share the
#: connectors' words (Partner Center, Salesforce, flows, roles, prices) without being about them
THIRD_SET = REPO / "tests" / "data" / "eval" / "third.jsonl"
OFFTOPIC_SET = REPO / "tests" / "data" / "eval" / "offtopic.jsonl"
#: more blind-written sets, each by its own writer (given the source page and the brief, never the entries) with a
#: style of its own: terse chat typing (typos, abbreviations), business people describing symptoms without the
#: technical names, long messages with pasted errors, forum posts, what people see on screen, search-box keywords
#: with misspelt product names, second-hand reports, error text pasted first, yes/no and "is it normal" questions,
#: dictation and formal e-mails
TERSE_SET = REPO / "tests" / "data" / "eval" / "terse.jsonl"
INDIRECT_SET = REPO / "tests" / "data" / "eval" / "indirect.jsonl"
CONTEXT_SET = REPO / "tests" / "data" / "eval" / "context.jsonl"
FORUM_SET = REPO / "tests" / "data" / "eval" / "forum.jsonl"
SCREEN_SET = REPO / "tests" / "data" / "eval" / "screen.jsonl"
SEARCH_SET = REPO / "tests" / "data" / "eval" / "search.jsonl"
REPORTED_SET = REPO / "tests" / "data" / "eval" / "reported.jsonl"
PASTED_SET = REPO / "tests" / "data" / "eval" / "pasted.jsonl"
YESNO_SET = REPO / "tests" / "data" / "eval" / "yesno.jsonl"
DICTATED_SET = REPO / "tests" / "data" / "eval" / "dictated.jsonl"
#: off-topic near neighbours by one more writer: payouts, partner ids, co-sell readiness, Dynamics and Power
#: Platform licensing, other flows, other products' availability, CRM how-to, other integrations (200, EN/IT)
NEIGHBOURS_SET = REPO / "tests" / "data" / "eval" / "neighbours.jsonl"
#: written blind as a held-out set (all 23 topics, personas from seller to finance, half chat typing), scored once,
#: then its misses were read while fixing the model's off-topic doubt: no longer blind, so it teaches instead
MIXED_SET = REPO / "tests" / "data" / "eval" / "mixed.jsonl"
#: what the learned model (`knowledge.learned`, `cosell-bot train`) is trained on, besides the entries themselves
TRAINING_SETS = (
    OWN_SET,
    LONG_SET,
    THIRD_SET,
    OFFTOPIC_SET,
    TERSE_SET,
    INDIRECT_SET,
    CONTEXT_SET,
    FORUM_SET,
    SCREEN_SET,
    SEARCH_SET,
    REPORTED_SET,
    PASTED_SET,
    YESNO_SET,
    DICTATED_SET,
    NEIGHBOURS_SET,
    MIXED_SET,
)
#: written blind by yet other writers and never trained on: the figures for questions nobody tuned for. The first
#: was measured while the decision constants were chosen (its figures only, never its misses); the others were
#: each scored once, after everything was fixed (heldout5 with the model's off-topic doubt and the neighbours set)
HELDOUT_SET = REPO / "tests" / "data" / "eval" / "heldout.jsonl"
HELDOUT2_SET = REPO / "tests" / "data" / "eval" / "heldout2.jsonl"
HELDOUT3_SET = REPO / "tests" / "data" / "eval" / "heldout3.jsonl"
HELDOUT5_SET = REPO / "tests" / "data" / "eval" / "heldout5.jsonl"
HELDOUT_SETS = (HELDOUT_SET, HELDOUT2_SET, HELDOUT3_SET, HELDOUT5_SET)
SHARED_DEV_SET = REPO.parent / "shared" / "eval" / "dev.jsonl"


class EvalFileError(ValueError):
    """An evaluation file cannot be read or a line does not follow the schema; the message says where."""


_KINDS = frozenset({"match", "none", "ambiguous"})


def load_cases(path: Path) -> list[dict[str, Any]]:
    """The cases of `path`, in order; EvalFileError naming the file and line when one is malformed."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"{path}: cannot read: {exc}") from exc
    cases = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{path}:{number}: not JSON: {exc.msg}") from exc
        if not isinstance(case, dict) or case.get("kind") not in _KINDS or not isinstance(case.get("text"), str):
            raise EvalFileError(f"{path}:{number}: needs kind (match, none or ambiguous) and text")
        if case["kind"] == "match" and not isinstance(case.get("faq"), str):
            raise EvalFileError(f"{path}:{number}: a match case needs faq")
        cases.append(case)
    return cases


def _normalise(text: str) -> str:
    return text.casefold().replace("\u2018", "'").replace("\u2019", "'")


def _rate(values: list[bool] | list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


@dataclass
class Score:
    """Results per kind and language; `misses` lists what failed and `pending` the cases of unknown entries."""

    known: Collection[str] = ()
    top1: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    none_ok: list[bool] = field(default_factory=list)
    ambiguous: list[float] = field(default_factory=list)
    mention: list[bool] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    def add(self, case: dict[str, Any], entry: str | None, alternatives: list[str], answer: str) -> None:
        """Score one case from what the assistant did: the entry answered (or None), the entries offered, the text."""
        named = [case["faq"]] if case["kind"] == "match" else list(case.get("alt") or ())
        if self.known and any(e not in self.known for e in named):
            self.pending.append(f"{case.get('id', '?')} {'/'.join(named)} got {entry} {alternatives}: {case['text']}")
            return
        getattr(self, f"_add_{case['kind']}")(case, entry, alternatives, answer)

    def _add_match(self, case: dict[str, Any], entry: str | None, alternatives: list[str], answer: str) -> None:
        ok = entry == case["faq"]
        self.top1[case["lang"]].append(ok)
        if not ok:
            self.misses.append(f"{case['id']} expected {case['faq']} got {entry} {alternatives}: {case['text']}")
            return
        text = _normalise(answer)
        passed = all(any(form in text for form in group) for group in case.get("must_mention") or ())
        self.mention.append(passed)
        if not passed:
            self.misses.append(f"{case['id']} must_mention: {case['text']}")

    def _add_none(self, case: dict[str, Any], entry: str | None, alternatives: list[str], answer: str) -> None:
        self.none_ok.append(entry is None)
        if entry is not None:
            self.misses.append(f"{case['id']} off-topic answered with {entry}: {case['text']}")

    def _add_ambiguous(self, case: dict[str, Any], entry: str | None, alternatives: list[str], answer: str) -> None:
        alt = set(case.get("alt") or ())
        credit = 1.0 if entry is None and set(alternatives) & alt else 0.5 if entry in alt else 0.0
        self.ambiguous.append(credit)
        if credit < 1:
            self.misses.append(f"{case['id']} ambiguous credit {credit} ({entry} {alternatives}): {case['text']}")

    def figures(self) -> dict[str, float]:
        """Rates: top-1 per language and overall, abstention (`none`), ambiguous credit, must_mention; and counts."""
        out = {f"top1_{lang}": _rate(v) for lang, v in sorted(self.top1.items())}
        out["top1_all"] = _rate([x for v in self.top1.values() for x in v])
        out["none"] = _rate(self.none_ok)
        out["ambiguous"] = _rate(self.ambiguous)
        out["must_mention"] = _rate(self.mention)
        out["cases"] = sum(len(v) for v in self.top1.values()) + len(self.none_ok) + len(self.ambiguous)
        out["pending"] = len(self.pending)
        return out

    def report(self, title: str = "evaluation") -> str:
        """A printable table, the misses and the pending cases."""
        lines = [f"{k:>14}: {v:.3f}" if isinstance(v, float) else f"{k:>14}: {v}" for k, v in self.figures().items()]
        return "\n".join(
            [title, *lines, *("  miss " + m for m in self.misses), *("  pending entry " + p for p in self.pending)]
        )

    def as_json(self) -> dict[str, Any]:
        """The figures, the misses and the pending cases as one JSON-ready object."""
        return {**self.figures(), "misses": self.misses, "pending_cases": self.pending}


async def score_cases(assistant: Assistant, cases: Iterable[dict[str, Any]], *, locale: str = "en-US") -> Score:
    """Ask each case in a fresh conversation (as `ask` does) and score what the assistant did."""
    from bot.local import LocalConversation

    score = Score(known=frozenset(e.id for e in assistant.knowledge.kb.entries))
    for case in cases:
        outcome = await LocalConversation(assistant, locale=locale).say(case["text"])
        m = outcome.match
        entry = m.entry if m and m.kind == "answer" else None
        alternatives = list(m.alternatives) if m and m.kind == "clarify" else []
        score.add(case, entry, alternatives, outcome.text)
    return score
