"""The live checks' declarations and words, loaded once from knowledge/data/checks.

`said(key, **params)` renders a shared message (knowledge/data/checks/messages.yaml: the runner's skips and
errors, the clients' and the sign-in's errors) in English and Italian; the checks' own words go through
`tenant.checks.common.Say`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from knowledge.check_specs import CheckBook, load_checks
from knowledge.messages import Bilingual, render_both


@cache
def book() -> CheckBook:
    """The declared checks and shared messages (loaded at the first use; KnowledgeError if the data are bad)."""
    return load_checks()


def said(key: str, **params: Any) -> Bilingual:
    """The shared message `key` with `params`, in English and Italian."""
    lookup = book().lookup()
    return render_both(lookup(key), params, lookup)


def has_message(key: str) -> bool:
    """Whether a shared message `key` is declared (for words chosen by a code, e.g. `refused-<status>`)."""
    return key in book().messages
