"""The checks' shared helpers (tenant/checks/common.py): `Say` words a finding from the data in both languages,
and the catalog pairs every declared check with exactly one registered run function."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from knowledge.check_specs import CheckBook, CheckSpec, load_checks
from knowledge.messages import Message, MessageError, fields, phrase
from knowledge.models import Area
from tenant.base import CheckContext, CheckResult, Fix, Status, System
from tenant.checks.catalog import all_checks
from tenant.checks.common import CatalogError, Say, build_checks, check, registered

SHARED = {"use-code": Message(en=" (use {code})", it=" (usare {code})")}
SPEC = CheckSpec(
    id="demo-check",
    area=Area.configuration,
    title=Message(en="Demo", it="Prova"),
    systems=("dataverse", "power_automate"),
    needs=("dataverse",),
    entries=("cfg-add-connections",),
    estimated_calls=2,
    messages={
        "calls": Message(en="{n:,} calls{hint}.", it="{n:,} chiamate{hint}."),
        "problems": Message(en="Found: {problems:join:; }.", it="Trovato: {problems:join:; }."),
        "no-country": Message(en="no country", it="nessun paese"),
    },
)
BOOK = CheckBook((SPEC,), SHARED)


async def _run(ctx: CheckContext, say: Say) -> CheckResult:
    return say("calls", Status.warn, n=int(ctx.inputs["n"]), hint="", entries=("cfg-add-connections",) * 2)


def test_say_words_a_finding_in_both_languages_with_the_checks_title_and_first_system() -> None:
    say = Say(SPEC, BOOK)
    result = say(
        "calls",
        Status.fail,
        n=12000,
        hint=phrase("use-code", code="IT"),
        evidence={"n": 12000},
        entries=["cfg-add-connections", "cfg-signin-error", "cfg-add-connections"],
        fix=Fix(entry="cfg-signin-error"),
    )

    assert (result.id, result.title, result.title_it, result.system) == (
        "demo-check",
        "Demo",
        "Prova",
        System.dataverse,
    )
    assert (result.summary, result.summary_it) == ("12,000 calls (use IT).", "12.000 chiamate (usare IT).")
    assert result.entries == ("cfg-add-connections", "cfg-signin-error")  # in order, without duplicates
    assert result.evidence == {"n": 12000} and result.fix == Fix(entry="cfg-signin-error")
    other = say("calls", Status.passed, system=System.power_automate, n=1, hint="")
    assert other.system is System.power_automate and other.evidence == {} and other.entries == ()


def test_say_renders_phrases_for_the_evidence_and_names_the_check_when_words_are_missing() -> None:
    say = Say(SPEC, BOOK)
    assert say.text(phrase("no-country")) == "no country"
    assert say.text(phrase("no-country"), "it") == "nessun paese"
    assert say("problems", Status.fail, problems=[phrase("no-country")]).summary_it == "Trovato: nessun paese."

    with pytest.raises(MessageError, match="check demo-check: unknown message 'nowhere'"):
        say("nowhere", Status.fail)
    with pytest.raises(MessageError, match="check demo-check, message calls: no value given for {n}"):
        say("calls", Status.fail, hint="")
    with pytest.raises(MessageError, match="check demo-check, message problems: unknown message 'gone'"):
        say("problems", Status.fail, problems=[phrase("gone")])


async def test_build_checks_binds_each_declaration_to_its_run_function() -> None:
    [built] = build_checks(BOOK, {"demo-check": _run})

    assert (built.id, built.title, built.title_it, built.area) == ("demo-check", "Demo", "Prova", "configuration")
    assert built.systems == (System.dataverse, System.power_automate)
    assert (built.needs, built.entries, built.estimated_calls) == (("dataverse",), ("cfg-add-connections",), 2)
    result = await built.run(SimpleNamespace(clients={}, inputs={"n": "1234"}))
    assert (result.summary, result.summary_it, result.entries) == ("1,234 calls.", "1.234 chiamate.", built.entries)


def test_a_declaration_without_run_function_or_a_run_function_without_declaration_is_refused() -> None:
    with pytest.raises(CatalogError, match=r"without a run function: \['demo-check'\]"):
        build_checks(BOOK, {})
    with pytest.raises(CatalogError, match=r"does not declare: \['stray-check'\]"):
        build_checks(BOOK, {"demo-check": _run, "stray-check": _run})
    unknown = SPEC.model_copy(update={"systems": ("dataverse", "sharepoint")})
    with pytest.raises(CatalogError, match="check demo-check: 'sharepoint' is not a valid System"):
        build_checks(CheckBook((unknown,), SHARED), {"demo-check": _run})


def test_a_second_run_function_for_a_check_is_refused() -> None:
    taken = next(iter(registered()))
    with pytest.raises(CatalogError, match=f"check {taken} has two run functions"):
        check(taken)(_run)


def test_the_catalog_runs_every_declared_check_with_the_function_its_module_registers() -> None:
    checks = all_checks()
    runs = registered()
    assert [c.id for c in checks] == list(dict.fromkeys(c.id for c in checks))
    assert {c.id for c in checks} == set(runs)
    assert all(c.run.__qualname__ == runs[c.id].__qualname__ for c in checks)


def _literals() -> tuple[set[str], set[str]]:
    """The string literals of tenant/, and the literal beginnings of its f-strings (f"refused-{status}")."""
    strings: set[str] = set()
    prefixes: set[str] = set()
    for path in (Path(__file__).parents[2] / "tenant").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                prefixes.add(str(node.values[0].value))
    return strings, prefixes


def test_every_declared_message_is_used_and_none_names_a_parameter_say_keeps_for_itself() -> None:
    """No dead words in the data (a message is named by a literal key, or by an f-string key's literal beginning:
    `refused-<status>`), and no check's message has a parameter that `say(...)` takes as a finding's field (the
    shared ones are rendered by `said(...)` or as phrases, whose parameters are their own)."""
    checks = load_checks()
    strings, prefixes = _literals()
    declared = [*checks.messages, *(key for spec in checks.checks for key in spec.messages)]
    unused = [key for key in declared if key not in strings and not any(key.startswith(p) for p in prefixes if p)]
    assert unused == []
    reserved = {"key", "status", "system", "evidence", "entries", "fix"}
    messages = [message for spec in checks.checks for message in spec.messages.values()]
    assert [m.en for m in messages if fields(m.en) & reserved] == []
