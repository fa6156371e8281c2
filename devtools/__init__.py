"""Developer tools, not part of the product: the benchmark (`bench`), the simulated tenant (`sandbox/`, its scenarios)
and `--demo` (live checks against that tenant). `cosell-bot` finds them through the `cosell_bot.devtools` entry point
(`devtools.plugin`), so nothing in the product imports them (import-linter contract); tests may."""
