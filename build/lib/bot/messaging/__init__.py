"""Messaging: the chat port (`port.ChatSurface`, what the sender needs from Slack or any
other chat surface) and the outbox sender with its delivery policy (`sender`).

The workflow never calls a chat surface: it writes outbox entries in the same
transaction as the change they announce; the sender sends them, in order per channel.
May import: `bot.config`, `bot.handoffs` (to draw a card), `bot.reports` (to draw the
digest's chart), `store`.
"""
