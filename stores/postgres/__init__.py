"""The PostgreSQL engine (`database.PostgresDatabase`): what several instances of the bot share, selected by
`COSELL_DATABASE_URL=postgresql://…`. The stores are the same as on SQLite (`stores.sql`)."""
