"""dialogs/lazy_recognizers.py: start-up does not import botbuilder's date-time grammars, and whoever needs them still
gets the real module (its function through botbuilder's prompt, its attributes, its submodules). Each case runs in a
fresh interpreter: the test process has long imported everything."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_assistant_starts_without_the_date_time_grammars() -> None:
    code = "import sys, bot.app; print(sorted(m for m in sys.modules if m.startswith('recognizers_date_time')))"
    assert _run(code) == "['recognizers_date_time']"  # the stand-in only


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
