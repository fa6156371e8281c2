"""Shared dialog pieces: global commands (exact words, None-safe) and the language-aware prompt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext, TextPrompt
from botbuilder.schema import Activity

from assistant.case import PromptSpec
from assistant.presenters.views import View

# Whole-message commands, casefolded. Exact matches only: "help me with the flow" is a question.
HELP = frozenset({"help", "aiuto", "?", "commands", "comandi", "what can you do", "cosa sai fare"})
MENU = frozenset({"menu", "start", "home", "inizio", "areas", "aree"})
CANCEL = frozenset(
    {
        "cancel",
        "annulla",
        "stop",
        "restart",
        "ricomincia",
        "reset",
        "start over",
        "quit",
        "esci",
        "basta",
        "/restart",
        "/reset",
    }
)
AGENT = frozenset(
    {
        "talk to a person",
        "talk to a human",
        "human",
        "agent",
        "operator",
        "person",
        "escalate",
        "support",
        "real person",
        "parla con una persona",
        "operatore",
        "persona",
        "assistenza",
        "voglio parlare con una persona",
        "parlare con una persona",
        "umano",
        "talk to support",
        "parla con l'assistenza",
        "parla con l’assistenza",
    }
)
STATUS = frozenset({"status", "stato", "case status", "stato del caso", "my case", "il mio caso", "ticket status"})
BACK = frozenset(
    {
        "back to the assistant",
        "back to assistant",
        "back to the bot",
        "torna all'assistente",
        "torna all’assistente",
        "torna al bot",
        "torna all'assistente virtuale",
    }
)
TO_ENGLISH = frozenset(
    {
        "english",
        "in english",
        "inglese",
        "en",
        "switch to english",
        "speak english",
        "parla inglese",
        "in inglese",
    }
)
TO_ITALIAN = frozenset(
    {"italiano", "italian", "in italiano", "it", "switch to italian", "parla italiano", "speak italian"}
)
DIAGNOSE = frozenset(
    {
        "diagnose",
        "diagnose everything",
        "check everything",
        "run all checks",
        "diagnosi",
        "verifica tutto",
        "controlla tutto",
        "diagnostica",
        "esegui tutte le verifiche",
    }
)
AREA_WORDS: dict[str, frozenset[str]] = {
    "prerequisites": frozenset(
        {
            "prerequisites",
            "prerequisite",
            "prereqs",
            "prerequisiti",
            "requisiti",
            "check prerequisites",
            "verifica prerequisiti",
            "1",
        }
    ),
    "configuration": frozenset(
        {
            "configuration",
            "config",
            "setup",
            "set up",
            "configurazione",
            "check configuration",
            "verifica configurazione",
            "2",
        }
    ),
    "maintenance": frozenset(
        {
            "maintenance",
            "run",
            "run/maintenance",
            "run and maintenance",
            "operations",
            "manutenzione",
            "esecuzione",
            "esecuzione/manutenzione",
            "check maintenance",
            "verifica manutenzione",
            "3",
        }
    ),
}


def command_word(ctx: TurnContext) -> str | None:
    """The casefolded whole message when it is a text message, else None (card submits carry no text)."""
    activity = ctx.activity
    if activity.type != "message" or not activity.text:
        return None
    return command_text(activity.text)


def command_text(text: str) -> str:
    """`text` as the whole-message commands are compared: casefolded, trailing "." / "!" off, single spaces."""
    return " ".join(text.strip().casefold().rstrip(".!").split())


Intent = Literal["handoff", "command", "smalltalk", "question"]
_COMMANDS = HELP | MENU | CANCEL | TO_ENGLISH | TO_ITALIAN | DIAGNOSE


def message_intent(text: str, asks_for_a_person: Callable[[str], bool], verdict: str | None = None) -> Intent:
    """What a message is: "handoff" when it asks for a person (the AGENT words too: that command is such a request),
    "command" for another whole-message command (help, menu, cancel, language, diagnose, an area), "smalltalk" when
    the matcher's verdict (`Match.kind`, None when no match ran) says so, else "question".

    Args:
        asks_for_a_person: the hand-over recogniser (`knowledge.intent.HandoffRecognizer`).
    """
    word = command_text(text)
    if word in AGENT or asks_for_a_person(text):
        return "handoff"
    if word in _COMMANDS or area_command(word) is not None:
        return "command"
    return "smalltalk" if verdict == "smalltalk" else "question"


def submitted(value: object, card: str) -> str | None:
    """The choice a card button of prompt kind `card` submitted, if this message is one."""
    if isinstance(value, dict) and value.get("card") == card and isinstance(value.get("choice"), str):
        return str(value["choice"])
    return None


def area_command(word: str | None) -> str | None:
    """The area a whole-message command names, if any."""
    if word is None:
        return None
    return next((area for area, words in AREA_WORDS.items() if word in words), None)


Renderer = Callable[[View, TurnContext], Activity]  # the channel's renderer (bot/channels/rendering.py)


class SpecPrompt(TextPrompt):
    """A text prompt whose question is rendered from a `PromptSpec` each time it is shown.

    Accepts any text and card submits (text None, value set); the calling step decides what the reply means,
    so free text typed at a prompt can be routed as a new question instead of being rejected.
    """

    def __init__(self, dialog_id: str, render: Renderer) -> None:
        super().__init__(dialog_id, self._accept)
        self._render = render

    @staticmethod
    async def _accept(prompt_context: PromptValidatorContext) -> bool:
        activity = prompt_context.context.activity
        return bool(prompt_context.recognized.succeeded or activity.value is not None)

    async def on_prompt(
        self, turn_context: TurnContext, state: dict[str, object], options: PromptOptions, is_retry: bool
    ) -> None:
        spec = PromptSpec.model_validate(options.validations)
        await turn_context.send_activity(self._render(spec, turn_context))


def spec_options(spec: PromptSpec) -> PromptOptions:
    """Prompt options carrying a spec (as a plain dict, safe to persist)."""
    return PromptOptions(validations=spec.model_dump(mode="json"))


async def reprompt(inner_dc: DialogContext) -> None:
    """Show the pending prompt again (rendered in the current language)."""
    if inner_dc.active_dialog is not None:
        await inner_dc.reprompt_dialog()
