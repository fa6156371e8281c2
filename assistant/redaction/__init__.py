"""Secret redaction: the one place that decides what transcripts, the journal and the log may not keep.

`masking`: `redact(text)` masks credentials in free text with `MASK`; `redact_activity(raw)` drops secret-named keys
from a serialised activity and redacts every string in it; `redacted_json(raw)` is `json.dumps(redact_activity(raw))`,
skipping the walk when `may_hold_secret` finds nothing any rule could match in the activity's JSON.

`masking.RULES` is the table, a `rule.Rule` a row. Credential *shapes* are recognisable on their own (ghp_…, AKIA…,
sk-…, JWTs, private key blocks, `shapes`): the token shapes come from detect-secrets' regex plugins where those fit,
with owned patterns (each saying why) for what they lack or get wrong for masking. *Context* rules (`context`) mask
what a key, header or sentence announces: key=value and "key": "value" pairs, Authorization headers, bearer tokens,
URL userinfo, "my password is …", "la password è …". What must survive are the identifiers support needs: GUIDs,
flow run ids, AADSTS codes, 0x8007… HRESULTs, and sentences that only mention a password ("I forgot my password",
"la password è scaduta").

SDK-free, like all of `assistant`. Imported by `bot` (transcripts, the log formatter) and `stores` (transcripts,
journal).
"""
