"""What the user reads about a hand-over, in English and Italian (merged into `assistant.messages`, read with
`messages.text(key, lang, **kw)`). What support staff read is English and lives with the card and the HTML page."""

from __future__ import annotations

from knowledge.models import Lang

HANDOFF_MESSAGES: dict[str, dict[Lang, str]] = {
    "handoff_offer_unhelpful": {
        "en": "Sorry my answers haven't helped. Shall I pass this conversation, with what I checked, to a support "
        "engineer?",
        "it": "Mi dispiace che le mie risposte non siano servite. Vuoi che passi questa conversazione, con quello "
        "che ho verificato, a un tecnico dell'assistenza?",
    },
    "handoff_offer_open_items": {
        "en": "Some items are still open. If you can't fix them, I can hand this over to a support engineer with "
        "the checklist attached.",
        "it": "Alcune voci sono ancora aperte. Se non riesci a sistemarle, posso passare il caso a un tecnico "
        "dell'assistenza con la checklist allegata.",
    },
    "handoff_offer_no_fix": {
        "en": "This failing check has no fix I can do for you. A support engineer can take it from here, with "
        "these findings attached.",
        "it": "Per questa verifica non riuscita non ho una correzione da fare al posto tuo. Un tecnico "
        "dell'assistenza può continuare da qui, con questi risultati allegati.",
    },
    "handoff_offer_misses": {
        "en": "I haven't understood the last two messages. Would you rather talk to a support engineer?",
        "it": "Non ho capito gli ultimi due messaggi. Preferisci parlare con un tecnico dell'assistenza?",
    },
    "handoff_offer_yes": {"en": "Talk to support", "it": "Parla con l'assistenza"},
    "handoff_offer_no": {"en": "No, thanks", "it": "No, grazie"},
    "handoff_describe": {
        "en": "I'll hand you over to a support engineer. In a sentence or two, what's going wrong? (I'll attach "
        "what I checked and our conversation.)",
        "it": "Ti passo a un tecnico dell'assistenza. In una o due frasi, cosa non funziona? (Allegherò quello che "
        "ho verificato e la nostra conversazione.)",
    },
    "handoff_preview_heading": {
        "en": "**This is what support will receive** (secrets are removed):",
        "it": "**Ecco cosa riceverà l'assistenza** (i segreti vengono rimossi):",
    },
    "handoff_preview_description": {"en": "Your words", "it": "Le tue parole"},
    "handoff_preview_summary": {"en": "Summary", "it": "Riepilogo"},
    "handoff_preview_checks": {"en": "Live checks", "it": "Verifiche in tempo reale"},
    "handoff_preview_no_checks": {
        "en": "none ran in this conversation",
        "it": "nessuna eseguita in questa conversazione",
    },
    "handoff_preview_matched": {"en": "Answers I gave", "it": "Risposte che ho dato"},
    "handoff_preview_fixes": {"en": "Fixes tried", "it": "Correzioni tentate"},
    "handoff_preview_transcript": {
        "en": "The conversation: {n} messages",
        "it": "La conversazione: {n} messaggi",
    },
    "handoff_preview_question": {"en": "Send it to support?", "it": "Lo invio all'assistenza?"},
    "handoff_send": {"en": "Send", "it": "Invia"},
    "handoff_cancel": {"en": "Cancel", "it": "Annulla"},
    "handoff_sent": {
        "en": "Sent. Your case reference is **{ref}**. A support engineer will answer here, in this chat: you'll "
        "see who has your case. Until then, anything you write goes to them. Say **status** to see where it "
        "is, or **back to the assistant** to ask me again.",
        "it": "Inviato. Il riferimento del tuo caso è **{ref}**. Un tecnico dell'assistenza risponderà qui, in "
        "questa chat: vedrai chi ha preso il caso. Fino ad allora, quello che scrivi arriva a lui. Scrivi "
        "**stato** per sapere a che punto è, o **torna all'assistente** per chiedere di nuovo a me.",
    },
    "handoff_sent_no_target": {
        "en": "Saved. Your case reference is **{ref}**. No support channel is connected to this assistant yet, so "
        "support staff will find your case in their case list; keep the reference. Say **status** to see "
        "where it is, or **back to the assistant** to ask me again.",
        "it": "Salvato. Il riferimento del tuo caso è **{ref}**. A questo assistente non è ancora collegato un "
        "canale di assistenza, quindi il personale di supporto troverà il caso nel proprio elenco; conserva il "
        "riferimento. Scrivi **stato** per sapere a che punto è, o **torna all'assistente** per chiedere di "
        "nuovo a me.",
    },
    "handoff_cancelled": {
        "en": "OK, nothing was sent. Ask me anything, or say **talk to a person** whenever you want.",
        "it": "D'accordo, non ho inviato nulla. Chiedimi pure, o scrivi **parla con una persona** quando vuoi.",
    },
    "handoff_failed": {
        "en": "I couldn't save your case just now. Nothing is lost: please try **talk to a person** again in a minute.",
        "it": "Non sono riuscito a salvare il caso in questo momento. Non si è perso nulla: riprova **parla con "
        "una persona** tra un minuto.",
    },
    "handoff_forwarded": {
        "en": "Sent to support (case {ref}).",
        "it": "Inviato all'assistenza (caso {ref}).",
    },
    "handoff_already": {
        "en": "Your case **{ref}** is already with support ({status}). What you write now goes to them.",
        "it": "Il tuo caso **{ref}** è già all'assistenza ({status}). Quello che scrivi ora arriva a loro.",
    },
    "handoff_status": {
        "en": "Case **{ref}**: {status}. Opened {created}.",
        "it": "Caso **{ref}**: {status}. Aperto il {created}.",
    },
    "handoff_no_case": {
        "en": "You have no open support case in this conversation. Say **talk to a person** to open one.",
        "it": "Non hai casi di assistenza aperti in questa conversazione. Scrivi **parla con una persona** per "
        "aprirne uno.",
    },
    "handoff_back": {
        "en": "OK, you're talking to the assistant again. Your case **{ref}** stays open: support will still "
        "answer here.",
        "it": "D'accordo, stai di nuovo parlando con l'assistente. Il tuo caso **{ref}** resta aperto: "
        "l'assistenza risponderà comunque qui.",
    },
    "handoff_closed": {
        "en": "Your case **{ref}** was resolved, so you're talking to the assistant again.",
        "it": "Il tuo caso **{ref}** è stato risolto, quindi stai di nuovo parlando con l'assistente.",
    },
    "handoff_unavailable": {
        "en": "Hand-over to support isn't set up in this deployment. Ask your partner support team directly.",
        "it": "Il passaggio all'assistenza non è configurato in questa installazione. Contatta direttamente il "
        "team di supporto partner.",
    },
    "handoff_declined": {
        "en": "OK. Ask me anything else, or say **talk to a person** whenever you want.",
        "it": "D'accordo. Chiedimi pure altro, o scrivi **parla con una persona** quando vuoi.",
    },
    "case_open": {"en": "waiting for a support engineer", "it": "in attesa di un tecnico"},
    "case_taken": {"en": "{who} from support has it", "it": "lo sta seguendo {who} dell'assistenza"},
    "case_resolved": {"en": "resolved", "it": "risolto"},
    "case_taken_note": {
        "en": "**{who}** from support has your case **{ref}** and will answer here.",
        "it": "**{who}** dell'assistenza ha preso il tuo caso **{ref}** e ti risponderà qui.",
    },
    "case_reply": {"en": "**{who}** (support): {text}", "it": "**{who}** (assistenza): {text}"},
    "case_resolved_note": {
        "en": "**{who}** resolved your case **{ref}**.{note} How did support do?",
        "it": "**{who}** ha risolto il tuo caso **{ref}**.{note} Com'è andata con l'assistenza?",
    },
    "case_rated": {
        "en": "Thank you! Your rating was passed to the support team.",
        "it": "Grazie! La tua valutazione è stata inoltrata al team di assistenza.",
    },
}
