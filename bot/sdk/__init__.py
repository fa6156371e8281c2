"""Owned fixes of botbuilder 4.17 internals, together, each with its reason in its module: the activity JSON codec
(msrest's output without msrest's per-call cost), the turn context that copies replies shallowly and snapshots them
once, the state codec that encodes once per save (and the `Storage` adapter that gives botbuilder's state the
`StateStore` port of `assistant.ports`, `storage.py`), the connector and user-token clients built once instead of per
turn (and msrest's retry policy made cheap), and the OpenID signing-key cache that replaces botbuilder's blocking,
failure-blind fetch. botbuilder is archived: these go away with the move to the Microsoft 365 Agents SDK.
Imported by `bot/` only."""
