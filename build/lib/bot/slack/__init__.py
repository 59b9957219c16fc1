"""The Slack surface: the only package that imports slack_bolt or slack_sdk.

- `app`: the Bolt app (`create_app`), mounted at POST /slack/events or on Socket Mode;
- `listeners/`: buttons, the reject dialog, App Home, `/handoff`, each with `register(app)`;
- `blocks/`: Block Kit from the workflow's data; `text`: mrkdwn, mentions, date tokens;
- `surface`: the chat port on Slack's Web API (what the outbox sender calls);
- `ids`: every action, block and callback id; `deps`: what the listeners work with;
- `simulator`: Slack's side (signed clicks, commands, events) for the sandbox and tests.

May import: `bot.config`, `bot.handoffs`, `bot.reports`, `bot.messaging`, `store`.
"""
