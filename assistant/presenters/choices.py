"""The buttons a prompt offers and how a reply picks one: a card submit, a number, a button title or a known word
(English and Italian, accents as typed or stripped)."""

from __future__ import annotations

from assistant import messages
from assistant.case import PromptSpec
from knowledge.crm import CRM_NAMES
from knowledge.loader import KnowledgeBase
from knowledge.models import Lang

#: reply words accepted for each choice key (casefolded, accents as typed or stripped)
CHOICE_WORDS: dict[str, frozenset[str]] = {
    "yes": frozenset(
        {
            "yes",
            "y",
            "yeah",
            "yep",
            "sì",
            "si",
            "ok",
            "helped",
            "it helped",
            "yes, it helped",
            "sì, utile",
            "si, utile",
            "utile",
            "certo",
            "👍",
        }
    ),
    "no": frozenset(
        {"no", "n", "nope", "not really", "non proprio", "per niente", "👎", "no, cancel", "no, annulla", "no thanks"}
    ),
    "done": frozenset(
        {
            "done",
            "yes",
            "y",
            "yes, done",
            "ok",
            "in place",
            "fatto",
            "sì",
            "si",
            "sì, fatto",
            "si, fatto",
            "confirmed",
            "confermato",
            "a posto",
        }
    ),
    "fixed": frozenset(
        {
            "fixed",
            "fixed it",
            "fixed it now",
            "fixed now",
            "sistemato",
            "sistemato ora",
            "risolto",
            "corretto",
        }
    ),
    "open": frozenset({"not yet", "no", "n", "open", "not sure", "non ancora", "non so", "aperto", "ancora no"}),
    "skip": frozenset({"skip", "next", "salta", "avanti", "dopo", "later"}),
    "none": frozenset({"none", "none of these", "neither", "nessuna", "nessuna di queste", "nessuno", "altro"}),
    "fix": frozenset(
        {"fix it for me", "fix it", "fix", "yes", "y", "ok", "sì", "si", "sistemalo tu", "sistemalo", "correggi"}
    ),
    "confirm": frozenset(
        {
            "confirm",
            "yes, confirm",
            "yes",
            "y",
            "do it",
            "go ahead",
            "conferma",
            "confermo",
            "sì, conferma",
            "si, conferma",
            "sì",
            "si",
            "procedi",
        }
    ),
    "handoff": frozenset(
        {"talk to support", "parla con l'assistenza", "parla con l’assistenza", "yes", "y", "ok", "sì", "si"}
    ),
    "send": frozenset({"send", "send it", "yes", "y", "ok", "invia", "invialo", "sì", "si", "sì, invia", "si, invia"}),
    "cancel": frozenset({"cancel", "no", "n", "don't send", "do not send", "annulla", "non inviare", "no, annulla"}),
    **{f"r{n}": frozenset({"★" * n, f"{n} stars", f"{n} stelle", f"{n}/5"}) for n in range(1, 6)},
}

ITEM_CHOICES = ("done", "fixed", "open", "skip")
FEEDBACK_CHOICES = ("yes", "no")
FIX_CHOICES = ("fix", "no")
CONFIRM_CHOICES = ("confirm", "no")
CRM_CHOICES = tuple(CRM_NAMES)  # "dynamics", "salesforce"


def choice_title(key: str, lang: Lang) -> str:
    """The button title of a fixed choice key (yes/no, done/fixed/open/skip, none) in `lang`."""
    return {
        "yes": messages.text("helped_yes", lang),
        "no": messages.text("helped_no", lang),
        "done": messages.text("choice_done", lang),
        "fixed": messages.text("choice_fixed", lang),
        "open": messages.text("choice_open", lang),
        "skip": messages.text("choice_skip", lang),
        "none": messages.text("clarify_none", lang),
    }[key]


def prompt_choices(kb: KnowledgeBase, spec: PromptSpec, lang: Lang) -> list[tuple[str, str]]:
    """The (key, button title) pairs a prompt offers."""
    if spec.kind == "answer":
        return [(k, choice_title(k, lang)) for k in FEEDBACK_CHOICES]
    if spec.kind == "item":
        return [(k, choice_title(k, lang)) for k in ITEM_CHOICES]
    if spec.kind == "crm_ask":
        return [(crm, name) for crm, name in CRM_NAMES.items()]  # product names: the same in every language
    if spec.kind == "clarify":
        titles = [(e, kb.get(e).content(lang).label) for e in spec.alternatives]
        return [*titles, ("none", choice_title("none", lang))]
    return []


def recognize(reply: str | None, value: object, keys: tuple[str, ...] | list[str]) -> str | None:
    """Which choice key a reply picks: a card submit value, a number, a button title or a known word."""
    if isinstance(value, dict):
        picked = value.get("choice")
        if isinstance(picked, str) and picked in keys:
            return picked
    if not reply:
        return None
    said = reply.strip().casefold().rstrip(".!")
    if said.isascii() and said.isdigit() and 1 <= int(said) <= len(keys):  # not "¹" or "٣": int() refuses them
        return keys[int(said) - 1]
    for key in keys:
        if said == key or said in CHOICE_WORDS.get(key, frozenset()):
            return key
    return None
