"""The running service: the HTTP API (`api`: intake and health), `serve` (the web
process, with the worker unless `--web-only`), the `worker` (SLA sweep, outbox sender,
digests) and the database as processes open it (`database`).

May import every package below it (config, handoffs, reports, messaging, crm, slack);
never `bot.sandbox` (development tooling) nor `bot.cli`.
"""
