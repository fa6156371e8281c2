"""`cosell-bot bench`: matcher, in-process turns, escalation turns, `/api/messages` over HTTP, the case card's way
to the support channel, memory and start-up in one run (`run.run_bench`), one module per section, the table in
`report`.

Every figure is printed next to its target and as a ratio to a baseline measured in the same run: a naive
rapidfuzz scan for the matcher, a bare botbuilder echo bot on the same `FixedCloudAdapter` for the turn, HTTP and
memory figures (over HTTP also the Microsoft 365 Agents SDK's echo agent and a bare aiohttp handler, `baselines`),
a FAQ turn for the escalation turns, the Send turn's own acknowledgement for the case card.
Targets the brief leaves open derive from the 1.5 ms CPU-per-turn budget (1 / 1.5 ms ≈ 667 turns/s).
Servers and memory probes run in spawned interpreters, so their CPU time and RSS are theirs alone; imports
are lazy, so a probe's start-up includes importing botbuilder. Auth is forced off: nothing leaves 127.0.0.1.

Imported by `devtools.plugin` (the `bench` sub-command) and tests; never by the product.
"""
