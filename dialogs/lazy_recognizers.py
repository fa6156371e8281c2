"""`install()`: botbuilder-dialogs' text recognizers, imported on first use instead of at start-up.

`botbuilder.dialogs` imports every prompt as it loads, and its prompts import Microsoft's Recognizers-Text packages:
`DateTimePrompt` the date-time grammars of eight languages (~0.3 s, a third of the assistant's start-up when this was
written, measured with `python -X importtime`), `NumberPrompt` and the choice recognizers the number grammars and,
through `recognizers_text`, the `emoji` table (~25 ms), `ConfirmPrompt` the boolean grammars (~5 ms). The dialogs
here prompt with `TextPrompt` only, so none of them is needed to serve.

`install()` puts a stand-in under each package's name before botbuilder is imported:
- the functions and classes botbuilder takes from it by name (`from recognizers_number import recognize_number`) are
  forwarders that import the real package when first called;
- the two names botbuilder reads at import (`Culture`'s constants, `ModelResult` in an annotation) come from
  `recognizers_text`'s own `culture` and `model` modules, which import nothing but the standard library;
- any other attribute or submodule someone asks for imports the real package, which from then on is the one in
  `sys.modules`.

botbuilder names two classes only in annotations of local variables, never evaluated (`model: NumberModel = …` in
`ChoiceRecognizers`): those names are forwarders too. botbuilder 4.17 is archived, so this cannot break under a new
release of it (tests/dialogs/test_lazy_recognizers.py pins what it takes); the Agents SDK does not import the
recognizers at all.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

#: package → the names botbuilder binds from it at import, standing in until first called
FORWARDED: dict[str, tuple[str, ...]] = {
    "recognizers_date_time": ("recognize_datetime",),
    "recognizers_number": ("recognize_number", "NumberRecognizer", "NumberModel", "OrdinalModel"),
    "recognizers_choice": ("recognize_boolean",),
    "recognizers_text": (),
}
#: package → (submodule, name): what botbuilder reads at import (`Culture.English`, `List[ModelResult]`), from
#: submodules that import only the standard library, loaded as they are under the stand-in
EAGER: dict[str, tuple[tuple[str, str], ...]] = {"recognizers_text": (("culture", "Culture"), ("model", "ModelResult"))}
LIGHT: dict[str, tuple[str, ...]] = {package: tuple(sub for sub, _ in names) for package, names in EAGER.items()}
#: the botbuilder modules that bind those names; once one is imported the stand-ins are too late
_BINDERS = (
    "botbuilder.dialogs.prompts.datetime_prompt",
    "botbuilder.dialogs.prompts.number_prompt",
    "botbuilder.dialogs.prompts.confirm_prompt",
    "botbuilder.dialogs.choices.choice_recognizers",
)


class _StandIn(types.ModuleType):
    """Stands for a recognizers package until something needs it."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system's own probes (`__spec__`, `__file__`…): not a reason to load
            raise AttributeError(name)
        return getattr(load(self.__name__), name)


def load(name: str) -> types.ModuleType:
    """The real package `name` (imported now if only the stand-in is there)."""
    module = sys.modules.get(name)
    if module is None or isinstance(module, _StandIn):
        sys.modules.pop(name, None)
        module = importlib.import_module(name)
        for sub in LIGHT.get(name, ()):  # loaded under the stand-in: the real package reuses them, as its attributes
            if (light := sys.modules.get(f"{name}.{sub}")) is not None:
                setattr(module, sub, light)
    return module


def _forwarder(package: str, name: str) -> Callable[..., Any]:
    def forward(*args: Any, **kwargs: Any) -> Any:
        return getattr(load(package), name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"`{package}.{name}`, imported on first call (dialogs/lazy_recognizers.py)."
    return forward


class _Loaded(importlib.abc.Loader):
    """Hands over a submodule the real package imported while it loaded (instead of running it twice)."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return sys.modules[spec.name]

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class _Submodules(importlib.abc.MetaPathFinder):
    """An import of a submodule (`recognizers_date_time.date_time`) while its package's stand-in is in place: the
    real package is imported first, then the submodule as usual; a light submodule is imported as it is."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, sub = fullname.partition(".")
        if not sub or not isinstance(sys.modules.get(package), _StandIn):
            return None
        if sub in LIGHT.get(package, ()):
            return None  # the path finder loads it from the stand-in's __path__, without the package's __init__
        load(package)
        if fullname in sys.modules:
            return importlib.machinery.ModuleSpec(fullname, _Loaded())
        return importlib.machinery.PathFinder.find_spec(fullname, sys.modules[package].__path__)


def install() -> None:
    """Stand in for each package unless it (or one of botbuilder's modules that take names from it) is already
    imported; a package that is not installed is left for botbuilder's own import to report."""
    if any(name in sys.modules for name in _BINDERS):
        return
    for name, forwarded in FORWARDED.items():
        if name in sys.modules:
            continue
        spec = importlib.machinery.PathFinder.find_spec(name)
        if spec is None or spec.submodule_search_locations is None:
            continue
        stand_in = _StandIn(name, f"Stands for `{name}` until something needs it (dialogs/lazy_recognizers.py).")
        # a package's path, so `from recognizers_x import …` does not load it to ask (the import system does)
        stand_in.__path__ = list(spec.submodule_search_locations)
        for attr in forwarded:
            setattr(stand_in, attr, _forwarder(name, attr))
        sys.modules[name] = stand_in
        for sub, attr in EAGER.get(name, ()):
            setattr(stand_in, attr, getattr(importlib.import_module(f"{name}.{sub}"), attr))
    if not any(isinstance(finder, _Submodules) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Submodules())
