"""Development tooling: a local Slack (`slack_api`), its web page (`web`), the demo stack
(the real app, worker and sandbox on one machine, `stack`), the clickable demo (`live`),
the scripted demo (`script`) and realistic sample leads (`samples`).

May import everything but `bot.cli`; nothing under `bot.runtime` imports it.
"""
