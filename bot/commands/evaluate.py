"""`cosell-bot eval [PATH ...] [--json] [--loo]`: score the assistant on evaluation files (`bot.evaluation`; by
default the project's own set and, when it is beside the repository, the shared dev set) and, with `--loo`,
leave-one-phrasing-out cross-validation of the matcher on the knowledge base itself."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bot.commands.common import locale_tag, settings_or_exit
from bot.log_setup import configure_logging
from bot.settings import Settings


async def _score(settings: Settings, paths: list[Path], locale: str) -> dict[str, Any]:
    from bot.evaluation import load_cases, score_cases
    from bot.wiring import build_assistant

    cases = {path: load_cases(path) for path in paths}  # every file read before the assistant starts
    assistant = build_assistant(settings)
    try:
        return {str(path): await score_cases(assistant, c, locale=locale) for path, c in cases.items()}
    finally:
        await assistant.close()


def _loo(settings: Settings) -> Any:
    from bot.wiring import load_knowledge
    from knowledge.crossval import leave_one_out, user_phrasings
    from knowledge.matcher import kb_docs

    k = load_knowledge(settings)
    return leave_one_out(kb_docs(k.kb), k.kb.lexicon, k.thresholds, held_out=user_phrasings)


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluation import OWN_SET, SHARED_DEV_SET, EvalFileError

    settings = settings_or_exit()
    configure_logging("WARNING")
    paths = args.paths or [p for p in (OWN_SET, SHARED_DEV_SET) if p.exists()]
    try:
        scores = asyncio.run(_score(settings, paths, locale_tag(args.locale)))
    except EvalFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    loo = _loo(settings) if args.loo else None
    if args.json:
        out: dict[str, Any] = {path: score.as_json() for path, score in scores.items()}
        if loo is not None:
            out["loo"] = {**loo.figures(), "misses": loo.misses}
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    for path, score in scores.items():
        print(score.report(path), end="\n\n")
    if loo is not None:
        print("leave-one-phrasing-out", *(f"{k:>16}: {v:.3f}" for k, v in loo.figures().items()), sep="\n")
        print(*("  miss " + m for m in loo.misses), sep="\n")
    return 0


def register(sub: Any) -> None:
    """Add `eval`."""
    ev = sub.add_parser(
        "eval", help="score the assistant on evaluation files (JSON lines) and cross-validate the matcher"
    )
    ev.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="default: the own set and the shared dev set")
    ev.add_argument("--json", action="store_true", help="one JSON object: figures, misses, pending cases per file")
    ev.add_argument("--loo", action="store_true", help="also leave-one-phrasing-out cross-validation (~20 s)")
    ev.add_argument("--locale", default="en-US", help="the locale of the conversations (language hint)")
    ev.set_defaults(func=cmd_eval)
