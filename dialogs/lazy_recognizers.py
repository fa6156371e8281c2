"""`install()`: botbuilder-dialogs' date-time recognizer, imported on first use instead of at start-up.

`botbuilder.dialogs` imports every prompt as it loads, and its `DateTimePrompt` imports `recognizers_date_time`,
whose grammars for eight languages take a third of the assistant's start-up (~0.3 s of ~0.9 s, measured with
`python -X importtime`) for a prompt no dialog here uses. `install()` puts a stand-in under that module's name before
botbuilder is imported: `recognize_datetime` (the one name botbuilder takes from it) imports the real module when it
is first called, and so does any other attribute or submodule someone asks for; from then on the real module is the one
in `sys.modules`. botbuilder 4.17 is archived, so this cannot break under a new release of it; the Agents SDK does not
import the recognizers at all.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any

NAME = "recognizers_date_time"


class _StandIn(types.ModuleType):
    """Stands for `recognizers_date_time` until something needs it."""

    def __getattr__(self, name: str) -> Any:
        return getattr(load(), name)


def load() -> types.ModuleType:
    """The real module (imported now if only the stand-in is there)."""
    module = sys.modules.get(NAME)
    if module is None or isinstance(module, _StandIn):
        sys.modules.pop(NAME, None)
        module = importlib.import_module(NAME)
    return module


def _recognize_datetime(*args: Any, **kwargs: Any) -> Any:
    return load().recognize_datetime(*args, **kwargs)


class _Loaded(importlib.abc.Loader):
    """Hands over a submodule the real package imported while it loaded (instead of running it twice)."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return sys.modules[spec.name]

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class _Submodules(importlib.abc.MetaPathFinder):
    """An import of a submodule (`recognizers_date_time.date_time`) while the stand-in is in place: the real package
    is imported first, then the submodule as usual."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(NAME + ".") or not isinstance(sys.modules.get(NAME), _StandIn):
            return None
        load()
        if fullname in sys.modules:
            return importlib.machinery.ModuleSpec(fullname, _Loaded())
        return importlib.machinery.PathFinder.find_spec(fullname, sys.modules[NAME].__path__)


def install() -> None:
    """Stand in for the module unless it (or botbuilder's prompts, which hold its function) is already imported."""
    if NAME in sys.modules or "botbuilder.dialogs.prompts.datetime_prompt" in sys.modules:
        return
    spec = importlib.machinery.PathFinder.find_spec(NAME)
    if spec is None or spec.submodule_search_locations is None:
        return  # not installed: botbuilder's own import will say so
    stand_in = _StandIn(NAME, __doc__)
    stand_in.recognize_datetime = _recognize_datetime  # type: ignore[attr-defined]
    # a package's path, so `from recognizers_date_time import …` does not load it to ask (the import system does)
    stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules[NAME] = stand_in
    if not any(isinstance(finder, _Submodules) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Submodules())
