"""Live-check results in Italian: `CheckResult.text(lang)`, every check's Italian title, and every `finding()` a
check module can return carrying an Italian title and summary (the results themselves are checked in the check
tests' run helpers and over the sandbox scenarios in tests/bot/test_live_italian.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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


def _keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in call.keywords if k.arg is not None}


def _is_empty(value: ast.expr | None) -> bool:
    return value is None or (isinstance(value, ast.Constant) and not value.value)


@pytest.mark.parametrize("path", CHECK_MODULES, ids=[p.name for p in CHECK_MODULES])
def test_every_finding_and_check_in_a_module_passes_italian(path: Path) -> None:
    """Static, so it covers the branches no fake or scenario reaches: each `finding(...)` call passes a
    `summary_it` and a `title_it`, each `Check(...)` a `title_it`."""
    calls = [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Call)]
    for call in calls:
        name = call.func.id if isinstance(call.func, ast.Name) else None
        keywords = _keywords(call)
        where = f"{path.name}:{call.lineno}"
        if name == "finding":
            assert not _is_empty(keywords.get("summary_it")), f"{where}: finding() without summary_it"
            assert not _is_empty(keywords.get("title_it")), f"{where}: finding() without title_it"
        elif name == "Check":
            assert not _is_empty(keywords.get("title_it")), f"{where}: Check() without title_it"
