"""The message templates: per-language numbers, plurals, fallbacks, lists, phrases, and templates refused when
their languages name different parameters or use a form the renderer does not know."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from knowledge.messages import Bilingual, Message, MessageError, fields, phrase, render, render_both

TABLE = {
    "use-code": Message(en=" (use {code})", it=" (usare {code})"),
    "won": Message(en="Won", it="vinta"),
    "closed": Message(en="closed as {outcome}", it="chiusa come {outcome}"),
}


def _say(en: str, it: str, **params: Any) -> Bilingual:
    return render_both(Message(en=en, it=it), params, TABLE.__getitem__)


def test_grouped_numbers_follow_the_language_and_other_specs_do_not() -> None:
    assert _say("{n:,} calls", "{n:,} chiamate", n=10_000) == ("10,000 calls", "10.000 chiamate")
    assert _say("{x:,.1f}", "{x:,.1f}", x=1234.5) == ("1,234.5", "1.234,5")
    # as the texts always were: decimals, percentages and plain numbers are written alike in both languages
    assert _say("{gb:.1f} GB {share:.0%} {n}", "{gb:.1f} GB {share:.0%} {n}", gb=1.25, share=0.854, n=12345) == (
        "1.2 GB 85% 12345",
        "1.2 GB 85% 12345",
    )
    assert _say("after {s:g} s", "entro {s:g} s", s=0.5) == ("after 0.5 s", "entro 0.5 s")


@pytest.mark.parametrize(("count", "expected"), [(0, "0 flussi"), (1, "1 flusso"), (2, "2 flussi")])
def test_plural_picks_the_form_for_a_count(count: object, expected: str) -> None:
    text = render(Message(en="{n} flows", it="{n} {n:plural:flusso|flussi}"), "it", {"n": count}, TABLE.__getitem__)
    assert text == expected


def test_plural_with_three_forms_has_a_zero_and_counts_a_list() -> None:
    zero_one_other = Message(en="{n}", it="{n:plural:nessuno|uno|molti}")
    words = [render(zero_one_other, "it", {"n": n}, TABLE.__getitem__) for n in (0, 1, 2)]
    assert words == ["nessuno", "uno", "molti"]
    roles = Message(en="has {roles}", it="ha {roles:plural:il ruolo|i ruoli} {roles}")
    assert render(roles, "it", {"roles": ["A"]}, TABLE.__getitem__) == "ha il ruolo A"
    assert render(roles, "it", {"roles": ["A", "B"]}, TABLE.__getitem__) == "ha i ruoli A, B"


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "none"), ("", "none"), ([], "none"), ([""], "none"), ("EUR", "EUR")]
)
def test_or_gives_the_fallback_for_what_comes_out_empty(value: object, expected: str) -> None:
    assert _say("found: {x:or:none}", "trovati: {x:or:nessuno}", x=value).en == f"found: {expected}"


def test_lists_join_with_commas_or_the_given_separator_and_u_upper_cases_the_first_letter() -> None:
    assert _say("{names}.", "{names}.", names=["a", "b"]) == ("a, b.", "a, b.")
    problems = [phrase("closed", outcome=phrase("won")), "no currency"]
    assert _say("{p!u:join:; }.", "{p!u:join:; }.", p=problems) == (
        "Closed as Won; no currency.",
        "Chiusa come vinta; no currency.",
    )
    assert _say("country {c!r}", "paese {c!r}", c="Italia").it == "paese 'Italia'"


def test_a_phrase_is_rendered_in_the_language_of_its_message() -> None:
    hint = phrase("use-code", code="IT")
    assert _say("bad{hint}", "errato{hint}", hint=hint) == ("bad (use IT)", "errato (usare IT)")
    assert _say("bad{hint}", "errato{hint}", hint="") == ("bad", "errato")


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({}, "no value given for {n}"),
        ({"n": phrase("nowhere")}, "unknown message 'nowhere'"),
        ({"n": "text"}, "plural needs a count or a list, not str"),
    ],
)
def test_what_cannot_be_rendered_says_why(params: dict[str, Any], says: str) -> None:
    with pytest.raises(MessageError, match=says.replace("{", r"\{").replace("}", r"\}")):
        _say("{n} {n:plural:a|b}", "{n} {n:plural:a|b}", **params)


@pytest.mark.parametrize(
    ("en", "it", "says"),
    [
        ("{a} and {b}", "{a}", r"different parameters: en \['a', 'b'\], it \['a'\]"),
        ("{a", "{a}", "expected '}'"),
        ("{a:plural:x|y|z|w}", "{a}", "plural needs 2 or 3 forms"),
        ("{a.b}", "{a.b}", "not a plain parameter name"),
        ("{a!x}", "{a}", "unknown conversion"),
        ("{a:{w}}", "{a:{w}}", "nested fields"),
        ("", "vuoto", "at least 1 character"),
    ],
)
def test_a_template_the_renderer_cannot_take_is_refused(en: str, it: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Message(en=en, it=it)


def test_fields_names_each_parameter_once() -> None:
    assert fields("{n} {n:plural:a|b} {x!r} {{literal}}") == {"n", "x"}
