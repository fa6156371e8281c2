"""Every user-facing string of the dialogs, in English and Italian, in one place.

Entry content (answers, steps, checklist lines) lives in knowledge data; these are only the
conversation's own words. `text(key, lang, **kw)` formats one.
"""

from __future__ import annotations

from assistant.handoff.texts import HANDOFF_MESSAGES
from knowledge.models import Area, Entry, Lang

_MESSAGES: dict[str, dict[Lang, str]] = {
    "welcome": {
        "en": "Hi! I help you troubleshoot the co-sell referrals connectors between Partner Center and "
        "Dynamics 365 or Salesforce. Describe the problem or paste the error message, or pick an area to "
        "walk through its checklist: **prerequisites**, **configuration** or **run/maintenance**.",
        "it": "Ciao! Ti aiuto a risolvere i problemi dei connettori delle segnalazioni di co-selling tra "
        "Partner Center e Dynamics 365 o Salesforce. Descrivi il problema o incolla il messaggio di errore, "
        "oppure scegli un'area per seguirne la checklist: **prerequisiti**, **configurazione** o "
        "**esecuzione/manutenzione**.",
    },
    "help": {
        "en": "You can ask a question in your own words or paste an error message. Commands: "
        "**prerequisites**, **configuration**, **maintenance** (guided checklists), **menu**, **restart**, "
        "**italiano** / **english** (switch language), **talk to a person**.",
        "it": "Puoi fare una domanda con parole tue o incollare un messaggio di errore. Comandi: "
        "**prerequisiti**, **configurazione**, **manutenzione** (checklist guidate), **menu**, "
        "**ricomincia**, **italiano** / **english** (cambia lingua), **parla con una persona**.",
    },
    "cancelled": {
        "en": "OK, let's start over.",
        "it": "D'accordo, ricominciamo.",
    },
    "language_set": {
        "en": "OK, I'll continue in English.",
        "it": "Va bene, continuo in italiano.",
    },
    "greeting": {
        "en": "Hello! What's going wrong with your co-sell connectors? You can paste an error message too.",
        "it": "Ciao! Cosa non funziona nei connettori di co-selling? Puoi anche incollare un messaggio di errore.",
    },
    "thanks": {
        "en": "You're welcome! Ask me anything else about the co-sell connectors whenever you need.",
        "it": "Prego! Chiedimi pure altro sui connettori di co-selling quando vuoi.",
    },
    "bye": {
        "en": "Goodbye, and good luck with your referrals!",
        "it": "Arrivederci e buon lavoro con le segnalazioni!",
    },
    "unknown": {
        "en": "I don't know that one: I can only help with the co-sell referrals connectors (Partner Center ↔ "
        "Dynamics 365 / Salesforce). Try rephrasing, paste the exact error, pick an area — "
        "**prerequisites**, **configuration**, **run/maintenance** — or say **talk to a person**.",
        "it": "Su questo non so aiutarti: mi occupo solo dei connettori delle segnalazioni di co-selling "
        "(Partner Center ↔ Dynamics 365 / Salesforce). Prova a riformulare, incolla l'errore esatto, scegli "
        "un'area — **prerequisiti**, **configurazione**, **esecuzione/manutenzione** — oppure scrivi "
        "**parla con una persona**.",
    },
    "clarify": {
        "en": "I'm not sure which of these you mean:",
        "it": "Non sono sicuro di quale di queste intendi:",
    },
    "clarify_one": {
        "en": "I'm not sure I understood. Is this what you mean?",
        "it": "Non sono sicuro di aver capito. Intendi questo?",
    },
    "clarify_none": {
        "en": "None of these",
        "it": "Nessuna di queste",
    },
    "clarify_rephrase": {
        "en": "OK. Could you describe it in other words, or paste the error message you see?",
        "it": "D'accordo. Puoi descriverlo con altre parole o incollare il messaggio di errore che vedi?",
    },
    # a card's plain-text fallback lists its buttons as numbers; text channels join inline choices with "or"
    "choices_reply": {"en": "Reply with a number:", "it": "Rispondi con un numero:"},
    "choices_or": {"en": "or", "it": "o"},
    # the columns and buttons of the findings checklist card
    "findings_status": {"en": "Status", "it": "Stato"},
    "findings_check": {"en": "Check", "it": "Verifica"},
    "findings_evidence": {"en": "Evidence", "it": "Dettagli"},
    "helped_q": {"en": "Did this help?", "it": "Ti è stato utile?"},
    "helped_yes": {"en": "Yes, it helped", "it": "Sì, utile"},
    "helped_no": {"en": "No", "it": "No"},
    "helped_thanks": {
        "en": "Great, glad it helped! Anything else?",
        "it": "Ottimo, mi fa piacere! Altro?",
    },
    "helped_sorry": {
        "en": "Sorry about that. You can walk through the **{area}** checklist, rephrase with more detail or "
        "the exact error, or say **talk to a person**.",
        "it": "Mi dispiace. Puoi seguire la checklist **{area}**, riformulare con più dettagli o l'errore "
        "esatto, oppure scrivere **parla con una persona**.",
    },
    "item": {
        "en": "**{area} — step {n} of {total}**: {check}",
        "it": "**{area} — passo {n} di {total}**: {check}",
    },
    "item_q": {
        "en": "Is this in place?",
        "it": "È a posto?",
    },
    "choice_done": {"en": "Yes, done", "it": "Sì, fatto"},
    "choice_fixed": {"en": "Fixed it now", "it": "Sistemato ora"},
    "choice_open": {"en": "Not yet", "it": "Non ancora"},
    "choice_skip": {"en": "Skip", "it": "Salta"},
    "summary": {
        "en": "**{area} checklist — summary**",
        "it": "**Checklist {area} — riepilogo**",
    },
    "summary_ok": {"en": "Confirmed", "it": "Confermati"},
    "summary_open": {"en": "Still open", "it": "Ancora aperti"},
    "summary_skipped": {"en": "Skipped", "it": "Saltati"},
    "summary_all_ok": {
        "en": "Everything in this area is confirmed. If the problem persists, try another area or describe it.",
        "it": "In quest'area è tutto confermato. Se il problema persiste, prova un'altra area o descrivilo.",
    },
    "summary_next": {
        "en": "For the open items, follow the steps shown above; ask me about any of them, or say "
        "**talk to a person**.",
        "it": "Per i punti aperti segui i passaggi indicati sopra; chiedimi pure di ciascuno, oppure scrivi "
        "**parla con una persona**.",
    },
    "live_not_configured": {
        "en": "Live checks aren't set up in this deployment, so I can't look at your tenant: an administrator can "
        "configure access tokens (see the README, Live checks). Meanwhile, pick an area to walk through its "
        "checklist: **prerequisites**, **configuration** or **run/maintenance**.",
        "it": "Le verifiche in tempo reale non sono configurate in questa installazione, quindi non posso "
        "controllare il tuo tenant: un amministratore può configurare i token di accesso (vedi il README, Live "
        "checks). Nel frattempo scegli un'area per seguirne la checklist: **prerequisiti**, **configurazione** o "
        "**esecuzione/manutenzione**.",
    },
    "checking_tenant": {
        "en": "Checking your tenant…",
        "it": "Sto controllando il tuo tenant…",
    },
    "live_heading": {
        "en": "**Live checks on your tenant**:",
        "it": "**Verifiche in tempo reale sul tuo tenant**:",
    },
    "live_unavailable": {
        "en": "I couldn't check your tenant right now ({reason}), so here is the general answer.",
        "it": "Non sono riuscito a verificare il tuo tenant in questo momento ({reason}), ecco la risposta generale.",
    },
    "fix_offer": {
        "en": "I can fix this for you: **{action}** ({finding}). I'll show you exactly what will change and ask "
        "you to confirm first.",
        "it": "Posso sistemarlo io: **{action}** ({finding}). Prima ti mostro esattamente cosa cambierà e ti "
        "chiedo conferma.",
    },
    "fix_elsewhere": {
        "en": "**{finding}** To fix it, an admin listed in COSELL_ADMIN_ALLOWLIST can ask me to **{action}** from "
        "Microsoft Teams or a partner portal they signed in to; or do it by hand: {manual}.",
        "it": "**{finding}** Per sistemarlo, un amministratore elencato in COSELL_ADMIN_ALLOWLIST può chiedermi di "
        "**{action}** da Microsoft Teams o da un portale partner a cui ha fatto l'accesso; oppure fallo a mano: "
        "{manual}.",
    },
    "fix_yes": {"en": "Fix it for me", "it": "Sistemalo tu"},
    "card_stale": {
        "en": "That button is on a card that is out of date, so I did nothing with it (nothing was changed). "
        "Ask me again, or say **menu**, to see where things stand now.",
        "it": "Quel pulsante è su una scheda non più attuale, quindi non ho fatto nulla (non è cambiato niente). "
        "Chiedimelo di nuovo, oppure scrivi **menu**, per vedere la situazione attuale.",
    },
    "card_rated": {
        "en": "Thanks, I noted your rating of the earlier answer “{entry}”.",
        "it": "Grazie, ho registrato la tua valutazione della risposta precedente “{entry}”.",
    },
    "card_item_marked": {
        "en": "From an earlier card: “{check}” is marked **{status}**.",
        "it": "Da una scheda precedente: “{check}” è segnato come **{status}**.",
    },
    "card_item_no_walk": {
        "en": "No checklist is open now; say **{area}** to walk it again.",
        "it": "Ora non c'è una checklist aperta; scrivi **{area}** per ripercorrerla.",
    },
    "card_item_current": {
        "en": "The current step is below.",
        "it": "Il passo attuale è qui sotto.",
    },
    "crm_ask": {
        "en": "The steps name the connector's flows after your CRM: which one do you use, **Dynamics 365** or "
        "**Salesforce**?",
        "it": "I passaggi indicano i flussi del connettore con il nome del tuo CRM: quale usi, **Dynamics 365** o "
        "**Salesforce**?",
    },
    "fix_no": {"en": "No", "it": "No"},
    "live_hidden": {
        "en": "I can't show you live results from your tenant in this chat: I show them only when the channel proves "
        "who you are (Microsoft Teams, or a partner portal you signed in to). The troubleshooting guide's answers and "
        "checklists work as usual.",
        "it": "Non posso mostrarti risultati in tempo reale del tuo tenant in questa chat: li mostro solo quando il "
        "canale dimostra chi sei (Microsoft Teams, o un portale partner a cui hai fatto l'accesso). Le risposte e le "
        "checklist della guida funzionano come sempre.",
    },
    "fix_identity_unproven": {
        "en": "I can't make this change from this chat: changes to the tenant need a user whose identity the channel "
        "proved (Microsoft Teams, or a partner portal you signed in to) and who is on this assistant's admin "
        "allow-list. Nothing was changed. To fix it, {manual}.",
        "it": "Non posso fare questa modifica da questa chat: per modificare il tenant serve un utente di cui il "
        "canale ha dimostrato l'identità (Microsoft Teams, o un portale partner a cui hai fatto l'accesso) e che sia "
        "nella lista degli amministratori autorizzati di questo assistente. Non ho cambiato nulla. Per sistemarlo, "
        "{manual}.",
    },
    "fix_refused": {
        "en": "I can't make this change for you: only the admins on this assistant's allow-list may let me change "
        "the tenant, and you aren't on it. Nothing was changed. To fix it, {manual}, or ask an admin of the "
        "connector to do it (or to add you to the allow-list).",
        "it": "Non posso fare questa modifica per te: solo gli amministratori nella lista autorizzata di questo "
        "assistente possono farmi modificare il tenant, e tu non ci sei. Non ho cambiato nulla. Per sistemarlo, "
        "{manual}, oppure chiedi a un amministratore del connettore di farlo (o di aggiungerti alla lista).",
    },
    "fix_unavailable": {
        "en": "I couldn't prepare the fix right now ({reason}). Nothing was changed.",
        "it": "Non sono riuscito a preparare la correzione in questo momento ({reason}). Non ho cambiato nulla.",
    },
    "fix_nothing": {
        "en": "I looked again and there is nothing left to change for this: it already looks fixed.",
        "it": "Ho ricontrollato e non c'è più niente da cambiare: sembra già a posto.",
    },
    "fix_preview": {
        "en": "**This will change exactly:**\n\n{steps}\n\nReply **confirm** to go ahead; anything else cancels.",
        "it": "**Cambierà esattamente questo:**\n\n{steps}\n\nRispondi **conferma** per procedere; qualsiasi "
        "altra risposta annulla.",
    },
    "fix_preview_title": {
        "en": "This will change exactly:",
        "it": "Cambierà esattamente questo:",
    },
    "fix_preview_confirm": {
        "en": "Confirm to go ahead; anything else cancels.",
        "it": "Conferma per procedere; qualsiasi altra risposta annulla.",
    },
    "fix_skipped": {
        "en": "({n} other listed runs are left out: no longer failed, or beyond the limit of {limit} per fix.)",
        "it": "({n} altre esecuzioni elencate sono escluse: non più in errore, o oltre il limite di {limit}.)",
    },
    "fix_confirm_yes": {"en": "Yes, confirm", "it": "Sì, conferma"},
    "fix_confirm_no": {"en": "No, cancel", "it": "No, annulla"},
    "fix_cancelled": {
        "en": "OK, I didn't change anything.",
        "it": "D'accordo, non ho cambiato nulla.",
    },
    "fix_done": {
        "en": "**Done.** Every change was applied:",
        "it": "**Fatto.** Ho applicato tutte le modifiche:",
    },
    "fix_failed": {
        "en": "**Stopped at a failed step**, so what follows it was not attempted ({not_run} left). What happened:",
        "it": "**Mi sono fermato a un passo non riuscito**, quindi i successivi non sono stati eseguiti "
        "({not_run} rimasti). Ecco cosa è successo:",
    },
    "fix_journaled": {
        "en": "_Recorded in the assistant's journal (who, when, before and after)._",
        "it": "_Registrato nel registro dell'assistente (chi, quando, prima e dopo)._",
    },
    "fix_verified": {
        "en": "**Checked again after the change**: no longer failing.",
        "it": "**Ricontrollato dopo la modifica**: il problema non risulta più.",
    },
    "fix_still_failing": {
        "en": "**Checked again after the change: still failing**, so I won't offer the same fix again. Look at what "
        "the check still finds and the steps for it, or say **talk to a person**.",
        "it": "**Ricontrollato dopo la modifica: il problema resta**, quindi non ti riproporrò la stessa correzione. "
        "Guarda cosa rileva ancora la verifica e i passaggi per risolverlo, oppure scrivi **parla con una persona**.",
    },
    "fix_unverified": {
        "en": "**I couldn't check again after the change** ({reason}): ask me again in a moment to see the state.",
        "it": "**Non sono riuscito a ricontrollare dopo la modifica** ({reason}): richiedimelo tra poco per vedere "
        "lo stato.",
    },
    "fix_step_start-flow": {"en": "Turn on **{flow}**", "it": "Accendere **{flow}**"},
    "fix_step_resubmit-run": {
        "en": "Resubmit run `{run_id}` of **{flow}**",
        "it": "Reinviare l'esecuzione `{run_id}` di **{flow}**",
    },
    "fix_step_register-webhook": {
        "en": "Register the Partner Center webhook for the events {events} at `https://{host}/…` (the HTTP "
        "trigger of **{flow}**)",
        "it": "Registrare il webhook di Partner Center per gli eventi {events} su `https://{host}/…` (il trigger "
        "HTTP di **{flow}**)",
    },
    "more_info": {"en": "More information", "it": "Ulteriori informazioni"},
    "source": {"en": "Source", "it": "Fonte"},
    "beyond_page": {
        "en": "Not from the troubleshooting page — from {doc}.",
        "it": "Non dalla pagina di risoluzione dei problemi — da {doc}.",
    },
    "neighbour": {
        "en": "That is outside what I cover: I help with the co-sell referrals connectors only. {pointer} "
        "See [{title}]({url}).",
        "it": "Questo esula da ciò di cui mi occupo: aiuto solo con i connettori delle segnalazioni di co-selling. "
        "{pointer} Vedi [{title}]({url}).",
    },
    "error": {
        "en": "Sorry, something went wrong on my side. Your conversation is kept: please send your last message again.",
        "it": "Mi dispiace, si è verificato un errore da parte mia. La conversazione è conservata: invia di "
        "nuovo l'ultimo messaggio.",
    },
    "conflict": {
        "en": "Your message crossed with another one from this conversation. Please send it again.",
        "it": "Il tuo messaggio si è incrociato con un altro di questa conversazione. Invialo di nuovo.",
    },
}

AREA_NAMES: dict[Area, dict[Lang, str]] = {
    Area.prerequisites: {"en": "Prerequisites", "it": "Prerequisiti"},
    Area.configuration: {"en": "Configuration", "it": "Configurazione"},
    Area.maintenance: {"en": "Run/maintenance", "it": "Esecuzione/manutenzione"},
}


#: what each remediation action does, and how to do it by hand (told to users who may not remediate)
FIX_ACTIONS: dict[str, dict[str, dict[Lang, str]]] = {
    "start-flows-in-order": {
        "name": {
            "en": "turn on the connector flows in the right order",
            "it": "accendere i flussi del connettore nell'ordine giusto",
        },
        "manual": {
            "en": "turn the flows on in Power Automate (Solutions → the co-sell solution → Cloud flows), the child "
            "flows first and Partner Center to <CRM> last",
            "it": "accendi i flussi in Power Automate (Soluzioni → la soluzione di co-selling → Flussi cloud), "
            "prima i flussi figli e per ultimo Partner Center to <CRM>",
        },
    },
    "resubmit-failed-runs": {
        "name": {"en": "resubmit the failed runs", "it": "reinviare le esecuzioni non riuscite"},
        "manual": {
            "en": "open each failed run in Power Automate (the flow → Run history) and choose Resubmit",
            "it": "apri ogni esecuzione non riuscita in Power Automate (il flusso → Cronologia esecuzioni) e "
            "scegli Invia di nuovo",
        },
    },
    "register-webhook": {
        "name": {
            "en": "re-register the Partner Center webhook",
            "it": "registrare di nuovo il webhook di Partner Center",
        },
        "manual": {
            "en": "run the Partner Center Webhook Registration flow with all four referral events and the HTTP "
            "trigger URL of Partner Center to <CRM>",
            "it": "esegui il flusso Partner Center Webhook Registration con tutti e quattro gli eventi delle "
            "segnalazioni e l'URL del trigger HTTP di Partner Center to <CRM>",
        },
    },
}


def fix_text(action: str, part: str, lang: Lang) -> str:
    """An action's `name` or `manual` instructions; the action id itself for an unknown action."""
    return FIX_ACTIONS.get(action, {}).get(part, {}).get(lang, action)


def text(key: str, lang: Lang, **kwargs: object) -> str:
    """The message `key` in `lang`, formatted with `kwargs`."""
    template = (_MESSAGES.get(key) or HANDOFF_MESSAGES[key])[lang]
    return template.format(**kwargs) if kwargs else template


def entry_name(entry: Entry, lang: Lang) -> str:
    """How an entry is named to people: its short label where the data has one, else its title; never its id."""
    content = entry.content(lang)
    return str(getattr(content, "label", "") or content.title)


def area_name(area: Area, lang: Lang) -> str:
    """Display name of an area."""
    return AREA_NAMES[area][lang]


def clarify_heading(candidates: int, lang: Lang) -> str:
    """The line above a clarifying question's choices: "which of these" for several, "is this it" for one."""
    return text("clarify_one" if candidates == 1 else "clarify", lang)
