"""Score ../shared/eval/dev.jsonl through the same in-process path as `cosell-bot ask --json`; print the figures."""

from __future__ import annotations

from bot.local import LocalConversation
from bot.wiring import build_assistant
from tests.devset import Score, load_cases


async def test_dev_set_score(settings, knowledge, capsys) -> None:
    assistant = build_assistant(settings, knowledge=knowledge)
    score = Score()
    try:
        for case in load_cases():
            outcome = await LocalConversation(assistant, locale="en-US").say(case["text"])
            m = outcome.match
            entry = m.entry if m and m.kind == "answer" else None
            alternatives = list(m.alternatives) if m and m.kind == "clarify" else []
            score.add(case, entry, alternatives, outcome.text)
    finally:
        await assistant.close()
    with capsys.disabled():
        print("\n" + score.report())
    figures = score.figures()
    assert figures["top1_en"] >= 0.95 and figures["top1_it"] >= 0.95, score.report()
    assert figures["none"] == 1.0, score.report()
    assert figures["ambiguous"] >= 0.5, score.report()
    assert figures["must_mention"] >= 0.95, score.report()
