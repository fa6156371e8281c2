"""The botbuilder dialogs: `MainDialog` and its `Router` (`main_dialog`), `AnswerDialog`, the clarifying question,
the area checklists and the confirm-gated fix offers, on the shared `base`, `runtime`, `state` and `access`; what
they show comes from `assistant` (case model, messages, presenters).

May import: `assistant`, `tenant` (models and ports' types), `knowledge`, botbuilder. Imported by: `bot`. Never
imports `bot` (import-linter layers).
"""

from dialogs.lazy_recognizers import install as _install_lazy_recognizers

_install_lazy_recognizers()  # before botbuilder.dialogs is imported: its date-time grammars load on first use
