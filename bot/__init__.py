"""The host: the aiohttp app (`app`, `health`), the fixed CloudAdapter (`adapter`, with `inbound` and `bearer` on its
edge and the owned botbuilder fixes in `sdk/`), the bot (`handler`, `errors`, `identity`), settings, wiring, storage,
transcripts and the journal, the channels (`channels/`: Web Chat, Direct Line, Teams), telemetry (`telemetry`; the
OpenTelemetry SDK and the Azure Monitor exporter in `telemetry_export`, imported only when it is on) and the command
line (`cli`, `commands/`).

May import everything below it: `dialogs`, `assistant`, `tenant`, `knowledge`, botbuilder, aiohttp. Imported by
nothing in the product (it is the top layer); `devtools` and tests use it. Never imports `devtools` (import-linter).
"""

import dialogs  # noqa: F401,E402  (first: it makes botbuilder's date-time grammars load on first use, not at start-up)
