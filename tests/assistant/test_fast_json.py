"""`assistant.fast_json`: the stdlib's answer for every value and text, whichever library produced it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import fast_json

_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)  # surrogates and controls too
_FLOATS = st.floats(allow_nan=True, allow_infinity=True)
_ATOMS = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | _FLOATS | _TEXT
_VALUES = st.recursive(
    _ATOMS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


def _std(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as exc:
        return "error", type(exc)


def _same(a: Any, b: Any) -> bool:
    """Equal results, NaN equal to NaN and -0.0 told from 0.0 (the texts are compared as well)."""
    return json.dumps(a, sort_keys=False) == json.dumps(b, sort_keys=False) and type(a) is type(b)


@settings(max_examples=400, deadline=None)
@given(_VALUES)
def test_dumps_as_the_stdlib(value: Any) -> None:
    assert _std(lambda: fast_json.dumps_utf8(value)) == _std(
        lambda: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    )
    assert _std(lambda: fast_json.dumps_ascii(value)) == _std(lambda: json.dumps(value, separators=(",", ":")))
    body = _std(lambda: fast_json.dumps_body(value))
    old = _std(lambda: json.dumps(value).encode())
    assert body[0] == old[0]
    if body[0] == "ok":
        assert _same(json.loads(body[1]), json.loads(old[1]))


@settings(max_examples=400, deadline=None)
@given(_VALUES)
def test_loads_as_the_stdlib(value: Any) -> None:
    for text in {json.dumps(value), json.dumps(value, ensure_ascii=False)}:
        for data in (text, text.encode("utf-8", "surrogatepass")):
            got, want = _std(lambda d=data: fast_json.loads(d)), _std(lambda d=data: json.loads(d))
            assert got[0] == want[0]
            assert _same(got[1], want[1]) if got[0] == "ok" else got[1] == want[1]


@pytest.mark.parametrize(
    "text",
    [b'{"a": 18446744073709551616}', b'{"a": -9223372036854775809}', b"[1E400, -1e400]", b"NaN", b"[Infinity]",
     b'"\\ud800"', b"\xef\xbb\xbf{}", b"[" * 2000 + b"]" * 2000, b'{"a":1,"a":2}', b"", b"\xff", b"1.5e-7",
     b'"\x00"', "[1]".encode("utf-16")],
)  # fmt: skip
def test_loads_edge_cases(text: bytes) -> None:
    got, want = _std(lambda: fast_json.loads(text)), _std(lambda: json.loads(text))
    assert got[0] == want[0]
    assert _same(got[1], want[1]) if got[0] == "ok" else got[1] == want[1]


@pytest.mark.parametrize(
    "value",
    [2**64, -(2**63) - 1, math.nan, [math.inf], 1e-5, 1e16, 5e-324, {1: "a"}, {"é": "\x7f\x00\u2028"}, "\ud800",
     "😀", [(1, 2)], {"a": True}],
)  # fmt: skip
def test_dumps_edge_cases(value: Any) -> None:
    assert fast_json.dumps_ascii(value) == json.dumps(value, separators=(",", ":"))
    utf8 = _std(lambda: fast_json.dumps_utf8(value))
    assert utf8 == _std(lambda: json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def test_subclasses_and_unsupported_types_as_the_stdlib() -> None:
    import datetime
    import enum

    class Kind(enum.StrEnum):
        MESSAGE = "message"

    assert fast_json.dumps_ascii({"type": Kind.MESSAGE}) == json.dumps({"type": Kind.MESSAGE}, separators=(",", ":"))
    with pytest.raises(TypeError):
        fast_json.dumps_utf8({"at": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)})
