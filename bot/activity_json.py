"""`serialize(model)`: what msrest's `Model.serialize()` returns for Bot Framework schema models, faster.

msrest walks every attribute through a generic, kwargs-heavy dispatcher, and `Model.serialize` first rebuilds a
dict of every class in the model's package: about a third of a millisecond for a reply with a card, and a turn
serialises two activities. Here each class gets a plan (attribute, JSON key, converter) built once from its
`_attribute_map`, and the conversions are msrest's own for the shapes activities are made of.

The fast path covers plain JSON values, str enums, aware datetimes and nested models; anything else it gives to
msrest whole (a fast-path attempt has no side effects), so the result, or the exception, is always msrest's.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable
from enum import Enum
from typing import Any

from msrest.serialization import Model, Serializer

_SCHEMA_MODULES = ("botbuilder.schema", "botbuilder.schema.teams")
_Convert = Callable[[Any], Any]
_Plan = tuple[tuple[str, str, _Convert], ...]


class _Fallback(Exception):
    """The value is outside the fast path: let msrest serialise the whole model."""


def _schema_names() -> tuple[frozenset[type], frozenset[str]]:
    """Schema model classes the fast path may start from, and the enum names msrest could dispatch on."""
    __import__("botbuilder.schema.teams")
    classes: set[type] = set()
    enums: set[str] = set()
    for name in _SCHEMA_MODULES:
        for key, value in vars(sys.modules[name]).items():
            if isinstance(value, type) and issubclass(value, Model):
                classes.add(value)
            elif isinstance(value, type) and issubclass(value, Enum):
                enums.add(key)
    return frozenset(classes), frozenset(enums)


_ROOTS, _ENUM_NAMES = _schema_names()
_PLANS: dict[type, _Plan] = {}
_MSREST_SERIALIZE = Model.serialize


def serialize(model: Model) -> dict[str, Any]:
    """`model.serialize()`, same dict (same key order), same exceptions."""
    cls = type(model)
    if cls in _ROOTS and cls.serialize is _MSREST_SERIALIZE:  # a class with its own serialize() keeps it
        try:
            return _model(model)
        except Exception:  # _Fallback, or an error that msrest raises below in its own (wrapped) form
            pass
    result: dict[str, Any] = model.serialize()
    return result


def _model(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, Model):
        raise _Fallback
    cls = type(obj)
    plan = _PLANS.get(cls, ())
    if not plan:
        plan = _PLANS[cls] = _plan(cls)
    out: dict[str, Any] = {}
    for attr, key, convert in plan:
        value = getattr(obj, attr)
        if value is not None:
            out[key] = convert(value)
    return out


def _plan(cls: type) -> _Plan:
    if getattr(cls, "_xml_map", None) or getattr(cls, "_subtype_map", None):
        raise _Fallback
    plan = []
    for attr, desc in cls._attribute_map.items():  # type: ignore[attr-defined]
        key = desc["key"]
        readonly = cls._validation.get(attr, {}).get("readonly", False)  # type: ignore[attr-defined]
        # flattened ("a.b") or additional-properties ("") keys, readonly fields: msrest's job
        if readonly or not key or "." in key or attr == "additional_properties":
            raise _Fallback
        plan.append((attr, key, _converter(desc["type"])))
    if len({key for _, key, _ in plan}) != len(plan):
        raise _Fallback
    return tuple(plan)


def _converter(data_type: str) -> _Convert:
    simple = _SIMPLE.get(data_type)
    if simple is not None:
        return simple
    if data_type.startswith("[") and data_type.endswith("]"):
        return _list_of(_converter(data_type[1:-1]))
    if data_type.startswith("{") and data_type.endswith("}"):
        return _dict_of(_converter(data_type[1:-1]))
    if data_type in _ENUM_NAMES or not data_type.isidentifier():
        return _unsupported
    return _model  # a model class name: msrest serialises whatever model is there by its own class


def _unsupported(_: Any) -> Any:
    raise _Fallback


def _str(value: Any) -> Any:
    if type(value) is str:
        return value
    try:  # Serializer.serialize_unicode: an enum's value, else str()
        return value.value
    except AttributeError:
        return str(value)


def _iso(value: Any) -> str:
    if type(value) is not datetime.datetime or value.tzinfo is None:  # naive ones make msrest log a warning
        raise _Fallback
    result: str = Serializer.serialize_iso(value)
    return result


def _list_of(convert: _Convert) -> _Convert:
    def convert_list(value: Any) -> list[Any]:
        if type(value) is not list:
            raise _Fallback
        return [None if item is None else convert(item) for item in value]

    return convert_list


def _dict_of(convert: _Convert) -> _Convert:
    def convert_dict(value: Any) -> dict[str, Any]:
        if type(value) is not dict:
            raise _Fallback
        return {_key(k): None if v is None else convert(v) for k, v in value.items()}

    return convert_dict


def _key(key: Any) -> str:
    if type(key) is not str:
        raise _Fallback
    return key


_ATOMS = frozenset({str, int, bool, float})


def _object(value: Any) -> Any:
    """Serializer.serialize_object for JSON-shaped values and models."""
    kind = type(value)
    if kind in _ATOMS or value is None:
        return value
    if kind is dict:
        return {_key(k): _object(v) for k, v in value.items()}
    if kind is list:
        return [_object(v) for v in value]
    if isinstance(value, Model) and not isinstance(value, Enum):
        return _model(value)
    raise _Fallback  # datetimes, enums, tuples, other objects: msrest has a rule for each


_SIMPLE: dict[str, _Convert] = {
    "str": _str,
    "bool": bool,
    "int": int,
    "float": float,
    "iso-8601": _iso,
    "object": _object,
}
