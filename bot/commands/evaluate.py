"""`cosell-bot eval [PATH ...] [--json] [--loo]`: score the assistant on evaluation files (`bot.evaluation`; by
default the project's own set, the held-out sets and, when it is beside the repository, the shared dev set) and,
with `--loo`, leave-one-phrasing-out cross-validation of the matcher on the knowledge base itself.

`cosell-bot train [--check] [--cv]`: train the learned model (`knowledge.learned`) on the entries and the training
sets and write `knowledge/data/model.tsv`; `--check` only says whether the shipped file is what training gives;
`--cv` prints 5-fold cross-validation figures."""

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
    from bot.evaluation import HELDOUT_SETS, OWN_SET, SHARED_DEV_SET, EvalFileError

    settings = settings_or_exit()
    configure_logging("WARNING")
    paths = args.paths or [p for p in (OWN_SET, *HELDOUT_SETS, SHARED_DEV_SET) if p.exists()]
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


def trained_model(settings: Settings) -> tuple[Any, Any, list[dict[str, Any]]]:
    """The knowledge, the model training on the entries and the training sets gives, and those sets' cases."""
    from bot.evaluation import TRAINING_SETS, load_cases
    from bot.wiring import load_knowledge
    from knowledge import learned
    from knowledge.matcher import reaches_model

    k = load_knowledge(settings, learned=False)
    cases = [c for path in TRAINING_SETS for c in load_cases(path)]
    examples = learned.entry_examples(k.index.lexer, k.index.idf, k.kb, k.index.courtesy)
    entries = len(examples)
    examples += learned.case_examples(
        k.index.lexer, k.index.idf, cases, lambda text: reaches_model(k.index, text, k.thresholds), k.index.courtesy
    )
    counts = {"entry_examples": entries, "case_examples": len(examples) - entries}
    return k, learned.train(examples, trained_on=counts), cases


def cmd_train(args: argparse.Namespace) -> int:
    from knowledge.crossval import k_fold
    from knowledge.learned import MODEL

    settings = settings_or_exit()
    configure_logging("WARNING")
    k, model, cases = trained_model(settings)
    text = model.to_text()
    if args.check:
        same = MODEL.exists() and MODEL.read_text(encoding="utf-8") == text
        print(f"{MODEL.name} is {'up to date' if same else 'out of date: run cosell-bot train'}")
        return 0 if same else 1
    MODEL.write_text(text, encoding="utf-8")
    print(f"wrote {MODEL} ({len(model.weights)} terms, {len(model.classes)} classes, {len(text):,} bytes)")
    if args.cv:
        figures = k_fold(k.index, k.kb, cases, k.thresholds).figures()
        print("5-fold cross-validation", *(f"{name:>14}: {v:.3f}" for name, v in figures.items()), sep="\n")
    return 0


def register(sub: Any) -> None:
    """Add `eval` and `train`."""
    ev = sub.add_parser(
        "eval", help="score the assistant on evaluation files (JSON lines) and cross-validate the matcher"
    )
    ev.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="default: the own set and the shared dev set")
    ev.add_argument("--json", action="store_true", help="one JSON object: figures, misses, pending cases per file")
    ev.add_argument("--loo", action="store_true", help="also leave-one-phrasing-out cross-validation (~20 s)")
    ev.add_argument("--locale", default="en-US", help="the locale of the conversations (language hint)")
    ev.set_defaults(func=cmd_eval)
    tr = sub.add_parser("train", help="train the matcher's learned model on the entries and the training sets")
    tr.add_argument("--check", action="store_true", help="exit 1 when the shipped model is not what training gives")
    tr.add_argument("--cv", action="store_true", help="also 5-fold cross-validation on the training sets (~10 s)")
    tr.set_defaults(func=cmd_train)
