"""dialogs/lazy_recognizers.py: start-up does not import botbuilder's recognizers (date-time, number and boolean
grammars, the emoji table), and whoever needs them still gets the real modules (their functions through botbuilder's
prompts and choice recognizers, their attributes, their submodules). Each case runs in a fresh interpreter: the test
process has long imported everything."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_assistant_starts_without_the_recognizers() -> None:
    code = "import sys, bot.app; print(sorted(m for m in sys.modules if m.startswith(('recognizers', 'emoji'))))"
    stand_ins = ["recognizers_choice", "recognizers_date_time", "recognizers_number", "recognizers_text"]
    # the stand-ins, and the two stdlib-only modules botbuilder reads at import (Culture, ModelResult)
    assert _run(code) == str(sorted([*stand_ins, "recognizers_text.culture", "recognizers_text.model"]))


def test_botbuilders_number_boolean_and_choice_recognizers_still_recognize() -> None:
    code = (
        "import sys, dialogs\n"
        "from botbuilder.dialogs.choices import Choice, ChoiceRecognizers\n"
        "from botbuilder.dialogs.prompts import confirm_prompt, number_prompt\n"
        "print(ChoiceRecognizers.recognize_choices('the second one', [Choice('a'), Choice('b')])[0].resolution.value)\n"
        "print(number_prompt.recognize_number('twelve', 'en-us')[0].resolution['value'])\n"
        "print(confirm_prompt.recognize_boolean('yes please', 'en-us')[0].resolution['value'])\n"
        "print(sorted(type(sys.modules[m]).__name__ for m in ('recognizers_number', 'recognizers_text')))"
    )
    assert _run(code).splitlines() == ["b", "12", "True", "['module', 'module']"]


def test_the_real_text_package_keeps_the_classes_botbuilder_already_holds() -> None:
    code = (
        "import dialogs\n"
        "from botbuilder.dialogs.prompts.prompt_culture_models import PromptCultureModels\n"
        "from botbuilder.dialogs.prompts import number_prompt\n"
        "import recognizers_text\n"
        "recognizers_text.Recognizer  # anything else: the real package\n"
        "from recognizers_text import Culture, ModelResult\n"
        "print(Culture is recognizers_text.culture.Culture, ModelResult is number_prompt.ModelResult,"
        " PromptCultureModels.Italian.locale)"
    )
    assert _run(code) == "True True it-it"


def test_botbuilders_date_time_prompt_still_recognizes() -> None:
    code = (
        "import sys, dialogs\n"
        "from botbuilder.dialogs.prompts import datetime_prompt\n"
        "found = datetime_prompt.recognize_datetime('tomorrow at 5pm', 'en-us')\n"
        "print(found[0].type_name, type(sys.modules['recognizers_date_time']).__name__)"
    )
    assert _run(code) == "datetimeV2.datetime module"  # the real module from then on


def test_any_other_use_gets_the_real_module() -> None:
    code = (
        "import dialogs\n"
        "import recognizers_date_time.date_time as dt\n"
        "from recognizers_date_time import DateTimeRecognizer\n"
        "print(dt.__name__, DateTimeRecognizer.__name__)"
    )
    assert _run(code) == "recognizers_date_time.date_time DateTimeRecognizer"


def test_the_stand_ins_cover_every_name_botbuilder_takes_from_the_recognizers() -> None:
    """A botbuilder that took another name at import would load the real package through the stand-in's
    `__getattr__` (correct, but slow again): this says so."""
    import ast
    from pathlib import Path

    import botbuilder.dialogs

    from dialogs.lazy_recognizers import EAGER, FORWARDED

    provided = {pkg: set(names) | {attr for _, attr in EAGER.get(pkg, ())} for pkg, names in FORWARDED.items()}
    taken: dict[str, set[str]] = {}
    for path in Path(botbuilder.dialogs.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FORWARDED:
                assert node.module in FORWARDED, f"{path.name} imports the submodule {node.module}"
                taken.setdefault(node.module, set()).update(alias.name for alias in node.names)
    assert taken, "botbuilder no longer imports the recognizers: the stand-ins can go"
    for pkg, names in taken.items():
        assert names <= provided[pkg], f"{pkg}: botbuilder takes {sorted(names - provided[pkg])} too"
