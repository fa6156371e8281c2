"""The stdlib's `json.loads` and compact `json.dumps`, through orjson where orjson gives the very same result.

A turn reads and writes JSON several times (the POST body, the dialog state, the transcript rows, the reply to the
Bot Connector); orjson does each in a fraction of the time. Its output and its reading differ from the stdlib's in a
few places, so every function here answers exactly what the stdlib would (same value, same text, same exception),
and falls back to the stdlib whenever orjson could differ:

- reading: orjson refuses NaN/Infinity, lone surrogate escapes, a UTF-8 BOM, other encodings and deeper nesting (the
  stdlib then reads it, or raises its own error), and silently reads integers beyond 64 bits as floats (text with a
  run of 19 digits or more is read by the stdlib);
- writing: orjson refuses integers beyond 64 bits, non-str keys, lone surrogates, subclasses of str, int, dict and
  list, datetimes and dataclasses (the stdlib then writes, or refuses, them), writes NaN and Infinity as `null`, and
  formats floats below 1e-4 or from 1e16 differently: output with `null`, a digit before `e-`/`e+` or a `0.0000` run
  is written again by the stdlib; with `ensure_ascii`, so is output that is not plain ASCII or holds DEL (escaped by the
  stdlib, not by orjson).

One difference stays: orjson writes enums, UUIDs and numpy values the stdlib refuses; callers pass plain JSON trees.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# an integer orjson might read beyond 64 bits (as a float): a run of 19 digits, found in bytes with every digit made
# a "0" (translate and find: a tenth of a regex search's time)
_ZEROED = bytes.maketrans(b"123456789", b"000000000")
_RUN = b"0" * 19
_LONG_NUMBER = re.compile(r"[0-9]{19}")
_COMPACT = (",", ":")
_STD_UTF8 = json.JSONEncoder(ensure_ascii=False, separators=_COMPACT)
_STD_ASCII = json.JSONEncoder(separators=_COMPACT)


def loads(data: str | bytes | bytearray) -> Any:
    """`json.loads(data)`: the same value, or the same exception."""
    long_number = _LONG_NUMBER.search(data) if isinstance(data, str) else _RUN in data.translate(_ZEROED)
    if not long_number:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


def _orjson(value: Any) -> bytes | None:
    """orjson's compact UTF-8 JSON of `value`, or None when it could differ from the stdlib's."""
    try:
        out = orjson.dumps(value, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError included
        return None
    return None if _may_differ(out) else out


def _may_differ(out: bytes) -> bool:
    """True when orjson's `out` may hold NaN or Infinity (as null) or a float it formats unlike `float.__repr__`:
    one below 1e-4 in plain notation (`0.0000…`), or any in exponent notation (orjson writes a lowercase `e` and a
    sign). `bytes.find` rather than one regex: a search with alternatives costs ~30 µs on a 3 KB answer."""
    if b"null" in out or b"0.0000" in out:
        return True
    for mark in (b"e-", b"e+"):
        at = out.find(mark)
        while at > 0:
            if 48 <= out[at - 1] <= 57:  # a digit before the exponent
                return True
            at = out.find(mark, at + 2)
    return False


def dumps_utf8(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, separators=(",", ":"))`."""
    out = _orjson(value)
    return out.decode() if out is not None else _STD_UTF8.encode(value)


def dumps_body(value: Any) -> bytes:
    """An HTTP body of `value`: `dumps_utf8(value)` in UTF-8 when orjson writes it, else `json.dumps(value)` as
    before (ASCII, spaced; a lone surrogate is escaped, not refused). Either is the same JSON value."""
    out = _orjson(value)
    return out if out is not None else json.dumps(value).encode()


def dumps_ascii(value: Any) -> str:
    """`json.dumps(value, separators=(",", ":"))`: non-ASCII characters escaped."""
    out = _orjson(value)
    if out is not None and out.isascii() and b"\x7f" not in out:
        return out.decode("ascii")
    return _STD_ASCII.encode(value)
