"""The grammar of a request for a person: word classes as bits, and the structures a clause of them may hold.

Pure functions over a clause's class bits (`knowledge.intent` reads the words); the data file's header
(`knowledge/data/intents.yaml`) says the same in words. A clause asks for a person when it holds
- an asking verb whose object is a support-side person or a ticket (`_opens`: "talk to a human", "passami un
  tecnico", "I need someone from support", "c'è un operatore?", "I want a ticket"),
- a ticket act (`_opens_ticket`: "raise a support ticket", "apritemi una richiesta di assistenza"),
- an escalation of this case (`_escalates`: "escalate this", "can my case be escalated", "scala il problema"),
- an indefinite person offered as the subject of a helping verb (`_offers_help`: "could a technician take over?"),
- a contacting verb aimed at the user (`_calls_me`: "call me", "chiamatemi", "vorrei essere ricontattato");
or when the whole message is such words (`alone`). Words of the knowledge base where the request should end ("I
need someone with the admin role"), "which", a possessive ("our admin person"), a negation or a condition ("when I
open a ticket, ...") keep it a question.
"""

from __future__ import annotations

from collections.abc import Sequence

ALONE_MAX = 6  # words a message of hand-over words alone may have ("please, I want a real person now")
HELP_WINDOW = 6  # words after an offered person searched for its helping verb ("could a technician take over")
NEGATION_WINDOW = 3  # words before a verb searched for a negation ("I do not want to talk to a human")
PRODUCT_WORDS = 3  # product words allowed between "from the" and the support side ("from the Partner Center support")

# one bit per word class; `CLASSES` names them as the data file does
PERSON, CONTACT_PERSON, QUALIFIER, TALK, CALL, ASK, HELP, AVAILABLE = (1 << n for n in range(8))
TICKET_VERB, TICKET, CASE, SUPPORT_REQUEST, ESCALATE, ESCALATE_OBJECT, ISSUE, DEFINITE = (1 << n for n in range(8, 16))
EXISTENTIAL, INDEFINITE, SLOT, OF, POSSESSIVE, WHICH, NEGATION, TOPIC = (1 << n for n in range(16, 24))
BREAK, BE, ME, ME_BEFORE, FIRST, POLITE, DEICTIC, DOMAIN = (1 << n for n in range(24, 32))
CONDITION, RELATIVE, PURPOSE, INFLECTED, ING, CLITIC = (1 << n for n in range(32, 38))

CLASSES = {
    "people": PERSON,
    "contact_people": CONTACT_PERSON,
    "qualifiers": QUALIFIER,
    "talk_verbs": TALK,
    "call_verbs": CALL,
    "ask_verbs": ASK,
    "help_verbs": HELP,
    "availability": AVAILABLE,
    "ticket_verbs": TICKET_VERB,
    "tickets": TICKET,
    "cases": CASE,
    "support_requests": SUPPORT_REQUEST,
    "escalate": ESCALATE,
    "escalate_objects": ESCALATE_OBJECT,
    "issues": ISSUE,
    "definite": DEFINITE,
    "existential": EXISTENTIAL,
    "indefinite": INDEFINITE,
    "slot": SLOT,
    "of": OF,
    "possessive": POSSESSIVE,
    "which": WHICH,
    "negation": NEGATION,
    "conditions": CONDITION,
    "relative": RELATIVE,
    "purpose": PURPOSE,
    "topic": TOPIC,
    "clause_breaks": BREAK,
    "be": BE,
    "me": ME,
    "me_before": ME_BEFORE,
    "deictic": DEICTIC,
    "first_person": FIRST,
    "politeness": POLITE,
}
VERBS = TALK | CALL | ASK | HELP | TICKET_VERB | ESCALATE
SUPPORT_SIDE = PERSON | CONTACT_PERSON
ALONE_WORDS = SUPPORT_SIDE | QUALIFIER | TALK | ASK | HELP | AVAILABLE | TICKET | ESCALATE | POLITE | ME | EXISTENTIAL


def alone(bits: Sequence[int]) -> bool:
    """Hand-over words alone, besides politeness ("agent!!", "operatore per favore", "human please")."""
    return (
        len(bits) <= ALONE_MAX
        and any(b & (PERSON | TICKET | ESCALATE) and not b & INFLECTED for b in bits)
        and all(b & ALONE_WORDS and not b & (DOMAIN | WHICH | NEGATION) for b in bits)
    )


def asks(bits: Sequence[int]) -> bool:
    """True when the clause holds one of the structures of a request for a person."""
    for i, b in enumerate(bits):
        if b & (TALK | ASK | TICKET_VERB | EXISTENTIAL) and _opens(bits, i):
            return True
        if b & ESCALATE and _escalates(bits, i):
            return True
        if b & PERSON and _offers_help(bits, i):
            return True
        if b & CALL and _calls_me(bits, i):
            return True
    return False


def _negated(bits: Sequence[int], i: int) -> bool:
    """A negation or a condition just before the verb: "I do not want a human", "when we ask for support"."""
    return any(b & (NEGATION | CONDITION) for b in bits[max(0, i - NEGATION_WINDOW) : i])


def _opens(bits: Sequence[int], i: int) -> bool:
    """An asking verb (or "is there") whose object is a support-side person or a ticket."""
    verb = bits[i]
    if verb & INFLECTED and not _asked_anyway(bits, i):
        return False
    if _negated(bits, i):
        return False
    if verb & TICKET_VERB and _opens_ticket(bits, i):
        return True
    j = _slot_end(bits, i + 1)
    if j == len(bits):
        return False
    target = bits[j]
    end = _person_end(bits, j)
    if end < len(bits) and bits[end] & (TICKET | CASE | SUPPORT_REQUEST):  # "support cases": the person is a modifier
        return bool(verb & ASK and bits[end] & TICKET and _no_domain_next(bits, end + 1))
    if verb & TALK and target & PERSON:  # "talk to someone from support about the flow"
        return _nothing_of_the_domain(bits, end, TOPIC | RELATIVE)
    if verb & TALK and target & CONTACT_PERSON:  # "contact Microsoft", not "contact Microsoft about a referral"
        return _nothing_of_the_domain(bits, end)
    if verb & (ASK | EXISTENTIAL) and target & PERSON:  # "get me a human", not "give a person access"
        return _nothing_of_the_domain(bits, end)
    return bool(verb & ASK and target & TICKET and _no_domain_next(bits, j + 1) and not _for_the_domain(bits, j + 1))


def _asked_anyway(bits: Sequence[int], i: int) -> bool:
    """An inflected verb that still asks: a passive ("may I be transferred") or a gerund the user wants ("I'd
    prefer speaking with an agent"); "I talked to support", "does opening a ticket help" report or describe."""
    if i and bits[i - 1] & BE:
        return True
    return bool(bits[i] & ING) and any(b & (FIRST | ASK) and not b & INFLECTED for b in bits[:i])


def _slot_end(bits: Sequence[int], j: int) -> int:
    """The first word after an asking verb that is no slot word ("put me through to [a Microsoft] engineer"); a few
    product words may name whose support it is ("talk to the [Partner Center] support team")."""
    while j < len(bits):
        b = bits[j]
        if b & (PERSON | TICKET):
            return j
        if b & CONTACT_PERSON and not (j + 1 < len(bits) and bits[j + 1] & PERSON):  # "contact Microsoft [support]"
            return j
        mine = b & POSSESSIVE and j + 1 < len(bits) and bits[j + 1] & (CASE | ISSUE | SUPPORT_REQUEST)
        if not (b & (SLOT | QUALIFIER | CASE | ISSUE) or mine):
            return _product_support(bits, j)
        j += 1
    return j


def _product_support(bits: Sequence[int], j: int) -> int:
    """The support-side person after up to `PRODUCT_WORDS` product words at `j`, else `j`."""
    for k in range(j, min(j + PRODUCT_WORDS + 1, len(bits))):
        if bits[k] & PERSON and not bits[k] & QUALIFIER:  # a noun of the support side, not "utente umano"
            return k
        if bits[k] & ~(DOMAIN | QUALIFIER):
            return j
    return j


def _person_end(bits: Sequence[int], j: int) -> int:
    """The word after the person phrase starting at `j`: qualifiers and support-side words, also after a preposition
    and a few words of the product ("someone from the support team", "un collega dell'assistenza", "an engineer from
    the Partner Center support team")."""
    while j < len(bits):
        if bits[j] & (SUPPORT_SIDE | QUALIFIER):
            j += 1
            continue
        if not bits[j] & OF:
            return j
        k = j + 1
        while k < len(bits) and bits[k] & SLOT and not bits[k] & SUPPORT_SIDE:
            k += 1
        ahead = bits[k : k + PRODUCT_WORDS + 1]
        support = next((n for n, b in enumerate(ahead) if b & PERSON), None)
        if support is None or any(b & ~(DOMAIN | QUALIFIER | PERSON | CONTACT_PERSON) for b in ahead[:support]):
            return j
        j = k + support
    return j


def _no_domain_next(bits: Sequence[int], k: int) -> bool:
    """The person is no modifier of a domain noun ("helpdesk portal", "ticket field")."""
    return k >= len(bits) or not bits[k] & DOMAIN


def _nothing_of_the_domain(bits: Sequence[int], k: int, also: int = 0) -> bool:
    """Nothing of the knowledge base follows before what the person should do, the clause's end or `also` (a topic:
    "talk to someone about the flow")."""
    for b in bits[k:]:
        if b & (HELP | AVAILABLE | TALK | CALL | BREAK | also) and not b & INFLECTED:
            return True
        if b & DOMAIN:
            return False
    return True


def _for_the_domain(bits: Sequence[int], k: int) -> bool:
    """A purpose of the product follows in the clause: "(do I have to open a ticket) to enable the API", "per
    attivare l'API": a question about the procedure, not a request."""
    for n in range(k, len(bits) - 1):
        if bits[n] & BREAK:
            return False
        if bits[n] & PURPOSE and bits[n + 1] & DOMAIN:
            return True
    return False


def _opens_ticket(bits: Sequence[int], i: int) -> bool:
    """A ticket verb, then a ticket ("raise a support ticket", "apritemi una richiesta di assistenza")."""
    j = i + 1
    skip = SLOT | QUALIFIER | SUPPORT_SIDE | POSSESSIVE
    while j < len(bits) and bits[j] & skip and not bits[j] & (TICKET | CASE | SUPPORT_REQUEST):
        j += 1
    if j == len(bits) or not bits[j] & (TICKET | CASE | SUPPORT_REQUEST):
        return _raised_with_support(bits, i)
    if _for_the_domain(bits, j + 1):
        return False
    if bits[j] & TICKET:
        return _no_domain_next(bits, j + 1)
    if _support_side_near(bits, i, j):
        return True
    # a case of the CRM ("open a case in Salesforce") is no support case; a request or a "segnalazione" needs the
    # support side
    return bool(bits[j] & CASE) and _nothing_of_the_domain(bits, j + 1)


def _raised_with_support(bits: Sequence[int], i: int) -> bool:
    """A ticket verb whose object is this case, raised with the support side: "raise this with support", "log the
    issue with Microsoft support"; not "open the flow with the admin account"."""
    k = i + 1
    while k < len(bits) and bits[k] & (DEICTIC | DEFINITE | POSSESSIVE | ISSUE):
        k += 1
    if k == i + 1:
        return False
    j = _slot_end(bits, k)
    return (
        j < len(bits) and j > k and bool(bits[j] & SUPPORT_SIDE) and _nothing_of_the_domain(bits, _person_end(bits, j))
    )


def _support_side_near(bits: Sequence[int], i: int, j: int) -> bool:
    """A support-side person between the ticket verb `i` and the ticket `j`, or right after the ticket ("support
    request", "richiesta di assistenza", "segnalazione al supporto", "case with Microsoft")."""
    if any(b & SUPPORT_SIDE for b in bits[i + 1 : j]):
        return True
    for b in bits[j + 1 : j + 4]:
        if b & SUPPORT_SIDE:
            return True
        if not b & (OF | SLOT):
            return False
    return False


def _escalates(bits: Sequence[int], i: int) -> bool:
    """ "Escalate this / my case / to support", "can this be escalated", not "escalate a referral's priority"."""
    if _negated(bits, i):
        return False
    before = bits[max(0, i - 3) : i]
    if bits[i] & INFLECTED:  # "can this be escalated", "I want my case escalated"
        return any(b & (DEICTIC | POSSESSIVE) for b in before) and not any(b & DOMAIN for b in before)
    if i + 1 == len(bits):  # "please escalate", "time to escalate"; not "does the connector scale"
        return i == 0 or not bits[i - 1] & DOMAIN
    nxt = bits[i + 1]
    if nxt & DEFINITE:  # "escalate the issue", "scala la mia richiesta"; not "escalate the referral"
        k = i + 3 if i + 2 < len(bits) and bits[i + 2] & POSSESSIVE else i + 2
        return k < len(bits) and bool(bits[k] & ISSUE)
    return bool(nxt & (ESCALATE_OBJECT | POSSESSIVE) or (nxt & POLITE and not nxt & INDEFINITE))


def _offers_help(bits: Sequence[int], i: int) -> bool:
    """An indefinite support-side person, then what they should do ("could a technician take over?", "anyone
    available?", "qualcuno mi può aiutare?"); not "which person needs the role", not "a person changed the password"."""
    k = i - 1
    while k >= 0 and bits[k] & QUALIFIER and not bits[k] & INDEFINITE:
        k -= 1
    if not (bits[i] & INDEFINITE or (k >= 0 and bits[k] & INDEFINITE)):
        return False
    end = _person_end(bits, i + 1)
    for b in bits[end : end + HELP_WINDOW]:
        if b & (HELP | AVAILABLE | TALK | CALL) and not b & INFLECTED:
            return True
        if b & (DOMAIN | WHICH | NEGATION):
            return False
    return False


def _calls_me(bits: Sequence[int], i: int) -> bool:
    """A contacting verb aimed at the user: "call me", "chiamatemi", "mi richiamate?", "vorrei essere ricontattato"."""
    verb = bits[i]
    if _negated(bits, i):
        return False
    if verb & INFLECTED:  # a passive whose subject is the user
        return i > 0 and bool(bits[i - 1] & BE) and any(b & (FIRST | ASK) for b in bits[: i - 1])
    if verb & CLITIC or any(b & (CLITIC | ME_BEFORE) for b in bits[max(0, i - 2) : i]):  # "mi potete richiamare"
        return _nothing_of_the_domain(bits, i + 1)
    k = i + 1
    while k < len(bits) and bits[k] & SLOT and not bits[k] & ME:  # "call me", "reach out to me", "ring us back"
        k += 1
    return k < len(bits) and bool(bits[k] & ME) and _nothing_of_the_domain(bits, k + 1)
