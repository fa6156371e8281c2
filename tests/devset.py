"""Score the assistant on ../shared/eval/dev.jsonl exactly as ../shared/eval/README.md describes."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"


def load_cases(path: Path = DEV_SET) -> list[dict[str, Any]]:
    """The dev cases, in order."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _normalise(text: str) -> str:
    return text.casefold().replace("\u2018", "'").replace("\u2019", "'")


@dataclass
class Score:
    """Per-kind results; `misses` lists the cases that failed, for the printout."""

    top1: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    none_ok: list[bool] = field(default_factory=list)
    ambiguous: list[float] = field(default_factory=list)
    mention: list[bool] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def add(self, case: dict[str, Any], entry: str | None, alternatives: list[str], answer: str) -> None:
        kind = case["kind"]
        if kind == "match":
            ok = entry == case["faq"]
            self.top1[case["lang"]].append(ok)
            if ok:
                text = _normalise(answer)
                passed = all(any(form in text for form in group) for group in case["must_mention"])
                self.mention.append(passed)
                if not passed:
                    self.misses.append(f"{case['id']} must_mention: {case['text']}")
            else:
                self.misses.append(f"{case['id']} expected {case['faq']} got {entry} {alternatives}: {case['text']}")
        elif kind == "none":
            ok = entry is None
            self.none_ok.append(ok)
            if not ok:
                self.misses.append(f"{case['id']} off-topic answered with {entry}: {case['text']}")
        else:
            if entry is None and set(alternatives) & set(case["alt"]):
                credit = 1.0
            elif entry in case["alt"]:
                credit = 0.5
            else:
                credit = 0.0
            self.ambiguous.append(credit)
            if credit < 1:
                self.misses.append(f"{case['id']} ambiguous credit {credit} ({entry} {alternatives}): {case['text']}")

    @staticmethod
    def _rate(values: list[bool] | list[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    def figures(self) -> dict[str, float]:
        """Rates per language and kind."""
        out = {f"top1_{lang}": self._rate(v) for lang, v in sorted(self.top1.items())}
        out["top1_all"] = self._rate([x for v in self.top1.values() for x in v])
        out["none"] = self._rate(self.none_ok)
        out["ambiguous"] = self._rate(self.ambiguous)
        out["must_mention"] = self._rate(self.mention)
        return out

    def report(self) -> str:
        """A printable table plus the misses."""
        lines = [f"{k:>14}: {v:.3f}" for k, v in self.figures().items()]
        return "\n".join(["dev-set score", *lines, *("  miss " + m for m in self.misses)])
