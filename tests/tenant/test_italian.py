"""Live-check results in Italian: `CheckResult.text(lang)`, every check's Italian title, and every finding a check
module can return worded by data that carries an Italian title and summary (the results themselves are checked in
the check tests' run helpers and over the sandbox scenarios in tests/bot/test_live_italian.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from knowledge.check_specs import load_checks
from tenant.base import CheckResult, Status, System
from tenant.checks.catalog import all_checks

CHECK_MODULES = sorted(
    p for p in (Path(__file__).parents[2] / "tenant" / "checks").glob("*.py") if p.stem not in ("__init__", "catalog")
)
assert CHECK_MODULES, "no check modules found: the test would pass by testing nothing"


def _result(**italian: str) -> CheckResult:
    return CheckResult(id="x", title="Title", system=System.graph, status=Status.passed, summary="Summary", **italian)


def test_text_gives_italian_in_italian_and_english_otherwise() -> None:
    result = _result(title_it="Titolo", summary_it="Riepilogo")
    assert result.text("it") == ("Titolo", "Riepilogo")
    assert result.text("en") == ("Title", "Summary")


def test_text_falls_back_to_english_where_the_italian_is_missing() -> None:
    assert _result().text("it") == ("Title", "Summary")
    assert _result(summary_it="Riepilogo").text("it") == ("Title", "Riepilogo")
    assert _result(title_it="Titolo").text("it") == ("Titolo", "Summary")


def test_every_check_declares_an_italian_title() -> None:
    for check in all_checks():
        assert check.title_it and check.title_it != check.title, check.id


def _key(call: ast.Call) -> str | None:
    """The message key a `say(...)`, `phrase(...)` or `said(...)` call names literally."""
    first = call.args[0] if call.args else None
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def _called(node: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name]


def _registered(tree: ast.Module) -> dict[ast.AsyncFunctionDef, str]:
    """Run functions and the check id each registers with `@check("<id>")`."""
    found: dict[ast.AsyncFunctionDef, str] = {}
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name):
                    if decorator.func.id == "check" and (check_id := _key(decorator)):
                        found[node] = check_id
    return found


@pytest.mark.parametrize("path", CHECK_MODULES, ids=[p.name for p in CHECK_MODULES])
def test_every_finding_a_module_can_return_is_worded_in_both_languages(path: Path) -> None:
    """Static, so it covers the branches no fake or scenario reaches: each `say("<key>", ...)` of a run function
    names a message of its check, each `phrase("<key>")` one of the module's checks or a shared one, each
    `said("<key>")` a shared one, and every such message has its Italian (knowledge/data/checks); no module writes
    a `*_it=` text of its own."""
    book = load_checks()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    runs = _registered(tree)
    words = {key: message for check_id in runs.values() for key, message in book.get(check_id).messages.items()}
    for run, check_id in runs.items():
        own = {**book.messages, **book.get(check_id).messages}
        for call in _called(run, "say"):
            assert _key(call) in own, f"{path.name}:{call.lineno}: say() names no message of {check_id}"
    for name, table in (("phrase", {**book.messages, **words}), ("said", book.messages)):
        for call in _called(tree, name):  # a key computed at run time is checked where it is rendered
            if (key := _key(call)) is not None:
                assert key in table, f"{path.name}:{call.lineno}: {name}() names no message {key!r}"
    for key in {_key(call) for call in _called(tree, "say") + _called(tree, "phrase") + _called(tree, "said")} - {None}:
        message = {**book.messages, **words}[str(key)]
        assert message.en.strip() and message.it.strip(), f"{path.name}: {key} has no Italian"
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and (node.arg or "").endswith("_it"):
            assert not isinstance(node.value, ast.Constant | ast.JoinedStr), f"{path.name}: {node.arg}= literal"
