"""The stores, written once for both engines: state with e-tags, transcripts, the journal, cases and their outbox,
API call counts and the token cache's rows, each on a `database.Database` (SQLite or PostgreSQL), their tables
created and changed by the versioned migrations of `schema`; over all of them, the purge (`retention`) and the
erasure of one person's data (`erasure`)."""
