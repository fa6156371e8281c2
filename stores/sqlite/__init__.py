"""The SQLite engine: one embedded database file, in WAL mode, shared by every store of the process
(`database.SqliteDatabase`, the embedded default). The stores themselves are engine-neutral (`stores.sql`). Rows and
tables are the ones the bot always wrote: databases from earlier builds open unchanged (`stores.sql.schema`).
"""
