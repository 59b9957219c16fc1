"""Lead hand-off: the application. The code map.

Packages, lowest first; each may import the ones above it in this list, never one below
(`scoring` and `store` sit under all of them; `store` never imports `bot`):

- `bot.resources`: the files shipped inside the package (templates, examples);
- `bot.config`: the TOML file an admin owns (file:line errors) and the environment;
- `bot.handoffs`: the workflow (intake, routing, assignment and moves, decisions,
  deadlines, the sweep, cards, a rep's queue, outcomes, the team). No Slack, no argparse,
  no print: it returns data and writes outbox entries;
- `bot.reports`: the digest, the revenue report, the chart, and number formatting;
- `bot.messaging`: the chat port and the outbox sender with its delivery policy;
- `bot.crm`: CRM connectors behind one port;
- `bot.slack`: the only importer of slack_bolt and slack_sdk (app, blocks, listeners,
  the chat port on Slack's Web API);
- `bot.runtime`: the HTTP API, `serve`, the worker, the database as processes open it;
- `bot.sandbox`: the local Slack, its page, the demo stack and scripted demo (development
  tooling: `bot.runtime` never imports it);
- `bot.cli`: the `handoff` command, one module per command group.

A lead's path: `runtime/api.py` -> `handoffs/inputs.py` -> `handoffs/intake.py` (scored by
`scoring/engine.py`) -> `handoffs/assignment.py` (rep, deadline, card queued) ->
`messaging/sender.py` -> `slack/surface.py` + `slack/blocks/cards.py` (the card) ->
`slack/listeners/decisions.py` -> `handoffs/decisions.py` (Accept / Reject) ->
`handoffs/sweep.py` (reminders, escalations) -> `reports/digest.py` (the week's numbers).
"""
