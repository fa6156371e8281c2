"""The SQLite backend: one embedded database file, in WAL mode, shared by every store of the process.

`database.SqliteDatabase` owns the connection; `state`, `transcripts`, `journal`, `counters`, `token_cache` and
`cases` (support cases, their bundles and events, the delivery outbox) each keep their own tables in it. Every call
is short and local, so the stores run it synchronously on the event loop (`SqliteDatabase` says why). Rows and tables
are the ones the bot always wrote: databases from earlier builds open unchanged.
"""
