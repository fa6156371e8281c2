"""Usage analytics in Copilot Studio's vocabulary: `cosell-bot report` and `GET /admin/report`.

- `model`: what a turn leaves for analytics (`TurnFacts`, stored on the turn's incoming transcript row), what the
  store reads back for a window (`Window`) and the report's figures (`Report`);
- `figures`: the pure function from a `Window` to a `Report` — sessions engaged / resolved / escalated / abandoned,
  helpful % and escalation rate per entry and area, unanswered questions grouped, live-check failure rates;
- `render`: the report as text (the CLI) and `page`: as one self-contained HTML page with inline SVG charts (`svg`).

SDK-free. May import `assistant.redaction`, pydantic and rapidfuzz. Imported by `dialogs` (the turn's facts), `stores`
(the window, through `assistant.ports`) and `bot` (the command and the route).
"""
