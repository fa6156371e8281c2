"""`serialize(model)` and `deserialize(cls, data)`: what msrest's `Model.serialize()` and `Model.deserialize()`
return for Bot Framework schema models, faster.

msrest walks every attribute through a generic, kwargs-heavy dispatcher, and `Model.serialize` / `Model.deserialize`
first rebuild a dict of every class in the model's package: about a third of a millisecond for a reply with a card, a
fifth for an inbound message, and a turn reads one activity and serialises two. Here each class gets a plan
(attribute, JSON key, converter) built once from its `_attribute_map`, and the conversions are msrest's own for the
shapes activities are made of.

The fast paths cover plain JSON values, str enums (serialising), ISO-8601 datetimes and nested models; anything else
they give to msrest whole (a fast-path attempt has no side effects), so the result, or the exception, is always
msrest's.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from collections.abc import Callable
from enum import Enum
from functools import partial
from typing import Any, TypeVar

from msrest.serialization import Deserializer, Model, Serializer

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


# Deserialising: `deserialize(cls, data)` for `cls.deserialize(data)`.

M = TypeVar("M", bound=Model)
_Field = tuple[str, _Convert | None]  # attribute, converter of a non-null value (None: a "str" field, inlined)
_ReadPlan = tuple[dict[str, Any], dict[Any, _Field], frozenset[str]]  # kwargs template, JSON key -> field, keys
_MSREST_DESERIALIZE = vars(Model)["deserialize"].__func__
_MSREST_CLASSIFY = vars(Model)["_classify"].__func__


def deserialize(cls: type[M], data: Any) -> M:
    """`cls.deserialize(data)`: an equal model of the same classes, or msrest's exception (and None for None)."""
    if type(data) is dict and cls in _ROOTS and getattr(cls.deserialize, "__func__", None) is _MSREST_DESERIALIZE:
        try:
            reader = _reader(cls)
            return reader.model(reader.root, data)
        except Exception:  # _Fallback, or an error that msrest raises below in its own (wrapped) form
            pass
    result: M = cls.deserialize(data)
    return result


class _Reader:
    """What one `Deserializer(root._infer_class_models())` does with JSON dicts, with a plan per class.

    msrest resolves every nested type name through the classes of the root model's package (a Teams model naming
    `Activity` fails where an `Activity` naming `ChannelAccount` works), so plans belong to the root's reader.
    """

    def __init__(self, root: type[Model]) -> None:
        self._classes: dict[str, Any] = dict(root._infer_class_models())  # what Model.deserialize builds each call
        self._plans: dict[type, _ReadPlan | None] = {}
        self.root = self._classes.get(root.__name__)  # msrest starts from the class of that name there

    def model(self, cls: Any, data: Any) -> Any:
        """`Deserializer._deserialize(cls, data)`: fields through the plan, `_instantiate_model`'s call."""
        if type(data) is not dict:  # a str, list or number where a model goes: msrest raises
            raise _Fallback
        try:
            plan = self._plans[cls]
        except KeyError:
            plan = self._plans[cls] = self._plan(cls)
        if plan is None:
            raise _Fallback
        template, fields, known = plan
        kwargs = template.copy()  # every attribute, None when absent, in the attribute map's order
        extra = False
        for key, value in data.items():
            field = fields.get(key)
            if field is None:
                extra = True
            elif value is not None:
                attr, convert = field
                if convert is not None:
                    kwargs[attr] = convert(value)
                elif type(value) is str:
                    kwargs[attr] = value
                else:
                    raise _Fallback  # msrest's str() turns numbers, lists and dicts into text
        obj = cls(**kwargs)
        if extra:  # Deserializer._build_additional_properties: unknown keys, values shared with `data`
            obj.additional_properties = {key: data[key] for key in set(data.keys()) - known}
        return obj

    def _plan(self, cls: Any) -> _ReadPlan | None:
        if not isinstance(cls, type) or not issubclass(cls, Model) or issubclass(cls, Enum) or not _plain_model(cls):
            return None
        fields: dict[Any, _Field] = {}
        for attr, desc in cls._attribute_map.items():
            key, data_type = desc["key"], desc["type"]
            # flattened ("a.b") or additional-properties ("") keys, two attributes on one key: msrest's job; and
            # msrest calls type.strip() on every attribute, present or not (one Teams model has a class for a type)
            if not key or "." in key or attr == "additional_properties" or key in fields or type(data_type) is not str:
                return None
            convert = self._converter(data_type)
            fields[key] = (attr, None if convert is _read_str else convert)
        return dict.fromkeys(cls._attribute_map), fields, frozenset(fields)

    def _converter(self, data_type: str) -> _Convert:
        """Deserializer.deserialize_data's dispatch, in its order: basic types, its own types, [T], {T}, classes."""
        if not data_type or data_type in _MSREST_ONLY:
            return _unsupported  # "long", "date", "[]"...
        read = _READ_SIMPLE.get(data_type)
        if read is not None:
            return read
        ends = data_type[0] + data_type[-1]
        if ends == "[]":
            return _read_list(self._converter(data_type[1:-1]))
        if ends == "{}":
            return _read_dict(self._converter(data_type[1:-1]))
        target = self._classes.get(data_type)
        if target is None:
            return _unsupported  # msrest raises a KeyError, wrapped, when the field has a value
        return partial(self.model, target)  # its plan is looked up (or built) on first use: models nest in cycles


def _plain_model(cls: type[Model]) -> bool:
    """No polymorphism, XML, readonly or constant attributes: `_classify` and `_instantiate_model` are plain calls."""
    if getattr(cls, "_subtype_map", None) or hasattr(cls, "_xml_map"):
        return False
    if getattr(cls._classify, "__func__", None) is not _MSREST_CLASSIFY:
        return False
    rules = getattr(cls, "_validation", None) or {}
    return not any(rule.get("readonly") or rule.get("constant") for rule in rules.values())


_READERS: dict[type, _Reader] = {}


def _reader(cls: type[Model]) -> _Reader:
    reader = _READERS.get(cls)
    if reader is None:
        reader = _READERS[cls] = _Reader(cls)
    return reader


def _read_str(value: Any) -> Any:
    if type(value) is not str:
        raise _Fallback
    return value


def _read_bool(value: Any) -> Any:
    if type(value) is not bool:  # msrest's bool() also takes 0, 1, "true", "False"...
        raise _Fallback
    return value


def _read_int(value: Any) -> Any:
    if type(value) is not int:  # int() of a bool, float or numeric str
        raise _Fallback
    return value


def _read_float(value: Any) -> Any:
    if type(value) is not float:  # float() of an int or numeric str
        raise _Fallback
    return value


def _read_iso(value: Any) -> Any:
    if type(value) is not str:  # a datetime is kept as it is, anything else raises
        raise _Fallback
    return Deserializer.deserialize_iso(value)  # a bad string raises here and again, identically, in msrest


def _read_object(value: Any) -> Any:
    """Deserializer.deserialize_object for JSON values: new dicts and lists, the same atoms."""
    kind = type(value)
    if kind in _ATOMS or value is None:
        return value
    if kind is dict:
        return {k: _read_object(v) for k, v in value.items()}
    if kind is list:
        return [_read_object(v) for v in value]
    raise _Fallback  # tuples, datetimes, str subclasses...: msrest has a rule (or an error) for each


def _read_list(read: _Convert) -> _Convert:
    def read_list(value: Any) -> list[Any]:
        if type(value) is not list:  # msrest also reads a set, and raises on anything else
            raise _Fallback
        return [None if item is None else read(item) for item in value]

    return read_list


def _read_dict(read: _Convert) -> _Convert:
    def read_dict(value: Any) -> dict[Any, Any]:
        if type(value) is not dict:  # msrest reads a list as [{"key": k, "value": v}, ...]
            raise _Fallback
        return {k: None if v is None else read(v) for k, v in value.items()}

    return read_dict


_READ_SIMPLE: dict[str, _Convert] = {
    "str": _read_str,
    "bool": _read_bool,
    "int": _read_int,
    "float": _read_float,
    "iso-8601": _read_iso,
    "object": _read_object,
}
_MSREST_ONLY = frozenset(Deserializer().deserialize_type) - _READ_SIMPLE.keys()  # "long", "date", "[]", "{}"...


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def has_lone_surrogate(raw: bytes | bytearray, value: Any) -> bool:
    """True when the JSON text `raw`, decoded to `value`, holds a string that is not valid Unicode text: a lone
    surrogate escape such as "\\ud800" is valid JSON, but SQLite, URL quoting and UTF-8 output all refuse it, so
    such a body is refused up front. Costs a substring scan unless the body has surrogate escapes at all."""
    if b"\\u" not in raw or not _SURROGATE_ESCAPE.search(raw):
        return False
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
