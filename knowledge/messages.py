"""Bilingual message templates (`{en, it}`) and how they are rendered: the words of the live checks.

A template is a `str.format` string whose fields name parameters: "{environment} has a Dataverse database.".
The English and the Italian template of a message name the same parameters (checked when a `Message` is built).
Beyond the standard format specs (`.1f`, `.0%`, `g`, ...), which give the same text in both languages, the
renderer knows:

- `{n:,}`: thousands grouped, "10,000" in English and "10.000" in Italian (for a number formatted with a `,`
  spec, Italian swaps the two separators);
- `{n:plural:one|other}` and `{n:plural:zero|one|other}`: the form for the count `n` (for a list, its length):
  "{n} {n:plural:flusso|flussi}";
- `{x:or:fallback}`: `x`, or `fallback` when `x` is None or comes out empty: "roles found: {roles:or:none}";
- a list: its items joined with ", ", or with the separator of `{items:join:; }`;
- `{x!u}`: the text with its first letter upper-cased;
- a parameter whose value is a `Phrase` (`phrase("use-code", code="IT")`) is another message of the same table,
  rendered in the same language with its own parameters: optional clauses and lists of findings are phrases.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from knowledge.models import Lang

_KINDS = ("plural:", "or:", "join:")
_IT_NUMBER = str.maketrans({",": ".", ".": ","})


class MessageError(ValueError):
    """A template that cannot be rendered: unknown message, missing parameter, bad spec."""


@dataclass(frozen=True)
class Phrase:
    """A message used as a parameter of another: its key and its own parameters."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


def phrase(key: str, **params: Any) -> Phrase:
    """The message `key` with `params`, to be rendered inside another message in that message's language."""
    return Phrase(key, params)


class Bilingual(NamedTuple):
    """One rendered text in English and Italian."""

    en: str
    it: str


def fields(template: str) -> frozenset[str]:
    """The parameter names a template uses; ValueError when it is not a valid template of this format."""
    names: set[str] = set()
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier():
            raise ValueError(f"field {{{name}}} is not a plain parameter name")
        if conversion not in (None, "r", "s", "u"):
            raise ValueError(f"field {{{name}}}: unknown conversion !{conversion}")
        if spec and "{" in spec:
            raise ValueError(f"field {{{name}}}: nested fields in a format spec are not supported")
        if spec and spec.startswith("plural:") and spec.count("|") not in (1, 2):
            raise ValueError(f"field {{{name}}}: plural needs 2 or 3 forms (one|other or zero|one|other)")
        names.add(name)
    return frozenset(names)


class Message(BaseModel):
    """A text in English and Italian; both templates name the same parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    en: str = Field(min_length=1)
    it: str = Field(min_length=1)

    @model_validator(mode="after")
    def _same_fields(self) -> Message:
        en, it = fields(self.en), fields(self.it)
        if en != it:
            raise ValueError(f"the languages name different parameters: en {sorted(en)}, it {sorted(it)}")
        return self

    def template(self, lang: Lang) -> str:
        """The template in `lang`."""
        return self.en if lang == "en" else self.it


Lookup = Callable[[str], Message]


class _Upper:
    """A value marked by `!u`: formatted as usual, then its first letter upper-cased."""

    def __init__(self, value: object) -> None:
        self.value = value


class _Formatter(string.Formatter):
    def __init__(self, lang: Lang, lookup: Lookup) -> None:
        self.lang = lang
        self.lookup = lookup

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        try:
            return kwargs[str(key)]
        except KeyError:
            raise MessageError(f"no value given for {{{key}}}") from None

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        return _Upper(value) if conversion == "u" else super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, _Upper):
            text = self.format_field(value.value, format_spec)
            return text[:1].upper() + text[1:]
        kind = next((k for k in _KINDS if format_spec.startswith(k)), None)
        arg = format_spec[len(kind) :] if kind else ""
        if kind == "plural:":
            return _plural(value, arg.split("|"))
        if kind == "or:":
            return (self.format_field(value, "") if value is not None else "") or arg
        if isinstance(value, list | tuple):
            return (arg if kind == "join:" else ", ").join(self.format_field(item, "") for item in value)
        if kind == "join:":
            raise MessageError(f"join given a {type(value).__name__}, not a list")
        if isinstance(value, Phrase):
            return render(self.lookup(value.key), self.lang, value.params, self.lookup)
        text = format(value, format_spec)
        if self.lang == "it" and "," in format_spec and isinstance(value, int | float) and not isinstance(value, bool):
            return text.translate(_IT_NUMBER)
        return text


def _plural(value: object, forms: list[str]) -> str:
    count = len(value) if isinstance(value, list | tuple) else value
    if not isinstance(count, int) or isinstance(count, bool):
        raise MessageError(f"plural needs a count or a list, not {type(value).__name__}")
    if len(forms) == 3:
        return forms[0] if count == 0 else forms[1] if count == 1 else forms[2]
    return forms[0] if count == 1 else forms[1]


def render(message: Message, lang: Lang, params: Mapping[str, Any], lookup: Lookup) -> str:
    """`message` in `lang` with `params`; phrases among them are looked up with `lookup` (a KeyError there, a
    missing parameter or a value a spec cannot take raise MessageError)."""
    try:
        return _Formatter(lang, lookup).vformat(message.template(lang), (), params)
    except KeyError as exc:
        raise MessageError(f"unknown message {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, MessageError):
            raise
        raise MessageError(f"cannot render {message.template(lang)!r}: {exc}") from exc


def render_both(message: Message, params: Mapping[str, Any], lookup: Lookup) -> Bilingual:
    """`message` with `params` in English and in Italian."""
    return Bilingual(render(message, "en", params, lookup), render(message, "it", params, lookup))
