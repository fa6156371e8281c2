"""The `cosell-bot` sub-commands, one module per family, each adding its parsers with `register(sub)`: `serve`, the
`terminal` ones (chat, ask), the Teams app `package`, `diagnose` (diagnose, trace), `login`, `cases` and `retention`
(purge, forget); `common` holds what they share (settings or exit 2, the developer tools found through their entry
point, `--demo`).

Imported by `bot.cli`, which orders them; the developer tools' plugin (`devtools/plugin.py`) registers bench and
sandbox the same way and reuses `common`. Commands import the heavy parts of `bot` (the app, the assistant, the
live checks) only when they run.
"""
